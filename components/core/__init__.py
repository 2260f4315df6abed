"""Vocabulary shared by every component: names, GPU pools and how workloads land on them."""

"""Kubernetes building blocks every component uses: namespaces, Helm addons, values merging."""

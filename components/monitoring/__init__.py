"""Metrics plumbing of the platform's workloads: scrape paths (``scrape``, ``targets``), the
component that renders them with the GPU cost rules (``observability``), and the readiness check
that every alerted metric has a scrape path (``readiness``)."""

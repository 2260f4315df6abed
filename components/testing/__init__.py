"""Test helpers: conformance checks of rendered objects and Helm values against upstream schemas."""

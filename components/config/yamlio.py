"""YAML through libyaml where PyYAML was built with it (the wheels on PyPI are): the one place
that chooses PyYAML's C loader and dumper (stack files, chart sources, upstream CRDs, manifests).

PyYAML's C loader parses a stack file about 8x faster than its pure-Python one (177-line
``Pulumi.prod.yaml``: 2 ms against 16 ms), and one plan reads its stack file four times (the
strict check, the engine's config, the readiness facts, the summary). Both loaders build the same
documents with the same YAML 1.1 safe constructors; only their error messages differ, so
``gpu_platform.config.stackfile`` re-reads a file that fails with the pure-Python loader to keep
its messages.
"""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` with the C loader when there is one."""
    return yaml.load(text, Loader=SafeLoader)

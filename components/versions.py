"""Every pinned version the library deploys, in one place.

Each Helm chart version is a named constant beside a link to the upstream Chart.yaml it was read
from; nothing floats at deploy time ("latest" is never used). Raising a pin is a reviewed change:
bump the constant, read the chart's upgrade notes, run the tests (the conformance tests compare
rendered values against that chart version's values.yaml under ../shared/upstream/charts/).
"""

from __future__ import annotations

from dataclasses import dataclass

# Kubernetes minors the rendered core objects are validated against (kubernetes-validate, strict).
# The seed documents target clusters from v1.25 to v1.32; EKS standard support starts later.
KUBERNETES_MINORS: tuple[str, ...] = ("1.29", "1.30", "1.31", "1.32")


@dataclass(frozen=True)
class ChartPin:
    """A Helm chart at a pinned version, and where that version's Chart.yaml lives upstream."""

    repository: str
    chart: str
    version: str
    source: str

"""Name types and naming rules shared by all components (pure)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from gpu_platform.config.errors import PATTERN_HINTS

# A Kubernetes DNS-1123 label: names of pools, teams, datasets and networks become label values,
# namespace names and resource-name suffixes, so they must satisfy the strictest of those rules.
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
MAX_NAME_LENGTH = 40  # leaves room for suffixes such as "-ray-head" inside 63 characters

PATTERN_HINTS[DNS_LABEL_PATTERN] = (
    "must be a DNS label: lowercase letters, digits and '-', starting and ending with a letter "
    "or digit"
)

DnsLabel = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH, pattern=DNS_LABEL_PATTERN),
]
PositiveInt = Annotated[int, Field(ge=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]

# Label prefix for every label the library sets on nodes and objects it owns.
LABEL_PREFIX = "gpu-platform.io"
POOL_LABEL = f"{LABEL_PREFIX}/pool"
ROLE_LABEL = f"{LABEL_PREFIX}/role"
SYSTEM_LABEL = f"{LABEL_PREFIX}/node-class"  # "system" on the EKS system pool's nodes
MANAGED_BY_LABELS = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "gpu-platform"}


def child_name(parent: str, role: str) -> str:
    """Pulumi resource name of a component's child: ``f"{parent}-{role}"``."""
    return f"{parent}-{role}"

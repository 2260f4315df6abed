"""Typed outputs read back from the resources a component declares.

Names come from each object's ``metadata`` output rather than the input string, so whoever
wires them onward (a job naming a queue, a client resolving a Service) waits for the object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from gpu_platform.network.networks import object_metadata


def _name(metadata: Any) -> str:
    # typed resources resolve metadata to an ObjectMeta output type, CustomResource to a dict
    found = metadata.get("name") if isinstance(metadata, Mapping) else getattr(metadata, "name", None)
    return str(found)


def object_name(resource: pulumi.CustomResource) -> pulumi.Output[str]:
    """``metadata.name`` of a Kubernetes object resource."""
    return object_metadata(resource).apply(_name)


def object_namespace(resource: pulumi.CustomResource) -> pulumi.Output[str]:
    """``metadata.namespace`` of a namespaced Kubernetes object resource."""
    return object_metadata(resource).apply(
        lambda m: str(m.get("namespace") if isinstance(m, Mapping) else getattr(m, "namespace", None)))


def object_names(resources: Mapping[str, pulumi.CustomResource]) -> pulumi.Output[dict[str, str]]:
    """``metadata.name`` of each object, by the same keys."""
    keys = list(resources)
    names = [object_name(resources[key]) for key in keys]
    return pulumi.Output.all(*names).apply(lambda values: dict(zip(keys, values, strict=True)))

"""Declaring a rendered Kubernetes object as a Pulumi resource.

Components render custom resources as plain manifests (pure, testable, validated against the
upstream CRDs); this is the one place that turns such a manifest into a resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s


def custom_resource(
    resource_name: str, manifest: Mapping[str, Any], opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    """``manifest``: apiVersion, kind, metadata and spec (the fields a CustomResource carries)."""
    extra = sorted(set(manifest) - {"apiVersion", "kind", "metadata", "spec"})
    if extra:
        # pulumi-kubernetes' CustomResource sends only spec; anything else would be dropped
        raise ValueError(f"{manifest['kind']} {resource_name}: fields {extra} cannot be declared")
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version=manifest["apiVersion"],
        kind=manifest["kind"],
        metadata=manifest.get("metadata"),
        spec=manifest.get("spec"),
        opts=opts,
    )

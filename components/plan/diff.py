"""Comparing two plans: what a pull request would add, remove, replace or change.

Works on ``plan.json`` documents, so the base branch's plan and the pull request's can come from
different checkouts. "Replaced" means an input changed that forces the provider to replace the
resource: Kubernetes object names and namespaces, the ``replaceOnChanges`` a resource declares,
and the AWS properties below that the provider documents as forcing a new resource. An aliased
rename is a change, not a removal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from gpu_platform.plan.snapshot import alias_urns

# Input paths whose change replaces the resource (pulumi-aws "forces new resource" docs).
REPLACING_INPUTS: dict[str, tuple[str, ...]] = {
    "aws:eks/cluster:Cluster": ("name", "vpcConfig.subnetIds", "encryptionConfig", "kubernetesNetworkConfig"),
    "aws:eks/nodeGroup:NodeGroup": (
        "amiType", "capacityType", "instanceTypes", "subnetIds", "nodeGroupName", "nodeGroupNamePrefix",
        "diskSize", "remoteAccess",
    ),
    "aws:ec2/placementGroup:PlacementGroup": ("name", "strategy"),
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("cidrBlock", "availabilityZone", "vpcId"),
    "aws:s3/bucket:Bucket": ("bucket", "bucketPrefix"),
    "aws:kms/key:Key": ("customerMasterKeySpec", "keySpec"),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("replicationGroupId", "engine"),
    "aws:rds/instance:Instance": ("identifier", "engine", "dbName"),
}
KUBERNETES_REPLACING = ("metadata.name", "metadata.namespace")


@dataclass
class ResourceChange:
    kind: str  # added | removed | replaced | changed
    urn: str
    type: str
    paths: list[str] = field(default_factory=list)
    protected: bool = False


def changed_paths(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Dotted paths at which two input trees differ (leaves, or the first differing container)."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        paths: list[str] = []
        for key in sorted(set(before) | set(after)):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in before or key not in after:
                paths.append(path)
            else:
                paths.extend(changed_paths(before[key], after[key], path))
        return paths
    return [] if before == after else [prefix or "(root)"]


def _replaces(resource: Mapping[str, Any], paths: list[str]) -> bool:
    type_ = resource["type"]
    triggers = REPLACING_INPUTS.get(type_, ())
    if type_.startswith("kubernetes:") and not type_.startswith("kubernetes:helm.sh/"):
        triggers = (*triggers, *KUBERNETES_REPLACING)
    triggers = (*triggers, *resource.get("replace_on_changes", ()))
    return any(p == t or p.startswith(f"{t}.") or p.startswith(f"{t}[") for p in paths for t in triggers)


def diff_plans(base: Mapping[str, Any], head: Mapping[str, Any]) -> list[ResourceChange]:
    before = {r["urn"]: r for r in base["resources"]}
    after = {r["urn"]: r for r in head["resources"]}
    renamed: dict[str, str] = {}  # old URN -> new URN, through aliases
    for urn, resource in after.items():
        for old in alias_urns(SimpleNamespace(**resource)):
            if old in before and old not in after:
                renamed[old] = urn
    changes: list[ResourceChange] = []
    for urn in sorted(set(after) - set(before)):
        if urn not in renamed.values():
            changes.append(ResourceChange("added", urn, after[urn]["type"]))
    for urn in sorted(set(before) - set(after)):
        if urn not in renamed:
            resource = before[urn]
            changes.append(ResourceChange("removed", urn, resource["type"], protected=resource["protect"]))
    pairs = [(urn, urn) for urn in sorted(set(before) & set(after))] + sorted(renamed.items())
    for old, new in pairs:
        paths = changed_paths(before[old]["inputs"], after[new]["inputs"])
        if old != new:
            paths = ["(renamed, aliased)", *paths]
        for option in ("protect", "retain_on_delete", "delete_before_replace"):
            if before[old][option] != after[new][option]:
                paths.append(f"(option {option}: {before[old][option]} -> {after[new][option]})")
        if not paths:
            continue
        kind = "replaced" if _replaces(after[new], paths) else "changed"
        changes.append(ResourceChange(kind, new, after[new]["type"], paths, protected=before[old]["protect"]))
    return changes


def to_markdown(changes: list[ResourceChange], title: str) -> str:
    """A pull-request summary: counts, then one table row per changed resource."""
    kinds = ("added", "removed", "replaced", "changed")
    counts = {kind: sum(c.kind == kind for c in changes) for kind in kinds}
    lines = [f"### {title}", ""]
    if not changes:
        return "\n".join([*lines, "No changes.", ""])
    lines.append(", ".join(f"**{n}** {kind}" for kind, n in counts.items()))
    danger = [c for c in changes if c.kind in ("removed", "replaced") and c.protected]
    if danger:
        lines += ["", f":warning: {len(danger)} protected resource(s) would be removed or replaced."]
    lines += ["", "| change | type | name | inputs |", "|---|---|---|---|"]
    for change in changes:
        name = change.urn.rsplit("::", 1)[-1]
        paths = ", ".join(f"`{p}`" for p in change.paths[:8])
        if len(change.paths) > 8:
            paths += f" (+{len(change.paths) - 8})"
        lines.append(f"| {change.kind} | `{change.type}` | `{name}` | {paths} |")
    return "\n".join([*lines, ""])

"""Comparing two plans: what a pull request would add, remove, replace or change.

Works on ``plan.json`` documents, so the base branch's plan and the pull request's can come from
different checkouts. "Replaced" means an input changed that forces the provider to replace the
resource: Kubernetes object names and namespaces, the ``replaceOnChanges`` a resource declares,
and the AWS properties below that the provider documents as forcing a new resource. An aliased
rename is a change, not a removal.

Each changed input is shown with its old and new value (``"[secret]"`` stays as the plan wrote
it: plan.json never holds a secret's value). Resources whose removal or replacement loses data
(protected or retained) and replacements come first. Plans of two different stacks are refused
(``DifferentStacksError``) unless the caller allows it, then the summary says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

from gpu_platform.plan.capture import SECRET
from gpu_platform.plan.snapshot import alias_urns

if TYPE_CHECKING:
    from gpu_platform.plan.capture import Registration

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


ABSENT = object()  # a key present on one side only
_VALUE_WIDTH = 60


class DifferentStacksError(ValueError):
    """The two plans belong to different projects or stacks."""


@dataclass
class ResourceChange:
    kind: str  # added | removed | replaced | changed
    urn: str
    type: str
    paths: list[str] = field(default_factory=list)
    protected: bool = False
    retained: bool = False
    values: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # path -> (old, new)

    @property
    def guarded(self) -> bool:
        """Protected or retained: removing or replacing it is a data-safety decision."""
        return self.protected or self.retained


def changed_values(before: Any, after: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(path, old, new) for each leaf at which two input trees differ; ``ABSENT`` marks a missing
    side. Maps recurse by key (``a.b``), lists of equal length by index (``a[0]``)."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        found: list[tuple[str, Any, Any]] = []
        for key in sorted(set(before) | set(after)):
            path = f"{prefix}.{key}" if prefix else str(key)
            found.extend(changed_values(before.get(key, ABSENT), after.get(key, ABSENT), path))
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        found = []
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            found.extend(changed_values(old, new, f"{prefix}[{index}]"))
        return found
    return [] if before == after else [(prefix or "(root)", before, after)]


def changed_paths(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Dotted paths at which two input trees differ (leaves, or the first differing container)."""
    return [path for path, _old, _new in changed_values(before, after, prefix)]


def _replaces(resource: Mapping[str, Any], paths: list[str]) -> bool:
    type_ = resource["type"]
    triggers = REPLACING_INPUTS.get(type_, ())
    if type_.startswith("kubernetes:") and not type_.startswith("kubernetes:helm.sh/"):
        triggers = (*triggers, *KUBERNETES_REPLACING)
    triggers = (*triggers, *resource.get("replace_on_changes", ()))
    return any(p == t or p.startswith(f"{t}.") or p.startswith(f"{t}[") for p in paths for t in triggers)


def check_same_stack(base: Mapping[str, Any], head: Mapping[str, Any]) -> str | None:
    """None when both plans are of one project and stack, else a sentence saying how they differ."""
    old = f"{base.get('project')}/{base.get('stack')}"
    new = f"{head.get('project')}/{head.get('stack')}"
    if old == new:
        return None
    return f"the plans are of different stacks: base {old}, head {new}"


def _rank(change: ResourceChange) -> int:
    if change.guarded and change.kind in ("removed", "replaced"):
        return 0
    return {"replaced": 1, "removed": 2, "changed": 3, "added": 4}[change.kind]


def diff_plans(
    base: Mapping[str, Any], head: Mapping[str, Any], *, allow_different_stacks: bool = False
) -> list[ResourceChange]:
    """The changes from ``base`` to ``head``, dangerous ones first (see ``_rank``)."""
    different = check_same_stack(base, head)
    if different and not allow_different_stacks:
        raise DifferentStacksError(
            f"{different}; every resource would show as removed and added. Compare two plans of "
            "one stack, or pass --allow-different-stacks"
        )
    before = {r["urn"]: r for r in base["resources"]}
    after = {r["urn"]: r for r in head["resources"]}
    renamed: dict[str, str] = {}  # old URN -> new URN, through aliases
    for urn, resource in after.items():
        # alias_urns reads urn, name, type, parent and aliases: a plan.json entry has them all
        for old in alias_urns(cast("Registration", SimpleNamespace(**resource))):
            if old in before and old not in after:
                renamed[old] = urn
    changes: list[ResourceChange] = []
    for urn in sorted(set(after) - set(before)):
        if urn not in renamed.values():
            changes.append(ResourceChange("added", urn, after[urn]["type"]))
    for urn in sorted(set(before) - set(after)):
        if urn not in renamed:
            resource = before[urn]
            changes.append(ResourceChange(
                "removed", urn, resource["type"], protected=resource["protect"],
                retained=resource.get("retain_on_delete", False),
            ))
    pairs = [(urn, urn) for urn in sorted(set(before) & set(after))] + sorted(renamed.items())
    for old, new in pairs:
        values = {path: (o, n) for path, o, n in changed_values(before[old]["inputs"], after[new]["inputs"])}
        paths = list(values)
        if old != new:
            paths = ["(renamed, aliased)", *paths]
        for option in ("protect", "retain_on_delete", "delete_before_replace"):
            if before[old][option] != after[new][option]:
                paths.append(f"(option {option}: {before[old][option]} -> {after[new][option]})")
        if not paths:
            continue
        kind = "replaced" if _replaces(after[new], paths) else "changed"
        changes.append(ResourceChange(
            kind, new, after[new]["type"], paths, protected=before[old]["protect"],
            retained=before[old].get("retain_on_delete", False), values=values,
        ))
    return sorted(changes, key=_rank)  # stable: by URN within a rank


def format_value(value: Any) -> str:
    """A short one-line rendering: JSON for data, ``(absent)`` for a missing key."""
    if value is ABSENT:
        return "(absent)"
    if value == SECRET:
        return SECRET
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"


def format_change(old: Any, new: Any) -> tuple[str, str]:
    """Both values; two long strings are cut around their first difference so it stays visible."""
    if isinstance(old, str) and isinstance(new, str) and old != SECRET and new != SECRET:
        pairs = enumerate(zip(old, new, strict=False))
        start = next((i for i, (a, b) in pairs if a != b), min(len(old), len(new)))
        if max(len(old), len(new)) > _VALUE_WIDTH - 2 and start > 20:
            old, new = "…" + old[start - 20:], "…" + new[start - 20:]
    return format_value(old), format_value(new)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")


def to_markdown(
    changes: list[ResourceChange],
    title: str,
    *,
    base: Mapping[str, Any] | None = None,
    head: Mapping[str, Any] | None = None,
    max_paths: int = 8,
) -> str:
    """A pull-request summary: counts, warnings, then one table row per changed resource with
    ``path: old -> new`` for each changed input."""
    kinds = ("added", "removed", "replaced", "changed")
    counts = {kind: sum(c.kind == kind for c in changes) for kind in kinds}
    lines = [f"### {title}", ""]
    different = check_same_stack(base, head) if base is not None and head is not None else None
    if different:
        lines += [f":warning: {different}: removals and additions below are expected.", ""]
    if not changes:
        return "\n".join([*lines, "No changes.", ""])
    lines.append(", ".join(f"**{n}** {kind}" for kind, n in counts.items()))
    danger = [c for c in changes if c.kind in ("removed", "replaced") and c.guarded]
    if danger:
        lines += ["", f":warning: {len(danger)} protected or retained resource(s) would be removed or "
                  "replaced."]
    lines += ["", "| change | type | name | guard | inputs (old → new) |", "|---|---|---|---|---|"]
    for change in changes:
        name = change.urn.rsplit("::", 1)[-1]
        flags = (("protected", change.protected), ("retained", change.retained))
        guard = ", ".join(flag for flag, on in flags if on)
        shown = []
        for path in change.paths[:max_paths]:
            if path in change.values:
                old, new = format_change(*change.values[path])
                shown.append(f"`{_cell(path)}`: `{_cell(old)}` → `{_cell(new)}`")
            else:
                shown.append(f"`{_cell(path)}`")
        if len(change.paths) > max_paths:
            shown.append(f"(+{len(change.paths) - max_paths} more)")
        lines.append(f"| {change.kind} | `{change.type}` | `{name}` | {guard} | {'<br>'.join(shown)} |")
    return "\n".join([*lines, ""])

"""URN snapshots: the compatibility promise, checked.

A snapshot records, per environment, every resource's URN and the options that guard data
(``protect``, ``retain_on_delete``). ``check_snapshot`` compares a new plan with it: a URN that
disappears without an alias pointing back at it would make ``pulumi up`` delete and recreate the
resource, and a guard that is dropped would leave data unprotected. Both are failures; so is a
new URN, until the snapshot is deliberately refreshed (``gpu-platform snapshot``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from gpu_platform.plan.capture import ROOT_STACK_TYPE
from gpu_platform.plan.model import Plan

SNAPSHOT_PATH = Path("tests") / "snapshots" / "urns.json"
REFRESH_COMMAND = "gpu-platform snapshot"


@dataclass(frozen=True)
class SnapshotEntry:
    urn: str
    protect: bool
    retain_on_delete: bool

    def to_dict(self) -> dict[str, Any]:
        return {"urn": self.urn, "protect": self.protect, "retain_on_delete": self.retain_on_delete}


def snapshot_of(plan: Plan) -> list[SnapshotEntry]:
    return sorted(
        (SnapshotEntry(r.urn, r.protect, r.retain_on_delete) for r in plan.resources),
        key=lambda e: e.urn,
    )


def write_snapshot(path: Path, plans: Mapping[str, Plan]) -> None:
    # one entry per line: a review shows exactly which URNs and guards a change touches
    blocks = []
    for env, plan in sorted(plans.items()):
        rows = ",\n".join(f"    {json.dumps(e.to_dict())}" for e in snapshot_of(plan))
        blocks.append(f"  {json.dumps(env)}: [\n{rows}\n  ]")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{\n" + ",\n".join(blocks) + "\n}\n")


def read_snapshot(path: Path) -> dict[str, list[SnapshotEntry]]:
    document = json.loads(path.read_text())
    return {env: [SnapshotEntry(**entry) for entry in entries] for env, entries in document.items()}


class Aliased(Protocol):
    """What ``alias_urns`` reads: a ``Registration``, or a resource read back from plan.json."""

    urn: str
    type: str
    name: str
    parent: str | None
    aliases: list[Any]


def alias_urns(resource: Aliased) -> list[str]:
    """The URNs a resource's aliases name (full URNs, or specs resolved the engine's way)."""
    stack, project = resource.urn.split("::")[0].removeprefix("urn:pulumi:"), resource.urn.split("::")[1]
    urns = []
    for alias in resource.aliases:
        if isinstance(alias, str):
            urns.append(alias)
            continue
        name = alias.get("name") or resource.name
        type_ = alias.get("type") or resource.type
        parent = None if alias.get("noParent") else alias.get("parentUrn") or resource.parent
        alias_stack = alias.get("stack") or stack
        alias_project = alias.get("project") or project
        urns.append(_urn(alias_stack, alias_project, parent, type_, name))
    return urns


def _urn(stack: str, project: str, parent: str | None, type_: str, name: str) -> str:
    if parent:
        parent_type = parent.split("::")[2]
        if parent_type != ROOT_STACK_TYPE:
            type_ = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


def check_snapshot(env: str, recorded: Iterable[SnapshotEntry], plan: Plan) -> list[str]:
    """Every way ``plan`` breaks the recorded promise for ``env``, one line each."""
    current = {r.urn: r for r in plan.resources}
    aliased = {urn: r.urn for r in plan.resources for urn in alias_urns(r)}
    recorded = list(recorded)
    known = {e.urn for e in recorded}
    problems = []
    for entry in recorded:
        resource = current.get(entry.urn)
        if resource is None and entry.urn in aliased:
            resource = current[aliased[entry.urn]]
        if resource is None:
            problems.append(
                f"{env}: URN disappeared (pulumi up would delete and recreate it): {entry.urn}; "
                f"add an alias to the resource that replaces it, or refresh with {REFRESH_COMMAND}"
            )
            continue
        if entry.protect and not resource.protect:
            problems.append(f"{env}: protect was dropped from {entry.urn}")
        if entry.retain_on_delete and not resource.retain_on_delete:
            problems.append(f"{env}: retain_on_delete was dropped from {entry.urn}")
    for urn in sorted(set(current) - known):
        if not any(a in known for a in alias_urns(current[urn])):
            problems.append(f"{env}: new URN not in the snapshot: {urn}; refresh with {REFRESH_COMMAND}")
    return problems

"""Readiness analysis: rules over a plan that ask "would this work on the cluster on day one?".

The engine is generic. A *rule* is a pure function from a ``ReadinessInput`` (the plan's
Kubernetes objects, its Helm releases, objects rendered from chart sources, and the facts about
the cluster the program cannot see) to ``Finding``s. Which rules run, and what the facts are, is
domain policy the caller passes in (this project's is ``gpu_platform.readiness``).

Findings are serialised into ``plan.json`` as ``"findings": [{"rule", "severity", "resource",
"message"}]``; ``gpu-platform plan`` exits 3 when any finding is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from gpu_platform.plan.model import Plan, helm_release_manifest

Severity = Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning")


@dataclass(frozen=True, order=True)
class Finding:
    """One thing that would not work: which rule, how bad, on which resource, and why."""

    rule: str
    severity: Severity
    resource: str  # "Kind/namespace/name" of the object (or "helm/<ns>/<release>")
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "severity": self.severity, "resource": self.resource,
                "message": self.message}


@dataclass(frozen=True)
class Allocatable:
    """What one node offers to pods (capacity minus the reserve kubelet and system daemons keep)."""

    cpu_millis: int | None  # None: unknown (not checked)
    memory_bytes: int | None
    gpus: int  # nvidia.com/gpu the device plugin advertises (after time-slicing/MIG)


@dataclass(frozen=True)
class NodePool:
    """A group of identical nodes as the scheduler sees them."""

    name: str
    labels: Mapping[str, str]
    taints: Sequence[Mapping[str, str]]  # {"key", "value", "effect"}
    allocatable: Allocatable | None = None  # None: unknown (the check on requests is skipped)
    gpu: bool = False


@dataclass(frozen=True)
class StorageClassFact:
    """A StorageClass that exists on the cluster without the plan creating it."""

    name: str
    provisioner: str
    default: bool = False


@dataclass(frozen=True)
class ClusterFacts:
    """What the cluster brings that the plan does not create (declared by the environment)."""

    pools: Sequence[NodePool] = ()
    storage_classes: Sequence[StorageClassFact] = ()
    csi_drivers: frozenset[str] = frozenset()  # CSI drivers present without the plan
    network_policy_enforced: bool = False  # the CNI enforces NetworkPolicies on its own


@dataclass
class ReadinessInput:
    """Everything a rule may read. ``objects`` are the plan's own Kubernetes objects followed by
    the objects rendered from chart sources (``charts_rendered``)."""

    plan: Plan
    facts: ClusterFacts
    objects: list[dict[str, Any]]
    helm_releases: list[dict[str, Any]]
    charts_rendered: bool = False
    # rendered object index -> the Helm release it came from ("<namespace>/<release>")
    rendered_from: dict[int, str] = field(default_factory=dict)

    @classmethod
    def from_plan(cls, plan: Plan, facts: ClusterFacts,
                  rendered: Mapping[str, Sequence[dict[str, Any]]] | None = None) -> ReadinessInput:
        """``rendered``: objects per Helm release ("<namespace>/<release>") from a chart renderer."""
        objects = plan.kubernetes_objects()
        origin: dict[int, str] = {}
        for release, docs in (rendered or {}).items():
            for doc in docs:
                origin[len(objects)] = release
                objects.append(doc)
        releases = [helm_release_manifest(r) for r in plan.helm_releases()]
        return cls(plan, facts, objects, releases, rendered is not None, origin)

    def origin(self, index: int) -> str | None:
        return self.rendered_from.get(index)


Rule = Callable[[ReadinessInput], Iterable[Finding]]


def analyse(subject: ReadinessInput, rules: Iterable[Rule]) -> list[Finding]:
    """Run every rule; findings sorted (errors first) and deduplicated."""
    found: set[Finding] = set()
    for rule in rules:
        found.update(rule(subject))
    return sorted(found, key=lambda f: (SEVERITIES.index(f.severity), f.rule, f.resource, f.message))


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


def findings_json(findings: Iterable[Finding]) -> list[dict[str, str]]:
    return [f.to_dict() for f in findings]


def format_findings(findings: Sequence[Finding], *, charts_rendered: bool) -> str:
    """The summary's readiness section."""
    errors = sum(f.severity == "error" for f in findings)
    lines = [f"\nReadiness: {errors} error(s), {len(findings) - errors} warning(s)"]
    if not charts_rendered:
        lines.append("  chart contents were not analysed (only their values); "
                     "render them with --charts DIR")
    lines.extend(f"  {f.severity:<7} {f.rule:<10} {f.resource}: {f.message}" for f in findings)
    return "\n".join(lines) + "\n"


def object_id(obj: Mapping[str, Any]) -> str:
    """``Kind/namespace/name`` (``Kind/name`` for cluster-scoped objects)."""
    meta = obj.get("metadata") or {}
    parts = [obj.get("kind", "?"), meta.get("namespace"), meta.get("name", "?")]
    return "/".join(str(p) for p in parts if p)


__all__ = [
    "Allocatable", "ClusterFacts", "Finding", "NodePool", "ReadinessInput", "Rule", "Severity",
    "StorageClassFact", "analyse", "findings_json", "format_findings", "has_errors", "object_id",
]

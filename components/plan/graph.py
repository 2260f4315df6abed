"""The deploy graph of a plan, and how long ``pulumi up`` would take along its critical path.

The engine creates resources in parallel, each as soon as everything it waits for exists. A
resource waits for:

- its explicit ``dependencies`` (``depends_on``) and ``property_dependencies`` (outputs it reads);
- its provider resource;
- a custom-resource parent (the child's registration needs the parent's URN, which the engine
  returns only once the parent is created);
- the dependencies of every component it is nested in (a component registers only after its own
  dependencies resolve, and its children need its URN).

A component creates nothing itself: it is complete when all its children are, so depending on a
component means waiting for all of its descendants (Pulumi's ``depends_on`` on a
ComponentResource). Durations are estimates from a ``PlanPolicy`` (this library's table is in
``gpu_platform.policy``), not measurements of one run.
"""

from __future__ import annotations

from dataclasses import dataclass

from gpu_platform.plan.capture import Registration
from gpu_platform.plan.model import Plan
from gpu_platform.plan.policy import (
    COMPONENT_DURATION,
    DEFAULT_DURATION,
    Duration,
    PlanPolicy,
    resolve,
)

__all__ = [
    "COMPONENT_DURATION",
    "DEFAULT_DURATION",
    "CriticalPath",
    "DeployGraph",
    "Duration",
    "Step",
    "critical_path",
    "format_critical_path",
    "resource_duration",
]


def resource_duration(resource: Registration, policy: PlanPolicy | None = None) -> Duration:
    """The estimate for one resource under ``policy`` (default: the installed libraries')."""
    return resolve(policy).duration(resource)


@dataclass(frozen=True)
class Step:
    urn: str
    type: str
    name: str
    seconds: float  # this resource's own duration
    finish: float  # when it is done, counting from the start of the deploy


@dataclass(frozen=True)
class CriticalPath:
    seconds: float
    serial_seconds: float  # one resource at a time
    chain: tuple[Step, ...]  # first to last


class DeployGraph:
    """Who waits for whom, over one plan's resources (keyed by URN)."""

    def __init__(self, plan: Plan):
        self.resources: dict[str, Registration] = {r.urn: r for r in plan.resources}
        children: dict[str, list[str]] = {}
        for r in plan.resources:
            if r.parent in self.resources:
                children.setdefault(r.parent, []).append(r.urn)
        self.children = children
        inherited: dict[str, frozenset[str]] = {}

        def inherited_deps(urn: str) -> frozenset[str]:
            # what a resource and its descendants wait for because of this resource's options
            if urn not in inherited:
                r = self.resources[urn]
                own = set(self._own_deps(r))
                parent = self.resources.get(r.parent or "")
                if parent is not None and not parent.custom:
                    own |= inherited_deps(parent.urn)
                inherited[urn] = frozenset(own)
            return inherited[urn]

        self.waits_for: dict[str, frozenset[str]] = {}
        for urn, r in self.resources.items():
            deps = set(inherited_deps(urn))
            if not r.custom:
                deps |= set(children.get(urn, ()))
            deps.discard(urn)
            self.waits_for[urn] = frozenset(deps)

    def _own_deps(self, r: Registration) -> set[str]:
        deps = set(r.dependencies)
        for urns in r.property_dependencies.values():
            deps.update(urns)
        if r.provider:
            deps.add(r.provider)
        parent = self.resources.get(r.parent or "")
        if parent is not None and parent.custom:
            deps.add(parent.urn)
        return {d for d in deps if d in self.resources}  # the root stack and outside URNs: ignored

    def ancestors(self, urn: str) -> set[str]:
        """Everything ``urn`` transitively waits for."""
        seen: set[str] = set()
        stack = list(self.waits_for[urn])
        while stack:
            dep = stack.pop()
            if dep not in seen:
                seen.add(dep)
                stack.extend(self.waits_for[dep])
        return seen

    def order(self) -> list[str]:
        """URNs with every resource after all it waits for; a cycle is an error naming it."""
        done: dict[str, bool] = {}  # False: in progress
        result: list[str] = []
        for root in sorted(self.resources):
            if root in done:
                continue
            stack: list[tuple[str, list[str]]] = [(root, sorted(self.waits_for[root]))]
            done[root] = False
            while stack:
                urn, pending = stack[-1]
                if pending:
                    dep = pending.pop()
                    if done.get(dep) is False:
                        raise ValueError(f"dependency cycle through {dep}")
                    if dep not in done:
                        done[dep] = False
                        stack.append((dep, sorted(self.waits_for[dep])))
                else:
                    stack.pop()
                    done[urn] = True
                    result.append(urn)
        return result


def critical_path(plan: Plan, policy: PlanPolicy | None = None) -> CriticalPath:
    """The longest chain of waits through the plan, its length, and the one-at-a-time total.

    Durations come from ``policy`` (default: the installed libraries', see ``plan.policy``)."""
    graph = DeployGraph(plan)
    rules = resolve(policy)
    own = {urn: rules.duration(r).seconds for urn, r in graph.resources.items()}
    finish: dict[str, float] = {}
    before: dict[str, str | None] = {}
    for urn in graph.order():
        # ties go to the smallest URN so the reported chain is stable
        last = max(sorted(graph.waits_for[urn]), key=lambda d: finish[d], default=None)
        before[urn] = last
        finish[urn] = (finish[last] if last else 0) + own[urn]
    if not finish:
        return CriticalPath(0, 0, ())
    end = max(sorted(finish), key=lambda u: finish[u])
    chain: list[Step] = []
    cursor: str | None = end
    while cursor is not None:
        r = graph.resources[cursor]
        chain.append(Step(cursor, r.type, r.name, own[cursor], finish[cursor]))
        cursor = before[cursor]
    return CriticalPath(finish[end], sum(own.values()), tuple(reversed(chain)))


def format_critical_path(path: CriticalPath, top: int = 8) -> str:
    """Critical path vs serial sum, then the slowest links of the chain in order."""
    lines = [
        f"Deploy time estimate: critical path {_minutes(path.seconds)}, "
        f"serial sum {_minutes(path.serial_seconds)}"
    ]
    links = [s for s in path.chain if s.seconds > 0]
    shown = {id(s) for s in sorted(links, key=lambda s: -s.seconds)[:top]}
    for step in links:
        if id(step) in shown:
            lines.append(f"  {_minutes(step.finish):>9}  +{step.seconds:>4.0f}s  {step.type}  {step.name}")
    if len(links) > top:
        lines.append(f"  ({len(links) - top} shorter links not shown)")
    return "\n".join(lines) + "\n"


def _minutes(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"

"""What the generic plan engine is told about a library's resources: prices, durations, guards.

The engine (``capture``, ``runner``, ``graph``, ``cost``, ``safety``) knows Pulumi and
Kubernetes, never a library's domain: which instance types cost what, how long a chart takes to
install, which resource types hold data. A library describes that in a ``PlanPolicy`` and
registers it under the entry-point group ``gpu_platform.plan_policy``; ``default_policy()``
merges every registered policy (this library's is ``gpu_platform.policy:POLICY``). Callers can
always pass a policy explicitly instead (``critical_path(plan, policy)``, ``guard_problems(plan,
policy)``, ...), which is how tests and other libraries plan with rules of their own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import entry_points
from typing import Any

from gpu_platform.plan.capture import Registration

ENTRY_POINT_GROUP = "gpu_platform.plan_policy"


@dataclass(frozen=True)
class Guard:
    """The options a stateful resource must carry, and why (shown in every problem)."""

    protect: bool
    retain_on_delete: bool
    why: str


@dataclass(frozen=True)
class Duration:
    """How long creating one resource of a type takes. ``match`` ending in ``*`` is a prefix."""

    match: str
    seconds: float
    source: str

    def matches(self, type_: str) -> bool:
        return self.match == type_ or (self.match.endswith("*") and type_.startswith(self.match[:-1]))


@dataclass(frozen=True)
class UnitPrice:
    """A price per unit other than an instance-hour (e.g. per GB-month of a volume type)."""

    usd: float
    unit: str
    source: str


@dataclass(frozen=True)
class Price:
    """On-demand list price of one instance type per hour (None: no list price), with its source."""

    usd_hour: float | None
    source: str


DurationRule = Callable[[Registration], Duration | None]
GuardRule = Callable[[Registration], Guard | None]

DEFAULT_DURATION = Duration("*", 30, "unknown type: a cautious guess for a cloud API create")
COMPONENT_DURATION = Duration("component", 0, "components create nothing; they wait for children")


@dataclass(frozen=True)
class PlanPolicy:
    """Domain knowledge for the plan engine. Rules are consulted before tables; first answer wins.

    - ``prices``: instance type -> ``Price`` (node pool cost);
    - ``pool_labels``: node labels naming a node group's pool, first found wins;
    - ``durations``/``duration_rules``: deploy time per type, or per resource (a chart);
    - ``stateful``/``stateless``: every resource type's data class; ``guard_rules`` decide per
      resource (a Helm release by its chart) and return None for "holds no data";
    - ``classified_by_rules``: types ``guard_rules`` are responsible for (so they count as
      classified even without a table entry);
    - ``upstream_charts``/``upstream_crds``: the upstream truth at the pinned versions that
      ``gpu-platform upstream fetch`` downloads.
    """

    name: str
    prices: Mapping[str, Price] = field(default_factory=dict)
    pool_labels: tuple[str, ...] = ()
    durations: tuple[Duration, ...] = ()
    duration_rules: tuple[DurationRule, ...] = ()
    stateful: Mapping[str, Guard] = field(default_factory=dict)
    stateless: frozenset[str] = frozenset()
    guard_rules: tuple[GuardRule, ...] = ()
    classified_by_rules: frozenset[str] = frozenset()
    # what ``gpu-platform upstream fetch`` downloads: pinned charts and operators' CRD files
    upstream_charts: tuple[Any, ...] = ()  # each a plan.upstream.ChartSource
    upstream_crds: tuple[Any, ...] = ()  # each a plan.upstream.CrdSource
    # answers for data sources (invoke token -> answer) the domain's programs call offline
    invokes: Mapping[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = field(default_factory=dict)
    # ``gpu-platform plan``'s readiness analysis: called as readiness(plan, project_dir=,
    # stack=, config_path=, charts_dir=, cache_dir=), returning an object with ``findings``
    # (plan.readiness.Finding), ``rendered`` (plan.charts.RenderedRelease) and ``charts_rendered``
    readiness: Callable[..., Any] | None = None
    # ``gpu-platform versions``: (report text, number of flagged pins) as of a date
    pins_report: Callable[[date], tuple[str, int]] | None = None
    # the plan summary (``plan.summary``): fixed costs per resource (each rule yields
    # plan.summary.FixedCost), $/GB-month by volume type, provisioners of priced block volumes
    # (-> their default volume type), and the stack's facts, called as
    # summary_facts(plan, project_dir=, stack=, config_path=) -> plan.summary.SummaryFacts
    cost_rules: tuple[Callable[[Registration], Iterable[Any]], ...] = ()
    storage_prices: Mapping[str, UnitPrice] = field(default_factory=dict)
    block_provisioners: Mapping[str, str] = field(default_factory=dict)
    summary_facts: Callable[..., Any] | None = None

    def price(self, instance_type: str) -> float | None:
        found = self.prices.get(instance_type)
        return None if found is None else found.usd_hour

    def duration(self, resource: Registration) -> Duration:
        """Components 0; then the first rule with an answer; then the type table; else a guess."""
        if not resource.custom:
            return COMPONENT_DURATION
        for rule in self.duration_rules:
            answer = rule(resource)
            if answer is not None:
                return answer
        for row in self.durations:
            if row.matches(resource.type):
                return row
        return DEFAULT_DURATION

    def classifies(self, type_: str) -> bool:
        return type_ in self.stateful or type_ in self.stateless or type_ in self.classified_by_rules

    def guard(self, resource: Registration) -> Guard | None:
        """The guard a resource needs, or None when it holds no data."""
        if resource.type in self.classified_by_rules:
            for rule in self.guard_rules:
                answer = rule(resource)
                if answer is not None:
                    return answer
            return None
        return self.stateful.get(resource.type)

    def merged(self, other: PlanPolicy) -> PlanPolicy:
        """Both policies; where both answer, ``self`` wins (tables) or goes first (rules)."""
        return PlanPolicy(
            name=f"{self.name}+{other.name}",
            prices={**other.prices, **self.prices},
            pool_labels=(*self.pool_labels, *other.pool_labels),
            durations=(*self.durations, *other.durations),
            duration_rules=(*self.duration_rules, *other.duration_rules),
            stateful={**other.stateful, **self.stateful},
            stateless=self.stateless | other.stateless,
            guard_rules=(*self.guard_rules, *other.guard_rules),
            classified_by_rules=self.classified_by_rules | other.classified_by_rules,
            upstream_charts=(*self.upstream_charts, *other.upstream_charts),
            upstream_crds=(*self.upstream_crds, *other.upstream_crds),
            invokes={**other.invokes, **self.invokes},
            readiness=self.readiness or other.readiness,
            pins_report=self.pins_report or other.pins_report,
            cost_rules=(*self.cost_rules, *other.cost_rules),
            storage_prices={**other.storage_prices, **self.storage_prices},
            block_provisioners={**other.block_provisioners, **self.block_provisioners},
            summary_facts=self.summary_facts or other.summary_facts,
        )


#: Knows nothing: every type unclassified, every create a 30 s guess, nothing priced.
GENERIC = PlanPolicy("generic")


def combine(policies: Iterable[PlanPolicy]) -> PlanPolicy:
    result: PlanPolicy | None = None
    for policy in policies:
        result = policy if result is None else result.merged(policy)
    return result or GENERIC


def installed_policies() -> list[PlanPolicy]:
    """Every policy registered under ``ENTRY_POINT_GROUP``, by entry-point name."""
    found: list[PlanPolicy] = []
    seen: set[str] = set()
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: (p.name, p.value)):
        if point.value in seen:
            continue
        seen.add(point.value)
        policy = point.load()
        if not isinstance(policy, PlanPolicy):
            raise TypeError(
                f"entry point {point.name} = {point.value} in {ENTRY_POINT_GROUP} is a "
                f"{type(policy).__name__}, not a PlanPolicy"
            )
        found.append(policy)
    return found


@functools.cache
def default_policy() -> PlanPolicy:
    """The installed libraries' policies merged (``GENERIC`` when none is installed)."""
    return combine(installed_policies())


def resolve(policy: PlanPolicy | None) -> PlanPolicy:
    return default_policy() if policy is None else policy

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
ComponentResource). Durations are estimates from ``DURATIONS``, not measurements of one run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gpu_platform.plan.capture import Registration
from gpu_platform.plan.model import HELM_RELEASE_TYPE, Plan

_EKS_DOCS = "https://docs.aws.amazon.com/eks/latest/userguide/create-cluster.html"
_API_CALL = "one synchronous API call; seconds in practice"


@dataclass(frozen=True)
class Duration:
    """How long creating one resource of a type takes. ``match`` ending in ``*`` is a prefix."""

    match: str
    seconds: float
    source: str


DEFAULT_DURATION = Duration("*", 30, "unknown type: a cautious guess for a cloud API create")
COMPONENT_DURATION = Duration("component", 0, "components create nothing; they wait for children")

DURATIONS: tuple[Duration, ...] = (
    Duration("aws:eks/cluster:Cluster", 600,
             f"control plane: 'several minutes' ({_EKS_DOCS}); 9-12 min observed with pulumi-eks"),
    Duration("aws:eks/nodeGroup:NodeGroup", 240,
             "managed node group create waits for nodes Ready: 3-5 min (GPU AMIs the upper end)"),
    Duration("aws:eks/addon:Addon", 60, "EKS add-on create waits for ACTIVE (coredns needs nodes)"),
    Duration("aws:ec2/natGateway:NatGateway", 120,
             "NAT gateway pending -> available: 1-2 min (terraform-provider-aws waiter, 10 min cap)"),
    Duration("aws:iam/openIdConnectProvider:OpenIdConnectProvider", 2, _API_CALL),
    Duration("aws:iam/role:Role", 3, "IAM create plus the provider's propagation retry"),
    Duration("aws:kms/key:Key", 5, "KMS CreateKey: seconds"),
    Duration("aws:ec2/vpc:Vpc", 3, "VPC create waits for 'available': seconds"),
    Duration("aws:ec2/subnet:Subnet", 2, _API_CALL),
    Duration("aws:ec2/securityGroup:SecurityGroup", 3, _API_CALL),
    Duration("aws:s3/bucket:Bucket", 3, _API_CALL),
    Duration("aws:*", 2, _API_CALL),
    Duration(HELM_RELEASE_TYPE, 120,
             "helm install with wait: 1-3 min per chart (images pulled, pods Ready)"),
    Duration("pulumi:providers:*", 0, "provider configuration: no cloud call"),
    Duration("kubernetes:*", 1, "one API-server create; pulumi-kubernetes awaits are short for these"),
)

# Charts whose install waits much longer or shorter than a typical release.
CHART_DURATIONS: dict[str, Duration] = {
    "gpu-operator": Duration("gpu-operator", 300,
                             "operator, toolkit, device plugin and validator pods Ready: ~5 min"),
    "gpu-operator+driver": Duration("gpu-operator+driver", 600,
                                    "plus the driver container compiling/loading the kernel module: ~10 min"),
    "kserve-crd": Duration("kserve-crd", 20, "CRDs only: no pods to wait for"),
    "aws-efa-k8s-device-plugin": Duration("aws-efa-k8s-device-plugin", 30, "one DaemonSet, no GPU nodes yet"),
}


def resource_duration(resource: Registration, table: Iterable[Duration] = DURATIONS) -> Duration:
    """The estimate for one resource: components 0, Helm charts by chart, else by type."""
    if not resource.custom:
        return COMPONENT_DURATION
    if resource.type == HELM_RELEASE_TYPE:
        chart = _chart_name(resource.inputs)
        if chart == "gpu-operator" and _driver_enabled(resource.inputs):
            chart = "gpu-operator+driver"
        if chart in CHART_DURATIONS:
            return CHART_DURATIONS[chart]
    for row in table:
        if row.match == resource.type or (
            row.match.endswith("*") and resource.type.startswith(row.match[:-1])
        ):
            return row
    return DEFAULT_DURATION


def _chart_name(inputs: Mapping[str, Any]) -> str:
    return str(inputs.get("chart", "")).rsplit("/", 1)[-1]


def _driver_enabled(inputs: Mapping[str, Any]) -> bool:
    driver = (inputs.get("values") or {}).get("driver") or {}
    return driver.get("enabled", True) is not False  # the chart's default installs the driver


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


def critical_path(plan: Plan, table: Iterable[Duration] = DURATIONS) -> CriticalPath:
    """The longest chain of waits through the plan, its length, and the one-at-a-time total."""
    graph = DeployGraph(plan)
    rows = tuple(table)
    own = {urn: resource_duration(r, rows).seconds for urn, r in graph.resources.items()}
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

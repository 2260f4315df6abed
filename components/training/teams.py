"""Team tenancy: a namespace per team with quotas, default limits and network isolation, and the
PriorityClasses every team shares.

Priorities: each workload kind has a PriorityClass (``DEFAULT_WORKLOAD_PRIORITY_CLASSES``:
RayCluster training-high, InferenceService inference-critical, batch Jobs and RayJobs
batch-low); a team's ``priorityClasses.<kind>`` replaces the default for its namespace and a
workload's own ``priorityClass`` replaces both (``workload_priority_class``). Pods carry it as
``priorityClassName``, which is what every scheduler in play reads: kube-scheduler; Kueue, which
takes a workload's priority from its pod templates' PriorityClass when no WorkloadPriorityClass
label is set (jobframework ``ExtractPriority``); Volcano, through the PodGroup's
``priorityClassName`` (KubeRay copies the RayCluster label ``ray.io/priority-class-name``).
Preemption between them is each class's ``preemptionPolicy``: kube-scheduler and Volcano's
``preempt``/``reclaim`` actions skip preemptors whose policy is ``Never``
(volcano pkg/scheduler/actions/preempt/preempt.go, reclaim.go); Kueue preempts inside a
ClusterQueue by priority only when some class may preempt (``preemption_enabled``).

The namespace's ResourceQuota is the hard cap on a team's GPUs (requests and limits of
``nvidia.com/gpu``); Kueue's ClusterQueue quotas (see ``kueue.py``) decide admission below it.
Network policy: deny everything, then allow pod-to-pod inside the namespace (NCCL, Ray, torchrun
rendezvous), DNS, optional CIDRs (API server, object storage) and namespaces (the KubeRay
operator probes Ray heads).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigIssue, ConfigModel, component_args
from gpu_platform.config.errors import issue
from gpu_platform.core.component import child_options
from gpu_platform.core.names import MANAGED_BY_LABELS, DnsLabel, NonNegativeInt, child_name
from gpu_platform.core.pools import GPU_RESOURCE, GpuPool
from gpu_platform.k8s.addon import namespace
from gpu_platform.training.outputs import object_name, object_names
from gpu_platform.training.quantity import Quantity, parse_quantity

TEAMS_TYPE = "gpu-platform:training:Teams"
NAME_LABEL = "kubernetes.io/metadata.name"


class ContainerDefaults(ConfigModel):
    cpu: Quantity
    memory: Quantity


WorkloadKind = Literal["raycluster", "rayjob", "batch", "inference"]
# the kinds that run in team namespaces (InferenceServices run in the serving namespace)
TeamWorkloadKind = Literal["raycluster", "rayjob", "batch"]
# the PriorityClass a workload kind gets unless its team or the workload itself names another
DEFAULT_WORKLOAD_PRIORITY_CLASSES: dict[str, str] = {
    "raycluster": "training-high",
    "rayjob": "batch-low",
    "batch": "batch-low",
    "inference": "inference-critical",
}


class TeamConfig(ConfigModel):
    """One team: its namespace (named after the team) and what it may use."""

    pod_security: Literal["baseline", "restricted"] = "baseline"
    gpu_quota: NonNegativeInt = 0  # GPUs in the namespace, all pools together (hard cap)
    cpu_quota: Quantity = "64"
    memory_quota: Quantity = "256Gi"
    # Kueue nominal GPU quota per pool; the sum must fit in gpuQuota
    gpu_pools: dict[DnsLabel, NonNegativeInt] = Field(default_factory=dict)
    default_request: ContainerDefaults = Field(
        default_factory=lambda: ContainerDefaults(cpu="500m", memory="1Gi")
    )
    default_limit: ContainerDefaults = Field(
        default_factory=lambda: ContainerDefaults(cpu="2", memory="4Gi")
    )
    egress_cidrs: list[str] = Field(default_factory=list)
    ingress_namespaces: list[DnsLabel] = Field(default_factory=list)
    # workload kind -> PriorityClass for this team's workloads (default: DEFAULT_WORKLOAD_...)
    priority_classes: dict[TeamWorkloadKind, DnsLabel] = Field(default_factory=dict)

    def issues(self) -> Iterator[ConfigIssue]:
        nominal = sum(self.gpu_pools.values())
        if nominal > self.gpu_quota:
            yield issue("gpuPools", f"adds up to {nominal} GPUs, more than gpuQuota ({self.gpu_quota})",
                        dict(self.gpu_pools))
        for field in ("cpu", "memory"):
            request = getattr(self.default_request, field)
            limit = getattr(self.default_limit, field)
            if parse_quantity(request) > parse_quantity(limit):
                yield issue(f"defaultRequest.{field}", f"must be <= defaultLimit.{field} ({limit})", request)


class PriorityClassConfig(ConfigModel):
    value: int = Field(ge=-2147483648, le=1000000000)  # above 1e9 is reserved for the system
    # Never: waits for free capacity instead of preempting; it can still be preempted
    preemption_policy: Literal["PreemptLowerPriority", "Never"] = "PreemptLowerPriority"
    description: str = ""


DEFAULT_PRIORITY_CLASSES: dict[str, PriorityClassConfig] = {
    "inference-critical": PriorityClassConfig(
        value=1000000, description="Online inference: preempts training and batch work."),
    "training-high": PriorityClassConfig(
        value=100000, description="Deadline training: preempts batch-low work."),
    "batch-low": PriorityClassConfig(
        value=1000, preemption_policy="Never",
        description="Preemptible batch and experiments: never preempts, yields to higher classes."),
}


def workload_priority_class(
    kind: WorkloadKind, *, explicit: str | None = None, team: TeamConfig | None = None
) -> str:
    """The PriorityClass of a workload: its own, else its team's for ``kind``, else the default."""
    if explicit is not None:
        return explicit
    for team_kind, class_name in (team.priority_classes.items() if team is not None else ()):
        if team_kind == kind:
            return class_name
    return DEFAULT_WORKLOAD_PRIORITY_CLASSES[kind]


def preemption_enabled(priority_classes: Mapping[str, PriorityClassConfig]) -> bool:
    """Whether any class may preempt a lower one (a PreemptLowerPriority class above another)."""
    values = [pc.value for pc in priority_classes.values()]
    return any(pc.preemption_policy == "PreemptLowerPriority" and pc.value > min(values)
               for pc in priority_classes.values())


def priority_class_issues(name: str, priority_classes: Mapping[str, object]) -> Iterator[ConfigIssue]:
    """A PriorityClass name that is not among ``priority_classes`` (path relative, empty)."""
    if name not in priority_classes:
        known = ", ".join(priority_classes) or "none"
        yield issue("", f"unknown PriorityClass; priorityClasses: {known}", name)


def team_priority_issues(
    teams: Mapping[str, TeamConfig], priority_classes: Mapping[str, object]
) -> Iterator[ConfigIssue]:
    """Teams whose ``priorityClasses`` name a class that is not created (paths relative)."""
    for name, team in teams.items():
        for kind, class_name in team.priority_classes.items():
            for found in priority_class_issues(class_name, priority_classes):
                yield found.prefixed(f"{name}.priorityClasses.{kind}")


def gpu_capacity(pools: Mapping[str, GpuPool]) -> int:
    """GPUs in the environment at full scale: sum over pools of maxSize x GPUs per node."""
    return sum(pool.max_size * pool.gpu.count for pool in pools.values())


def team_pool_issues(teams: Mapping[str, TeamConfig], pools: Mapping[str, GpuPool]) -> Iterator[ConfigIssue]:
    """Quotas beyond the environment's GPUs and unknown pools (paths relative to ``teams``)."""
    for name, team in teams.items():
        yield from team_capacity_issues({name: team}, pools)
        yield from team_pool_reference_issues({name: team}, pools)


def team_capacity_issues(
    teams: Mapping[str, TeamConfig], pools: Mapping[str, GpuPool]
) -> Iterator[ConfigIssue]:
    """Teams whose ``gpuQuota`` exceeds the GPUs of ``pools`` at full scale (paths relative)."""
    capacity = gpu_capacity(pools)
    for name, team in teams.items():
        if team.gpu_quota > capacity:
            yield issue(
                f"{name}.gpuQuota",
                f"exceeds the environment's GPU capacity of {capacity} "
                "(sum over gpuPools of maxSize x gpu.count)",
                team.gpu_quota,
            )


def team_pool_reference_issues(
    teams: Mapping[str, TeamConfig], pools: Mapping[str, GpuPool]
) -> Iterator[ConfigIssue]:
    """Per-pool quotas (``gpuPools``) naming pools ``pools`` lacks (paths relative)."""
    known = ", ".join(sorted(pools)) or "none"
    for name, team in teams.items():
        for pool_name, count in team.gpu_pools.items():
            if pool_name not in pools:
                yield issue(f"{name}.gpuPools.{pool_name}", f"unknown GPU pool; known pools: {known}", count)


class TeamsArgs(ComponentArgs):
    """Args of ``Teams``: the teams, the shared PriorityClasses, and what reaches every team.

    ``pools``: the GPU pools, when known; each team's ``gpuQuota`` must then fit their capacity.
    """

    teams: dict[DnsLabel, TeamConfig] = Field(default_factory=dict)
    priority_classes: dict[DnsLabel, PriorityClassConfig] = Field(
        default_factory=lambda: dict(DEFAULT_PRIORITY_CLASSES)
    )
    # namespaces every team admits ingress from besides its own list (e.g. the KubeRay operator's)
    extra_ingress_namespaces: list[DnsLabel] = Field(default_factory=list)
    pools: dict[DnsLabel, GpuPool] | None = None

    def issues(self) -> Iterator[ConfigIssue]:
        if self.pools is not None:
            for found in team_capacity_issues(self.teams, self.pools):
                yield found.prefixed("teams")
        for found in team_priority_issues(self.teams, self.priority_classes):
            yield found.prefixed("teams")


# --- rendering (pure) -------------------------------------------------------------------------


def _meta(name: str, ns: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": dict(MANAGED_BY_LABELS)}
    if ns is not None:
        meta["namespace"] = ns
    return meta


def render_resource_quota(team: str, config: TeamConfig) -> dict[str, Any]:
    gpus = str(config.gpu_quota)
    hard = {
        f"requests.{GPU_RESOURCE}": gpus, f"limits.{GPU_RESOURCE}": gpus,
        "requests.cpu": config.cpu_quota, "limits.cpu": config.cpu_quota,
        "requests.memory": config.memory_quota, "limits.memory": config.memory_quota,
    }
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": _meta(f"{team}-quota", team),
            "spec": {"hard": hard}}


def render_limit_range(team: str, config: TeamConfig) -> dict[str, Any]:
    limit = {"type": "Container",
             "defaultRequest": {"cpu": config.default_request.cpu, "memory": config.default_request.memory},
             "default": {"cpu": config.default_limit.cpu, "memory": config.default_limit.memory}}
    return {"apiVersion": "v1", "kind": "LimitRange", "metadata": _meta(f"{team}-defaults", team),
            "spec": {"limits": [limit]}}


def render_network_policies(team: str, config: TeamConfig) -> list[dict[str, Any]]:
    def policy(name: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": _meta(name, team), "spec": {"podSelector": {}, **spec}}

    dns = {"to": [{"namespaceSelector": {"matchLabels": {NAME_LABEL: "kube-system"}},
                   "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
           "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
    policies = [
        policy("default-deny", {"policyTypes": ["Ingress", "Egress"]}),
        policy("allow-same-namespace", {"policyTypes": ["Ingress", "Egress"],
                                        "ingress": [{"from": [{"podSelector": {}}]}],
                                        "egress": [{"to": [{"podSelector": {}}]}]}),
        policy("allow-dns-egress", {"policyTypes": ["Egress"], "egress": [dns]}),
    ]
    if config.egress_cidrs:
        policies.append(policy("allow-egress-cidrs", {
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": cidr}} for cidr in config.egress_cidrs]}]}))
    if config.ingress_namespaces:
        policies.append(policy("allow-ingress-namespaces", {
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {NAME_LABEL: ns}}}
                                  for ns in config.ingress_namespaces]}]}))
    return policies


def render_priority_class(name: str, config: PriorityClassConfig) -> dict[str, Any]:
    return {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": _meta(name),
            "value": config.value, "preemptionPolicy": config.preemption_policy,
            "globalDefault": False, "description": config.description}


class Teams(pulumi.ComponentResource):
    """Every team's namespace and guard rails, and the shared PriorityClasses."""

    namespace_names: pulumi.Output[dict[str, str]]
    priority_class_names: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        args: TeamsArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        args = component_args(TeamsArgs, args, component="Teams", name=name)
        super().__init__(TEAMS_TYPE, name, None, opts)
        child = child_options(self, opts)
        self.priority_classes = [
            k8s.scheduling.v1.PriorityClass(
                child_name(name, f"priority-{pc_name}"),
                **_args(render_priority_class(pc_name, pc)), opts=child)
            for pc_name, pc in args.priority_classes.items()
        ]
        # the Namespace resources, by team: what team workloads order after
        self.namespaces: dict[str, k8s.core.v1.Namespace] = {}
        for team, config in args.teams.items():
            ns = namespace(child_name(name, f"{team}-ns"), team, config.pod_security, child,
                           labels={"gpu-platform.io/team": team})
            self.namespaces[team] = ns
            in_ns = child_options(self, opts, depends_on=[ns])
            extra = [n for n in args.extra_ingress_namespaces if n not in config.ingress_namespaces]
            config = config.model_copy(update={"ingress_namespaces": [*config.ingress_namespaces, *extra]})
            k8s.core.v1.ResourceQuota(child_name(name, f"{team}-quota"),
                                      **_args(render_resource_quota(team, config)), opts=in_ns)
            k8s.core.v1.LimitRange(child_name(name, f"{team}-limits"),
                                   **_args(render_limit_range(team, config)), opts=in_ns)
            for policy in render_network_policies(team, config):
                k8s.networking.v1.NetworkPolicy(
                    child_name(name, f"{team}-{policy['metadata']['name']}"), **_args(policy), opts=in_ns)
        self.namespace_names = object_names(self.namespaces)
        self.priority_class_names = pulumi.Output.all(
            *[object_name(pc) for pc in self.priority_classes]).apply(list)
        self.register_outputs({"namespaceNames": self.namespace_names,
                               "priorityClassNames": self.priority_class_names})


def _args(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """A manifest as keyword arguments of a typed pulumi_kubernetes resource."""
    snake = {"preemptionPolicy": "preemption_policy", "globalDefault": "global_default"}
    return {snake.get(k, k): v for k, v in manifest.items() if k not in ("apiVersion", "kind")}

"""Kueue: the pinned chart, a ResourceFlavor per GPU pool, a ClusterQueue and a LocalQueue per team.

Quotas sit in two resource groups: ``nvidia.com/gpu`` over one flavor per GPU pool (the flavor
carries the pool's node label and tolerations, which Kueue adds to admitted pods), and
``cpu``/``memory`` over one unlabelled flavor. A head pod (no GPUs) is thus never steered onto a
GPU pool, and a team's CPU quota is not split across pools. All ClusterQueues share one cohort,
so idle quota is borrowed and reclaimed by preemption.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigIssue, ConfigModel, component_args
from gpu_platform.core.component import child_options, depends_on_of
from gpu_platform.core.names import MANAGED_BY_LABELS, POOL_LABEL, DnsLabel, child_name
from gpu_platform.core.pools import GPU_RESOURCE, GpuPool, pool_scheduling
from gpu_platform.k8s.addon import PodSecurityLevel, operator_install
from gpu_platform.k8s.objects import custom_resource
from gpu_platform.k8s.values import deep_merge
from gpu_platform.network.operator import RDMA_RESOURCE_PREFIX
from gpu_platform.network.workload import EFA_RESOURCE
from gpu_platform.training.outputs import object_names
from gpu_platform.training.teams import (
    DEFAULT_PRIORITY_CLASSES,
    PriorityClassConfig,
    TeamConfig,
    preemption_enabled,
    team_pool_reference_issues,
)
from gpu_platform.versions import KUEUE

KUEUE_TYPE = "gpu-platform:training:Kueue"
# v1beta2: v1beta1 is deprecated in the pinned 0.19.2 CRDs ("Use v1beta2 instead") and no longer
# served from 0.20. Objects created as v1beta1 keep their URNs through a type alias (a move).
KUEUE_API = "kueue.x-k8s.io/v1beta2"
KUEUE_PREVIOUS_APIS = ("kueue.x-k8s.io/v1beta1",)
KUEUE_IMAGE = "registry.k8s.io/kueue/kueue"  # the git chart defaults to a staging image
CPU_FLAVOR = "cpu"

Framework = Literal[
    "batch/job", "ray.io/raycluster", "ray.io/rayjob", "ray.io/rayservice",
    "kubeflow.org/pytorchjob", "kubeflow.org/mpijob", "trainer.kubeflow.org/trainjob",
    "jobset.x-k8s.io/jobset", "pod", "deployment", "statefulset",
]
DEFAULT_FRAMEWORKS: tuple[Framework, ...] = (
    "batch/job", "ray.io/raycluster", "ray.io/rayjob", "kubeflow.org/pytorchjob",
    "kubeflow.org/mpijob", "trainer.kubeflow.org/trainjob",
)


class KueueConfig(ConfigModel):
    namespace: DnsLabel = "kueue-system"
    # false: install into an existing namespace (nothing creates or deletes it)
    create_namespace: bool = True
    pod_security: PodSecurityLevel = "restricted"
    cohort: DnsLabel = "gpu-platform"
    integrations: list[Framework] = Field(default_factory=lambda: list(DEFAULT_FRAMEWORKS))
    # false: only workloads naming a queue are managed (the others run unqueued)
    manage_jobs_without_queue_name: bool = False
    enable_prometheus: bool = False  # needs the Prometheus Operator's CRDs
    queueing_strategy: Literal["BestEffortFIFO", "StrictFIFO"] = "BestEffortFIFO"
    values_overrides: dict[str, Any] = Field(default_factory=dict)


class KueueArgs(KueueConfig, ComponentArgs):
    """Args of ``Kueue``: its settings, the GPU pools (one ResourceFlavor each, from the pool's
    label and taints) and the teams (one ClusterQueue and LocalQueue each, quotas from them)."""

    pools: dict[DnsLabel, GpuPool] = Field(default_factory=dict)
    teams: dict[DnsLabel, TeamConfig] = Field(default_factory=dict)
    # the PriorityClasses workloads use: ClusterQueues preempt by priority only if one may preempt
    priority_classes: dict[DnsLabel, PriorityClassConfig] = Field(
        default_factory=lambda: dict(DEFAULT_PRIORITY_CLASSES))

    def issues(self) -> Iterator[ConfigIssue]:
        # a ClusterQueue quota on a pool without a flavor would never admit anything
        for found in team_pool_reference_issues(self.teams, self.pools):
            yield found.prefixed("teams")

    @classmethod
    def of(
        cls, config: KueueConfig, pools: Mapping[str, GpuPool], teams: Mapping[str, TeamConfig],
        priority_classes: Mapping[str, PriorityClassConfig] | None = None,
    ) -> KueueArgs:
        fields = {name: getattr(config, name) for name in KueueConfig.model_fields}
        classes = DEFAULT_PRIORITY_CLASSES if priority_classes is None else priority_classes
        return cls.model_validate({**fields, "pools": dict(pools), "teams": dict(teams),
                                   "priority_classes": dict(classes)})


QUEUE_EXCLUDED_RESOURCE_PREFIXES = (f"{EFA_RESOURCE.split('/')[0]}/", f"{RDMA_RESOURCE_PREFIX}/")


def manager_configuration(config: KueueConfig) -> dict[str, Any]:
    """Kueue's Configuration (the chart's defaults, with our integrations)."""
    return {
        "apiVersion": "config.kueue.x-k8s.io/v1beta2",
        "kind": "Configuration",
        "health": {"healthProbeBindAddress": ":8081"},
        "metrics": {"bindAddress": ":8443"},
        "webhook": {"port": 9443},
        "leaderElection": {"leaderElect": True, "resourceName": "c1f6bfd2.kueue.x-k8s.io"},
        "manageJobsWithoutQueueName": config.manage_jobs_without_queue_name,
        "integrations": {"frameworks": list(config.integrations)},
        # Network devices are per-pod attachments, not capacity queues share: without this,
        # Kueue refuses workloads requesting EFA or RDMA devices no ClusterQueue covers.
        "resources": {"excludeResourcePrefixes": list(QUEUE_EXCLUDED_RESOURCE_PREFIXES)},
    }


def kueue_values(config: KueueConfig) -> dict[str, Any]:
    """Helm values for the kueue chart (every key exists in its values.yaml)."""
    values = {
        "enablePrometheus": config.enable_prometheus,
        "controllerManager": {"manager": {"image": {
            "repository": KUEUE_IMAGE, "tag": f"v{KUEUE.version}", "pullPolicy": "IfNotPresent"}}},
        "managerConfig": {
            "controllerManagerConfigYaml": yaml.safe_dump(manager_configuration(config), sort_keys=False)
        },
    }
    return deep_merge(values, config.values_overrides)


def _meta(name: str, ns: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": dict(MANAGED_BY_LABELS)}
    if ns is not None:
        meta["namespace"] = ns
    return meta


def render_resource_flavor(pool_name: str, pool: GpuPool) -> dict[str, Any]:
    placed = pool_scheduling(pool_name, pool)
    return {"apiVersion": KUEUE_API, "kind": "ResourceFlavor", "metadata": _meta(pool_name),
            "spec": {"nodeLabels": {POOL_LABEL: pool_name}, "tolerations": placed.tolerations}}


def render_cpu_flavor() -> dict[str, Any]:
    return {"apiVersion": KUEUE_API, "kind": "ResourceFlavor", "metadata": _meta(CPU_FLAVOR), "spec": {}}


def render_cluster_queue(team: str, config: TeamConfig, kueue: KueueConfig,
                         preemption: bool = True) -> dict[str, Any]:
    """The team's ClusterQueue; ``preemption``: whether a workload may preempt a lower-priority
    one in it (``preemption_enabled`` of the PriorityClasses; Kueue reads a workload's priority
    from its pods' PriorityClass). Reclaiming borrowed quota in the cohort is always on."""
    groups: list[dict[str, Any]] = [{
        "coveredResources": ["cpu", "memory"],
        "flavors": [{"name": CPU_FLAVOR, "resources": [
            {"name": "cpu", "nominalQuota": config.cpu_quota},
            {"name": "memory", "nominalQuota": config.memory_quota}]}],
    }]
    if config.gpu_pools:
        groups.append({
            "coveredResources": [GPU_RESOURCE],
            "flavors": [{"name": pool, "resources": [{"name": GPU_RESOURCE, "nominalQuota": count}]}
                        for pool, count in config.gpu_pools.items()],
        })
    return {
        "apiVersion": KUEUE_API, "kind": "ClusterQueue", "metadata": _meta(team),
        "spec": {
            "cohortName": kueue.cohort,  # v1beta1's `cohort`
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": team}},
            "queueingStrategy": kueue.queueing_strategy,
            "resourceGroups": groups,
            "preemption": {"reclaimWithinCohort": "Any",
                           "withinClusterQueue": "LowerPriority" if preemption else "Never"},
        },
    }


def render_local_queue(team: str) -> dict[str, Any]:
    return {"apiVersion": KUEUE_API, "kind": "LocalQueue", "metadata": _meta(team, team),
            "spec": {"clusterQueue": team}}


def previous_types(kind: str) -> list[pulumi.Alias]:
    """Aliases to the Pulumi types this kind had under earlier Kueue API versions."""
    return [pulumi.Alias(type_=f"kubernetes:{api}:{kind}") for api in KUEUE_PREVIOUS_APIS]


class Kueue(pulumi.ComponentResource):
    """The Kueue controller and the queues of every team (LocalQueue -> ClusterQueue -> flavors).

    ``team_namespaces``: the team namespaces (by team) when another component creates them;
    each team's LocalQueue waits for its namespace."""

    namespace: pulumi.Output[str]
    release_name: pulumi.Output[str]
    cluster_queue_names: pulumi.Output[dict[str, str]]
    local_queue_names: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        name: str,
        args: KueueArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
        *,
        team_namespaces: Mapping[str, pulumi.Resource] | None = None,
    ):
        args = component_args(KueueArgs, args, component="Kueue", name=name)
        super().__init__(KUEUE_TYPE, name, None, opts)
        install = operator_install(
            name, KUEUE, parent=self, release_name="kueue", namespace_name=args.namespace,
            pod_security=args.pod_security, values=kueue_values(args), depends_on=depends_on_of(opts),
            create_namespace=args.create_namespace,
        )
        self.namespace_resource, self.release = install.namespace, install.release
        self.namespace, self.release_name = install.namespace_name, install.release_name
        after_chart = child_options(self, opts, depends_on=[self.release],
                                    aliases=previous_types("ResourceFlavor"))
        flavors = [
            custom_resource(child_name(name, f"flavor-{CPU_FLAVOR}"), render_cpu_flavor(), after_chart)
        ]
        flavors += [
            custom_resource(child_name(name, f"flavor-{pool_name}"), render_resource_flavor(pool_name, pool),
                            after_chart)
            for pool_name, pool in args.pools.items()
        ]
        self.flavors = flavors
        self.cluster_queues: dict[str, k8s.apiextensions.CustomResource] = {}
        self.local_queues: dict[str, k8s.apiextensions.CustomResource] = {}
        for team, team_config in args.teams.items():
            cq = custom_resource(child_name(name, f"{team}-clusterqueue"),
                                 render_cluster_queue(team, team_config, args,
                                                      preemption_enabled(args.priority_classes)),
                                 child_options(self, opts, depends_on=[self.release, *flavors],
                                               aliases=previous_types("ClusterQueue")))
            ns = (team_namespaces or {}).get(team)
            self.cluster_queues[team] = cq
            self.local_queues[team] = custom_resource(
                child_name(name, f"{team}-localqueue"), render_local_queue(team),
                child_options(self, opts, depends_on=[cq, *([ns] if ns else [])],
                              aliases=previous_types("LocalQueue")))
        self.cluster_queue_names = object_names(self.cluster_queues)
        self.local_queue_names = object_names(self.local_queues)
        self.register_outputs({
            "namespace": self.namespace,
            "releaseName": self.release_name,
            "clusterQueueNames": self.cluster_queue_names,
            "localQueueNames": self.local_queue_names,
        })


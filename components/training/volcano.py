"""Volcano: the pinned chart, a typed scheduler configuration and one weighted Queue per team.

The ``proportion`` plugin shares the cluster between queues by ``weight`` and caps each at its
``capability``; ``gang`` holds a job (PodGroup) until ``minMember`` pods can start together.
Queues are cluster-scoped and any namespace may name one: the team namespace's ResourceQuota
stays the hard cap. Workloads opt in with ``schedulerName: volcano`` and name their queue with
``spec.queue`` (Volcano Job, PodGroup) or the pod annotation ``scheduling.volcano.sh/queue-name``;
queued RayClusters get KubeRay's Volcano labels (``volcano_raycluster_labels``).

Actions follow what the config enables (``volcano_actions``), unless ``scheduler.actions`` lists
them: ``enqueue`` (admit jobs only when their minimum resources fit: left out when a GPU pool
scales from zero, because a job larger than the current nodes would stay Pending without pods for
the cluster-autoscaler to see, so those keep ``allocate, backfill``), ``allocate``, ``preempt``
(job priorities: when a PriorityClass may preempt a lower one), ``reclaim`` (queue weights: when
two or more team queues exist and one is reclaimable) and ``backfill``. The order is Volcano's
documented one (docs/user-guide: ``enqueue, allocate, preempt, backfill`` in
how_to_use_cdp_plugin.md, ``enqueue, allocate, backfill, reclaim`` in
how_to_use_capacity_plugin.md). ``preempt`` and ``reclaim`` skip preemptors whose PriorityClass
has ``preemptionPolicy: Never`` (pkg/scheduler/actions/preempt/preempt.go, reclaim/reclaim.go).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigIssue, ConfigModel, component_args
from gpu_platform.config.errors import issue
from gpu_platform.core.component import child_options, depends_on_of
from gpu_platform.core.names import MANAGED_BY_LABELS, DnsLabel, PositiveInt, child_name
from gpu_platform.core.pools import GPU_RESOURCE
from gpu_platform.k8s.addon import operator_install
from gpu_platform.k8s.objects import custom_resource
from gpu_platform.k8s.values import deep_merge
from gpu_platform.training.outputs import object_names
from gpu_platform.training.teams import PriorityClassConfig, TeamConfig, preemption_enabled
from gpu_platform.versions import VOLCANO

VOLCANO_TYPE = "gpu-platform:training:Volcano"
VOLCANO_API = "scheduling.volcano.sh/v1beta1"
SCHEDULER_NAME = "volcano"
POD_QUEUE_ANNOTATION = "scheduling.volcano.sh/queue-name"
RAY_SCHEDULER_LABEL = "ray.io/scheduler-name"
RAY_QUEUE_LABEL = "volcano.sh/queue-name"
# queues the chart creates itself: a team of that name would clash with them
CHART_QUEUES = ("default", "root")

Action = Literal["enqueue", "allocate", "preempt", "reclaim", "backfill", "shuffle"]
PluginArgument = str | int | float | bool


class SchedulerPlugin(ConfigModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    enable_preemptable: bool | None = None
    arguments: dict[str, PluginArgument] = Field(default_factory=dict)


class SchedulerTier(ConfigModel):
    plugins: list[SchedulerPlugin] = Field(min_length=1)


def _tier(*plugins: str | tuple[str, bool]) -> SchedulerTier:
    return SchedulerTier(plugins=[
        SchedulerPlugin(name=p) if isinstance(p, str) else SchedulerPlugin(name=p[0], enable_preemptable=p[1])
        for p in plugins])


# The chart's documented default (values.yaml, custom.scheduler_config_override) with proportion:
# queue weights are proportion's (the capacity plugin shares by ``deserved`` instead).
DEFAULT_TIERS = (
    _tier("priority", ("gang", False), "conformance"),
    _tier("overcommit", ("drf", False), "predicates", "proportion", "nodeorder", "binpack"),
)
REQUIRED_PLUGINS = {
    "gang": "gang scheduling is what jobs get Volcano for",
    "proportion": "the team queues' weight and capability are enforced by it",
}


DEFAULT_ACTIONS: tuple[Action, ...] = ("enqueue", "allocate", "backfill")


class SchedulerConfig(ConfigModel):
    # None: derived from the config (volcano_actions); a list replaces the derivation
    actions: list[Action] | None = Field(default=None, min_length=1)
    tiers: list[SchedulerTier] = Field(default_factory=lambda: list(DEFAULT_TIERS), min_length=1)

    def plugin_names(self) -> list[str]:
        return [plugin.name for tier in self.tiers for plugin in tier.plugins]

    def issues(self) -> Iterator[ConfigIssue]:
        names = self.plugin_names()
        for plugin, why in REQUIRED_PLUGINS.items():
            if plugin not in names:
                yield issue("tiers", f"must enable the '{plugin}' plugin: {why}", names)
        if "capacity" in names:
            yield issue("tiers", "must not enable 'capacity' with 'proportion': they are alternative "
                        "queue-sharing plugins", names)
        actions = self.actions or []
        for index, action in enumerate(actions):
            if action in actions[:index]:
                yield issue(f"actions.{index}", "is listed twice", action)


class VolcanoQueueConfig(ConfigModel):
    """A team queue's share: ``weight`` against the other queues, reclaimable when over it."""

    weight: int = Field(default=1, ge=1, le=2147483647)
    reclaimable: bool = True


class VolcanoConfig(ConfigModel):
    namespace: DnsLabel = "volcano-system"
    # false: install into an existing namespace (nothing creates or deletes it)
    create_namespace: bool = True
    # not restricted: the chart's containers add DAC_OVERRIDE and its admission-init hook job
    # sets no container securityContext
    pod_security: Literal["baseline", "privileged"] = "baseline"
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    scheduler_replicas: PositiveInt = 1
    controller_replicas: PositiveInt = 1
    admission_replicas: PositiveInt = 1
    queues: dict[DnsLabel, VolcanoQueueConfig] = Field(default_factory=dict)  # by team; default weight 1
    values_overrides: dict[str, Any] = Field(default_factory=dict)

    def queue(self, team: str) -> VolcanoQueueConfig:
        return self.queues.get(team) or VolcanoQueueConfig()


def volcano_team_issues(
    config: VolcanoConfig, teams: Mapping[str, TeamConfig], volcano_path: str = "volcano"
) -> Iterator[ConfigIssue]:
    """Queue settings for unknown teams, team names clashing with the chart's queues, and
    Kueue-only per-pool quotas (paths relative to the training config, where the Volcano
    settings are at ``volcano_path``)."""
    known = ", ".join(sorted(teams)) or "none"
    for name in config.queues:
        if name not in teams:
            yield issue(f"queues.{name}", f"unknown team; teams: {known}").prefixed(volcano_path)
    for name, team in teams.items():
        if name in CHART_QUEUES:
            yield issue(f"teams.{name}", f"the Volcano chart creates the queue '{name}' itself; "
                        "rename the team")
        if team.gpu_pools:
            yield issue(
                f"teams.{name}.gpuPools",
                "is Kueue's per-pool quota and has no effect with queueSystem volcano (the team's "
                "queue caps nvidia.com/gpu at gpuQuota); remove it",
                dict(team.gpu_pools),
            )


def volcano_actions(
    config: VolcanoConfig,
    teams: Mapping[str, TeamConfig] | None = None,
    priority_classes: Mapping[str, PriorityClassConfig] | None = None,
    *,
    scale_from_zero: bool = False,
) -> list[Action]:
    """The scheduler's actions: ``scheduler.actions`` when given, else what the config enables
    (see the module docstring)."""
    if config.scheduler.actions is not None:
        return list(config.scheduler.actions)
    teams = teams or {}
    actions: list[Action] = [] if scale_from_zero else ["enqueue"]
    actions.append("allocate")
    if preemption_enabled(priority_classes or {}):
        actions.append("preempt")
    if len(teams) > 1 and any(config.queue(team).reclaimable for team in teams):
        actions.append("reclaim")
    actions.append("backfill")
    return actions


class VolcanoArgs(VolcanoConfig, ComponentArgs):
    """Args of ``Volcano``: its settings, the teams (one Queue each, capped at their quotas), the
    PriorityClasses jobs use and whether a GPU pool scales from zero (both pick the actions)."""

    teams: dict[DnsLabel, TeamConfig] = Field(default_factory=dict)
    priority_classes: dict[DnsLabel, PriorityClassConfig] = Field(default_factory=dict)
    scale_from_zero: bool = False

    def issues(self) -> Iterator[ConfigIssue]:
        yield from volcano_team_issues(self, self.teams, volcano_path="")
        plugins = self.scheduler.plugin_names()
        if "preempt" in self.actions() and "priority" not in plugins:
            yield issue("scheduler.tiers", "must enable the 'priority' plugin for the preempt "
                        "action: it orders jobs by their PriorityClass", plugins)

    def actions(self) -> list[Action]:
        return volcano_actions(self, self.teams, self.priority_classes,
                               scale_from_zero=self.scale_from_zero)

    @classmethod
    def of(
        cls,
        config: VolcanoConfig,
        teams: Mapping[str, TeamConfig],
        priority_classes: Mapping[str, PriorityClassConfig] | None = None,
        *,
        scale_from_zero: bool = False,
    ) -> VolcanoArgs:
        fields = {name: getattr(config, name) for name in VolcanoConfig.model_fields}
        return cls.model_validate({**fields, "teams": dict(teams),
                                   "priority_classes": dict(priority_classes or {}),
                                   "scale_from_zero": scale_from_zero})


# --- rendering (pure) -------------------------------------------------------------------------


def scheduler_conf(config: SchedulerConfig, actions: list[Action] | None = None) -> dict[str, Any]:
    """The scheduler configuration as data (the chart takes it as a YAML string); ``actions``
    default to ``config.actions``, else ``DEFAULT_ACTIONS``."""
    def plugin(p: SchedulerPlugin) -> dict[str, Any]:
        out: dict[str, Any] = {"name": p.name}
        if p.enable_preemptable is not None:
            out["enablePreemptable"] = p.enable_preemptable
        if p.arguments:
            out["arguments"] = dict(p.arguments)
        return out

    actions = actions or config.actions or list(DEFAULT_ACTIONS)
    return {"actions": ", ".join(actions),
            "tiers": [{"plugins": [plugin(p) for p in tier.plugins]} for tier in config.tiers]}


def volcano_values(config: VolcanoConfig, actions: list[Action] | None = None) -> dict[str, Any]:
    """Helm values for the volcano chart (every key exists in its values.yaml); ``actions``:
    the scheduler's (``VolcanoArgs.actions()``; default ``volcano_actions(config)``)."""
    values = {
        "basic": {"image_tag_version": f"v{VOLCANO.version}", "image_pull_policy": "IfNotPresent"},
        "custom": {
            "scheduler_replicas": config.scheduler_replicas,
            "controller_replicas": config.controller_replicas,
            "admission_replicas": config.admission_replicas,
            # more than one scheduler or controller replica only works with leader election
            "leader_elect_enable": max(config.scheduler_replicas, config.controller_replicas) > 1,
            "scheduler_config_override": yaml.safe_dump(
                scheduler_conf(config.scheduler, actions or volcano_actions(config)), sort_keys=False),
        },
    }
    return deep_merge(values, config.values_overrides)


def render_queue(team: str, team_config: TeamConfig, queue: VolcanoQueueConfig) -> dict[str, Any]:
    """The team's Queue: its weight, and a capability equal to the namespace's quotas."""
    return {
        "apiVersion": VOLCANO_API, "kind": "Queue",
        "metadata": {"name": team, "labels": {**MANAGED_BY_LABELS, "gpu-platform.io/team": team}},
        "spec": {
            "weight": queue.weight,
            "reclaimable": queue.reclaimable,
            "capability": {GPU_RESOURCE: str(team_config.gpu_quota), "cpu": team_config.cpu_quota,
                           "memory": team_config.memory_quota},
        },
    }


def volcano_raycluster_labels(queue: str) -> dict[str, str]:
    """RayCluster labels that hand its pods to Volcano (one gang PodGroup) in ``queue``."""
    return {RAY_SCHEDULER_LABEL: SCHEDULER_NAME, RAY_QUEUE_LABEL: queue}


class Volcano(pulumi.ComponentResource):
    """The Volcano scheduler, controllers and admission webhooks, and one Queue per team."""

    namespace: pulumi.Output[str]
    release_name: pulumi.Output[str]
    queue_names: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        name: str,
        args: VolcanoArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        args = component_args(VolcanoArgs, args, component="Volcano", name=name)
        super().__init__(VOLCANO_TYPE, name, None, opts)
        install = operator_install(
            name, VOLCANO, parent=self, release_name="volcano", namespace_name=args.namespace,
            pod_security=args.pod_security, values=volcano_values(args, args.actions()),
            depends_on=depends_on_of(opts),
            create_namespace=args.create_namespace,
        )
        self.namespace_resource, self.release = install.namespace, install.release
        self.namespace, self.release_name = install.namespace_name, install.release_name
        after_chart = child_options(self, opts, depends_on=[self.release])
        self.queues: dict[str, k8s.apiextensions.CustomResource] = {}
        for team, team_config in args.teams.items():
            manifest = render_queue(team, team_config, args.queue(team))
            self.queues[team] = custom_resource(child_name(name, f"{team}-queue"), manifest, after_chart)
        self.queue_names = object_names(self.queues)
        self.register_outputs({"namespace": self.namespace, "releaseName": self.release_name,
                               "queueNames": self.queue_names})

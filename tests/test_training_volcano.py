"""Volcano: chart values, the scheduler conf (gang + proportion), weighted team Queues, the KubeRay
switch to Volcano labels, and the errors for settings that would do nothing."""

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from component_outputs import resolved_outputs

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.core.names import MANAGED_BY_LABELS
from gpu_platform.core.pools import GpuPool
from gpu_platform.plan.model import helm_release_manifest
from gpu_platform.training import TrainingConfig, Volcano, VolcanoArgs, build_training
from gpu_platform.training.kuberay import KubeRayConfig, kuberay_values
from gpu_platform.training.teams import TeamConfig
from gpu_platform.training.volcano import VolcanoConfig, render_queue, volcano_values

RELEASE = "kubernetes:helm.sh/v3:Release"
QUEUE = "kubernetes:scheduling.volcano.sh/v1beta1:Queue"
POOLS = {"train": GpuPool.model_validate({"role": "training", "gpu": {"model": "A100-80GB", "count": 8},
                                          "maxSize": 4})}
TEAMS = {
    "ml": validate_model(TeamConfig, {"gpuQuota": 16, "cpuQuota": "128", "memoryQuota": "1Ti"}),
    "cv": validate_model(TeamConfig, {"gpuQuota": 4}),
}
CONFIG = {
    "enabled": True,
    "queueSystem": "volcano",
    "volcano": {"queues": {"ml": {"weight": 3}}},
    "teams": {"ml": {"gpuQuota": 32, "cpuQuota": "96", "memoryQuota": "768Gi"}, "cv": {"gpuQuota": 8}},
    "rayClusters": {"demo": {"namespace": "ml", "queue": "ml", "enableInTreeAutoscaling": False,
                             "workerGroups": {"gpu": {"pool": "train", "gpusPerWorker": 8,
                                                      "minReplicas": 2, "maxReplicas": 2}}},
                    "free": {"namespace": "cv", "enableInTreeAutoscaling": False}},
}
EXPECTED_CONF = {
    "actions": "enqueue, allocate, backfill",
    "tiers": [
        {"plugins": [{"name": "priority"}, {"name": "gang", "enablePreemptable": False},
                     {"name": "conformance"}]},
        {"plugins": [{"name": "overcommit"}, {"name": "drf", "enablePreemptable": False},
                     {"name": "predicates"}, {"name": "proportion"}, {"name": "nodeorder"},
                     {"name": "binpack"}]},
    ],
}


def training(**changes):
    return validate_model(TrainingConfig, {**CONFIG, **changes})


def test_values_conform_and_carry_a_gang_scheduler_conf(conformance):
    values = volcano_values(VolcanoConfig())
    conformance.assert_conformant(conformance.validate_helm_values("volcano", values))
    conf = values["custom"].pop("scheduler_config_override")
    assert values == {
        "basic": {"image_tag_version": "v1.15.1", "image_pull_policy": "IfNotPresent"},
        "custom": {"scheduler_replicas": 1, "controller_replicas": 1, "admission_replicas": 1,
                   "leader_elect_enable": False},
    }
    assert yaml.safe_load(conf) == EXPECTED_CONF


def test_typed_scheduler_conf_replicas_and_overrides(conformance):
    config = validate_model(VolcanoConfig, {
        "schedulerReplicas": 2,
        "scheduler": {"actions": ["allocate", "backfill"], "tiers": [
            {"plugins": [{"name": "gang"}]},
            {"plugins": [{"name": "proportion"},
                         {"name": "binpack", "arguments": {"binpack.resources": "nvidia.com/gpu",
                                                           "binpack.resources.nvidia.com/gpu": 10}}]}]},
        "valuesOverrides": {"custom": {"scheduler_resources": {"limits": {"memory": "1Gi"}}}},
    })
    values = volcano_values(config)
    conformance.assert_conformant(conformance.validate_helm_values("volcano", values))
    assert values["custom"]["leader_elect_enable"] is True
    assert values["custom"]["scheduler_resources"] == {"limits": {"memory": "1Gi"}}
    assert yaml.safe_load(values["custom"]["scheduler_config_override"]) == {
        "actions": "allocate, backfill",
        "tiers": [{"plugins": [{"name": "gang"}]},
                  {"plugins": [{"name": "proportion"},
                               {"name": "binpack", "arguments": {"binpack.resources": "nvidia.com/gpu",
                                                                 "binpack.resources.nvidia.com/gpu": 10}}]}],
    }


def test_one_weighted_queue_per_team_capped_at_its_quotas(run_component, conformance):
    config = validate_model(VolcanoConfig, {"queues": {"ml": {"weight": 4}, "cv": {"reclaimable": False}}})
    plan = run_component(lambda: Volcano("volcano", VolcanoArgs.of(config, TEAMS), pulumi.ResourceOptions()))
    release = plan.one(RELEASE, "volcano-chart")
    manifest = helm_release_manifest(release)
    assert {k: manifest[k] for k in ("release", "repository", "chart", "version", "namespace")} == {
        "release": "volcano", "repository": "https://volcano-sh.github.io/helm-charts",
        "chart": "volcano", "version": "1.15.1", "namespace": "volcano-system"}
    assert release.protect and release.retain_on_delete  # its CRDs are chart templates
    ns = plan.one("kubernetes:core/v1:Namespace", "volcano-ns")
    assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert release.dependencies == [ns.urn]
    ml = plan.one(QUEUE, "volcano-ml-queue")
    assert ml.inputs["metadata"] == {
        "name": "ml", "labels": {**MANAGED_BY_LABELS, "gpu-platform.io/team": "ml"}}
    assert ml.inputs["spec"] == {"weight": 4, "reclaimable": True,
                                 "capability": {"nvidia.com/gpu": "16", "cpu": "128", "memory": "1Ti"}}
    assert plan.one(QUEUE, "volcano-cv-queue").inputs["spec"] == {
        "weight": 1, "reclaimable": False, "capability": {"nvidia.com/gpu": "4", "cpu": "64",
                                                          "memory": "256Gi"}}
    assert ml.dependencies == [release.urn]
    conformance.assert_conformant(conformance.validate_all(plan.kubernetes_objects()))


def test_queue_conforms_to_the_upstream_crd(conformance):
    queue = render_queue("ml", TEAMS["ml"], VolcanoConfig().queue("ml"))
    conformance.assert_conformant(conformance.validate_object(queue))
    broken = {**queue, "spec": {**queue["spec"], "weight": 0}}
    assert conformance.validate_object(broken) != []


def test_kuberay_batch_scheduler_value_conforms(conformance):
    values = kuberay_values(KubeRayConfig(), "volcano")
    assert values["batchScheduler"] == {"name": "volcano"}
    assert "batchScheduler" not in kuberay_values(KubeRayConfig())
    conformance.assert_conformant(conformance.validate_helm_values("kuberay-operator", values))


def test_volcano_replaces_kueue_and_labels_queued_rayclusters(run_component, conformance):
    plan = run_component(lambda: build_training("training", training(), POOLS, pulumi.ResourceOptions()))
    assert sorted(r.name for r in plan.find() if r.type.startswith("gpu-platform:training:")) == [
        "training-kuberay", "training-ray-demo", "training-ray-free", "training-teams", "training-volcano"]
    volcano_release = plan.one(RELEASE, "training-volcano-chart")
    kuberay = plan.one(RELEASE, "training-kuberay-chart")
    assert helm_release_manifest(kuberay)["values"]["batchScheduler"] == {"name": "volcano"}
    assert volcano_release.urn in kuberay.dependencies
    assert plan.one(QUEUE, "training-volcano-ml-queue").inputs["spec"] == {
        "weight": 3, "reclaimable": True, "capability": {"nvidia.com/gpu": "32", "cpu": "96",
                                                         "memory": "768Gi"}}
    demo = plan.one("kubernetes:ray.io/v1:RayCluster", "training-ray-demo-raycluster")
    # KubeRay copies ray.io/priority-class-name to the gang PodGroup's priorityClassName
    assert demo.inputs["metadata"]["labels"] == {
        **MANAGED_BY_LABELS, "ray.io/scheduler-name": "volcano", "volcano.sh/queue-name": "ml",
        "ray.io/priority-class-name": "training-high"}
    assert set(demo.dependencies) == {
        kuberay.urn, plan.one("kubernetes:core/v1:Namespace", "training-teams-ml-ns").urn,
        plan.one(QUEUE, "training-volcano-ml-queue").urn}
    free = plan.one("kubernetes:ray.io/v1:RayCluster", "training-ray-free-raycluster")
    assert free.inputs["metadata"]["labels"] == MANAGED_BY_LABELS
    assert plan.find("kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue") == []
    conformance.assert_conformant(conformance.validate_all(plan.kubernetes_objects()))


def test_volcano_without_teams_still_installs_the_scheduler(run_component):
    config = validate_model(TrainingConfig, {"enabled": True, "queueSystem": "volcano"})
    plan = run_component(lambda: build_training("training", config, POOLS, pulumi.ResourceOptions()))
    assert plan.one(RELEASE, "training-volcano-chart").inputs["namespace"] == "volcano-system"
    assert plan.find(QUEUE) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kueue": {"cohort": "x"}},
         "kueue: is only used with queueSystem kueue; remove it or set queueSystem: kueue"),
        ({"queueSystem": "kueue", "rayClusters": {}},
         "volcano: is only used with queueSystem volcano; remove it or set queueSystem: volcano"),
        ({"volcano": {"queues": {"nlp": {"weight": 2}}}}, "volcano.queues.nlp: unknown team; teams: cv, ml"),
        ({"teams": {"default": {}}, "rayClusters": {}, "volcano": {}},
         "teams.default: the Volcano chart creates the queue 'default' itself; rename the team"),
        ({"teams": {"ml": {"gpuQuota": 8, "gpuPools": {"train": 8}}, "cv": {}}},
         "teams.ml.gpuPools: is Kueue's per-pool quota and has no effect with queueSystem volcano (the "
         'team\'s queue caps nvidia.com/gpu at gpuQuota); remove it (got {"train": 8})'),
        ({"rayClusters": {"demo": {"namespace": "cv", "queue": "ml", "enableInTreeAutoscaling": False}}},
         "rayClusters.demo.namespace: must be 'ml': the Volcano queue 'ml' serves the team's namespace "
         'only (got "cv")'),
        ({"volcano": {"scheduler": {"tiers": [{"plugins": [{"name": "priority"}, {"name": "proportion"}]}]}}},
         "volcano.scheduler.tiers: must enable the 'gang' plugin: gang scheduling is what jobs get Volcano "
         'for (got ["priority", "proportion"])'),
        ({"volcano": {"scheduler": {"tiers": [{"plugins": [{"name": "gang"}, {"name": "proportion"},
                                                           {"name": "capacity"}]}]}}},
         "volcano.scheduler.tiers: must not enable 'capacity' with 'proportion': they are alternative "
         'queue-sharing plugins (got ["gang", "proportion", "capacity"])'),
        ({"volcano": {"scheduler": {"actions": ["allocate", "allocate"]}}},
         'volcano.scheduler.actions.1: is listed twice (got "allocate")'),
        ({"volcano": {"podSecurity": "restricted"}},
         "volcano.podSecurity: must be one of 'baseline' or 'privileged' (got \"restricted\")"),
        ({"volcano": {"queues": {"ml": {"weight": 0}}}}, "volcano.queues.ml.weight: must be >= 1 (got 0)"),
    ],
)
def test_bad_volcano_configs_fail_with_exact_messages(changes, message):
    with pytest.raises(ConfigError) as err:
        training(**changes)
    assert str(err.value).splitlines()[1:] == [f"  - {message}"]


def test_errors_are_raised_before_any_resource(run_component):
    # model_validate runs pydantic only: build_training itself must catch the clash
    bad = TrainingConfig.model_validate({**CONFIG, "teams": {"root": {}}, "rayClusters": {},
                                         "volcano": {}})
    registered = []
    with pytest.raises(ConfigError) as err:
        run_component(lambda: registered.append(
            build_training("training", bad, POOLS, pulumi.ResourceOptions())))
    assert str(err.value).splitlines()[1:] == [
        "  - training.teams.root: the Volcano chart creates the queue 'root' itself; rename the team"]
    assert registered == []


def test_outputs_name_the_release_and_the_team_queues(run_component):
    got = resolved_outputs(run_component, lambda: Volcano("volcano", VolcanoArgs.of(VolcanoConfig(), TEAMS)),
                     "namespace", "release_name", "queue_names")
    assert got == {"namespace": "volcano-system", "release_name": "volcano",
                   "queue_names": {"ml": "ml", "cv": "cv"}}


def test_existing_namespace_and_opts_depends_on(run_component):
    def program():
        ns = k8s.core.v1.Namespace("scheduling", metadata={"name": "scheduling"})
        Volcano("volcano", {"namespace": "scheduling", "createNamespace": False},
                pulumi.ResourceOptions(depends_on=[ns]))

    plan = run_component(program)
    assert [r.name for r in plan.find("kubernetes:core/v1:Namespace")] == ["scheduling"]
    release = plan.one(RELEASE, "volcano-chart")
    assert release.inputs["namespace"] == "scheduling"
    assert release.dependencies == [plan.one("kubernetes:core/v1:Namespace", "scheduling").urn]


def test_component_refuses_queues_of_unknown_teams(refused):
    args = {"queues": {"nlp": {"weight": 2}}, "teams": {"root": {}, "ml": {"gpuPools": {"train": 1}}}}
    err = refused(lambda: Volcano("volcano", args))
    assert str(err) == (
        "invalid args of Volcano 'volcano' (4 errors):\n"
        '  - teams.ml.gpuPools: adds up to 1 GPUs, more than gpuQuota (0) (got {"train": 1})\n'
        "  - queues.nlp: unknown team; teams: ml, root\n"
        "  - teams.root: the Volcano chart creates the queue 'root' itself; rename the team\n"
        "  - teams.ml.gpuPools: is Kueue's per-pool quota and has no effect with queueSystem volcano (the "
        'team\'s queue caps nvidia.com/gpu at gpuQuota); remove it (got {"train": 1})')

"""PriorityClasses attached to workloads (RayCluster pods, InferenceService predictors), per
team and per workload; Kueue and Volcano preemption following the classes' preemptionPolicy;
Volcano's actions following the config."""

from __future__ import annotations

import pulumi
import pytest
import yaml

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.core.pools import GpuPool
from gpu_platform.plan.model import helm_release_manifest
from gpu_platform.serving import InferenceService, ServingConfig, build_serving
from gpu_platform.training import TrainingConfig, build_training
from gpu_platform.training.kueue import KueueConfig, render_cluster_queue
from gpu_platform.training.teams import (
    DEFAULT_PRIORITY_CLASSES,
    PriorityClassConfig,
    TeamConfig,
    preemption_enabled,
    workload_priority_class,
)
from gpu_platform.training.volcano import VolcanoArgs, VolcanoConfig, volcano_actions

RAY = "kubernetes:ray.io/v1:RayCluster"
CQ = "kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue"
PC = "kubernetes:scheduling.k8s.io/v1:PriorityClass"
RELEASE = "kubernetes:helm.sh/v3:Release"
POOLS = {"train": GpuPool.model_validate({"role": "training", "gpu": {"model": "A100-80GB", "count": 8},
                                          "minSize": 1, "maxSize": 4})}
ZERO_POOLS = {"train": POOLS["train"].model_copy(update={"min_size": 0})}
GROUP = {"gpu": {"pool": "train", "gpusPerWorker": 8, "minReplicas": 1, "maxReplicas": 1}}
NEVER = {"value": 1000, "preemptionPolicy": "Never"}


def training(**changes):
    base = {
        "enabled": True,
        "teams": {"ml": {"gpuQuota": 16}, "cv": {"gpuQuota": 8,
                                                  "priorityClasses": {"raycluster": "batch-low"}}},
        "rayClusters": {
            "ml-default": {"namespace": "ml", "enableInTreeAutoscaling": False, "workerGroups": GROUP},
            "cv-team": {"namespace": "cv", "enableInTreeAutoscaling": False, "workerGroups": GROUP},
            "ml-urgent": {"namespace": "ml", "enableInTreeAutoscaling": False, "workerGroups": GROUP,
                          "priorityClass": "inference-critical"},
        },
    }
    return validate_model(TrainingConfig, {**base, **changes})


def pod_classes(raycluster) -> list[str]:
    spec = raycluster.inputs["spec"]
    templates = [spec["headGroupSpec"]["template"]] + [g["template"] for g in spec["workerGroupSpecs"]]
    return [t["spec"]["priorityClassName"] for t in templates]


# --- which class ------------------------------------------------------------------------------


def test_defaults_per_workload_kind_then_team_then_workload() -> None:
    team = validate_model(TeamConfig, {"priorityClasses": {"raycluster": "batch-low"}})
    assert workload_priority_class("raycluster") == "training-high"
    assert workload_priority_class("inference") == "inference-critical"
    assert workload_priority_class("batch") == "batch-low"
    assert workload_priority_class("rayjob") == "batch-low"
    assert workload_priority_class("raycluster", team=team) == "batch-low"
    assert workload_priority_class("raycluster", explicit="x", team=team) == "x"


def test_rayclusters_carry_their_class_on_every_pod(run_component) -> None:
    plan = run_component(lambda: build_training("training", training(), POOLS, pulumi.ResourceOptions()))
    assert pod_classes(plan.one(RAY, "training-ray-ml-default-raycluster")) == ["training-high"] * 2
    assert pod_classes(plan.one(RAY, "training-ray-cv-team-raycluster")) == ["batch-low"] * 2
    assert pod_classes(plan.one(RAY, "training-ray-ml-urgent-raycluster")) == ["inference-critical"] * 2
    classes = {r.inputs["metadata"]["name"]: (r.inputs["value"], r.inputs["preemptionPolicy"])
               for r in plan.find(PC)}
    assert classes == {"inference-critical": (1000000, "PreemptLowerPriority"),
                       "training-high": (100000, "PreemptLowerPriority"), "batch-low": (1000, "Never")}
    # Kueue reads the pods' PriorityClass; the default classes may preempt lower ones
    for queue in plan.find(CQ):
        assert queue.inputs["spec"]["preemption"] == {"reclaimWithinCohort": "Any",
                                                      "withinClusterQueue": "LowerPriority"}


def test_unknown_classes_are_refused_with_the_config() -> None:
    with pytest.raises(ConfigError) as err:
        training(teams={"ml": {"gpuQuota": 16, "priorityClasses": {"raycluster": "urgent"}}},
                 rayClusters={"x": {"namespace": "ml", "enableInTreeAutoscaling": False,
                                    "priorityClass": "top"}})
    assert [str(i) for i in err.value.issues] == [
        "teams.ml.priorityClasses.raycluster: unknown PriorityClass; priorityClasses: "
        'inference-critical, training-high, batch-low (got "urgent")',
        "rayClusters.x.priorityClass: unknown PriorityClass; priorityClasses: "
        'inference-critical, training-high, batch-low (got "top")',
    ]


def test_kueue_does_not_preempt_when_no_class_may() -> None:
    classes = {"a": PriorityClassConfig.model_validate({"value": 10, "preemptionPolicy": "Never"}),
               "b": PriorityClassConfig.model_validate(NEVER)}
    assert not preemption_enabled(classes)
    assert preemption_enabled(DEFAULT_PRIORITY_CLASSES)
    # one class alone, or the lowest class allowed to preempt, preempts nothing
    assert not preemption_enabled({"only": PriorityClassConfig(value=5)})
    team = validate_model(TeamConfig, {"gpuQuota": 1})
    queue = render_cluster_queue("ml", team, KueueConfig(), preemption_enabled(classes))
    assert queue["spec"]["preemption"]["withinClusterQueue"] == "Never"


# --- InferenceService -------------------------------------------------------------------------

INFER = {"infer": GpuPool.model_validate({"role": "inference", "gpu": {"model": "L40S", "count": 4}})}


def _serving(**spec):
    return validate_model(ServingConfig, {"enabled": True, "inferenceServices": {
        "chat": {"storageUri": "s3://models/chat", "pool": "infer",
                 "model": {"catalog": "llama-3.1-8b-instruct"}, **spec}}})


@pytest.mark.parametrize(("spec", "classes", "expected"), [
    ({}, None, "inference-critical"),
    ({}, ["inference-critical", "training-high", "batch-low"], "inference-critical"),
    ({"priorityClass": "batch-low"}, ["inference-critical", "training-high", "batch-low"], "batch-low"),
    ({}, [], None),  # training off: no PriorityClass exists, so none is named
])
def test_inference_services_carry_their_class(run_component, spec, classes, expected) -> None:
    plan = run_component(lambda: build_serving("serving", _serving(**spec), INFER, pulumi.ResourceOptions(),
                                               priority_classes=classes))
    predictor = plan.one("kubernetes:serving.kserve.io/v1beta1:InferenceService",
                         "serving-chat-isvc").inputs["spec"]["predictor"]
    assert predictor.get("priorityClassName") == expected


def test_inference_service_refuses_a_class_that_does_not_exist(refused) -> None:
    err = refused(lambda: build_serving("serving", _serving(priorityClass="urgent"), INFER,
                                        pulumi.ResourceOptions(), priority_classes=[]))
    assert [str(i) for i in err.issues] == [
        "serving.inferenceServices.chat.priorityClass: unknown PriorityClass; priorityClasses: none "
        '(training.priorityClasses creates them) (got "urgent")']
    err = refused(lambda: InferenceService("i", {
        "serviceName": "chat", "pools": INFER, "priorityClasses": ["batch-low"],
        "spec": {"storageUri": "s3://models/chat", "pool": "infer", "priorityClass": "urgent",
                 "model": {"catalog": "llama-3.1-8b-instruct"}}}))
    assert str(err) == ("invalid args of InferenceService 'i' (1 error):\n"
                        '  - spec.priorityClass: unknown PriorityClass; priorityClasses: batch-low '
                        '(got "urgent")')


# --- Volcano actions --------------------------------------------------------------------------

TEAMS = {"ml": validate_model(TeamConfig, {"gpuQuota": 8}), "cv": validate_model(TeamConfig, {"gpuQuota": 8})}
ALL_NEVER = {"a": PriorityClassConfig.model_validate(NEVER)}


@pytest.mark.parametrize(("volcano", "teams", "classes", "zero", "actions"), [
    ({}, TEAMS, DEFAULT_PRIORITY_CLASSES, False, ["enqueue", "allocate", "preempt", "reclaim", "backfill"]),
    ({}, TEAMS, DEFAULT_PRIORITY_CLASSES, True, ["allocate", "preempt", "reclaim", "backfill"]),
    ({}, TEAMS, ALL_NEVER, False, ["enqueue", "allocate", "reclaim", "backfill"]),
    ({}, {"ml": TEAMS["ml"]}, DEFAULT_PRIORITY_CLASSES, False,
     ["enqueue", "allocate", "preempt", "backfill"]),
    ({"queues": {"ml": {"reclaimable": False}, "cv": {"reclaimable": False}}}, TEAMS, {}, False,
     ["enqueue", "allocate", "backfill"]),
    ({"scheduler": {"actions": ["enqueue", "allocate"]}}, TEAMS, DEFAULT_PRIORITY_CLASSES, True,
     ["enqueue", "allocate"]),
])
def test_volcano_actions_follow_the_config(volcano, teams, classes, zero, actions) -> None:
    config = validate_model(VolcanoConfig, volcano)
    assert volcano_actions(config, teams, classes, scale_from_zero=zero) == actions


def _scheduler_actions(plan) -> str:
    values = helm_release_manifest(plan.one(RELEASE, "training-volcano-chart"))["values"]
    return yaml.safe_load(values["custom"]["scheduler_config_override"])["actions"]


def test_build_training_renders_the_derived_actions(run_component) -> None:
    config = training(queueSystem="volcano", rayClusters={})
    plan = run_component(lambda: build_training("training", config, POOLS, pulumi.ResourceOptions()))
    assert _scheduler_actions(plan) == "enqueue, allocate, preempt, reclaim, backfill"
    # a pool at zero nodes: no enqueue, so pending pods exist for the cluster-autoscaler
    plan = run_component(lambda: build_training("training", config, ZERO_POOLS, pulumi.ResourceOptions()))
    assert _scheduler_actions(plan) == "allocate, preempt, reclaim, backfill"
    never = training(queueSystem="volcano", rayClusters={}, priorityClasses={"batch-low": NEVER})
    plan = run_component(lambda: build_training("training", never, POOLS, pulumi.ResourceOptions()))
    assert _scheduler_actions(plan) == "enqueue, allocate, reclaim, backfill"


def test_preempt_needs_the_priority_plugin(refused) -> None:
    from gpu_platform.training import Volcano

    tiers = [{"plugins": [{"name": "gang"}, {"name": "proportion"}]}]
    args = VolcanoArgs.of(validate_model(VolcanoConfig, {"scheduler": {"tiers": tiers}}), TEAMS,
                          DEFAULT_PRIORITY_CLASSES)
    err = refused(lambda: Volcano("volcano", args))
    assert [str(i) for i in err.issues] == [
        "scheduler.tiers: must enable the 'priority' plugin for the preempt action: it orders jobs "
        'by their PriorityClass (got ["gang", "proportion"])']

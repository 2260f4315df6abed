"""The training area builder: composition, ordering, and errors raised before any resource."""

import pulumi
import pytest

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.core.pools import GpuPool
from gpu_platform.training import TrainingConfig, build_training, training_pool_issues

POOLS = {"train": GpuPool.model_validate({"role": "training", "gpu": {"model": "A100-80GB", "count": 8},
                                          "maxSize": 4})}
CONFIG = {
    "enabled": True,
    "teams": {"ml": {"gpuQuota": 32, "gpuPools": {"train": 16}}},
    "rayClusters": {"demo": {"namespace": "ml", "queue": "ml", "enableInTreeAutoscaling": False,
                             "workerGroups": {"gpu": {"pool": "train", "gpusPerWorker": 8,
                                                      "minReplicas": 2, "maxReplicas": 2}}}},
}


def config(**changes):
    return validate_model(TrainingConfig, {**CONFIG, **changes})


def test_builds_every_part_in_order(run_component, conformance):
    plan = run_component(lambda: build_training("training", config(), POOLS, pulumi.ResourceOptions()))
    assert sorted(r.name for r in plan.find() if r.type.startswith("gpu-platform:training:")) == [
        "training-kuberay", "training-kueue", "training-ray-demo", "training-teams"]
    ray = plan.one("kubernetes:ray.io/v1:RayCluster", "training-ray-demo-raycluster")
    assert ray.inputs["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "ml"
    assert set(ray.dependencies) == {
        plan.one("kubernetes:helm.sh/v3:Release", "training-kuberay-chart").urn,
        plan.one("kubernetes:core/v1:Namespace", "training-teams-ml-ns").urn,
        plan.one("kubernetes:kueue.x-k8s.io/v1beta2:LocalQueue", "training-kueue-ml-localqueue").urn,
    }
    policy = plan.one("kubernetes:networking.k8s.io/v1:NetworkPolicy",
                      "training-teams-ml-allow-ingress-namespaces")
    assert policy.inputs["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "ray-system"}
    conformance.assert_conformant(conformance.validate_all(plan.kubernetes_objects()))


def test_disabled_builds_nothing(run_component):
    off = TrainingConfig()
    plan = run_component(lambda: build_training("training", off, POOLS, pulumi.ResourceOptions()))
    assert [r.type for r in plan.find()] == []


def test_cross_checks_name_full_paths_and_nothing_is_registered(run_component):
    bad = config(
        teams={"ml": {"gpuQuota": 64}},
        rayClusters={"demo": {"namespace": "ml",
                              "workerGroups": {"gpu": {"pool": "h100", "gpusPerWorker": 1}}}},
    )
    assert [str(i) for i in training_pool_issues(bad, POOLS)] == [
        'training.rayClusters.demo.workerGroups.gpu.pool: unknown GPU pool; known pools: train (got "h100")',
        "training.teams.ml.gpuQuota: exceeds the environment's GPU capacity of 32 (sum over gpuPools of "
        "maxSize x gpu.count) (got 64)",
    ]
    with pytest.raises(ConfigError) as err:
        run_component(lambda: build_training("training", bad, POOLS, pulumi.ResourceOptions()))
    assert "training.teams.ml.gpuQuota" in str(err.value)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"queueSystem": "volcano"},
         "teams.ml.gpuPools: is Kueue's per-pool quota and has no effect with queueSystem volcano (the "
         'team\'s queue caps nvidia.com/gpu at gpuQuota); remove it (got {"train": 16})'),
        ({"rayClusters": {"demo": {"namespace": "ml", "queue": "cv", "enableInTreeAutoscaling": False}}},
         'rayClusters.demo.queue: unknown team queue; teams: ml (got "cv")'),
        ({"rayClusters": {"demo": {"namespace": "ray", "queue": "ml", "enableInTreeAutoscaling": False}}},
         "rayClusters.demo.namespace: must be 'ml': the LocalQueue 'ml' lives in the team's namespace "
         '(got "ray")'),
        ({"kuberay": {"enabled": False}},
         "kuberay.enabled: must be true while rayClusters are declared (got false)"),
    ],
)
def test_bad_training_configs_fail_with_exact_messages(changes, message):
    with pytest.raises(ConfigError) as err:
        config(**changes)
    assert str(err.value).splitlines()[1:] == [f"  - {message}"]


def test_invalid_pools_are_reported_once_by_their_path_before_anything(refused):
    bad_pools = {"train": GpuPool.model_validate({"role": "training", "gpu": {"model": "a100", "count": 8},
                                                  "maxSize": 4})}
    err = refused(lambda: build_training("training", config(), bad_pools, pulumi.ResourceOptions()))
    assert str(err).splitlines()[1:] == [
        "  - gpuPools.train.gpu.model: unknown GPU model; known models: T4, A10G, L4, L40S, A30, A100-40GB, "
        "A100-80GB, H100-80GB, H200-141GB, B200, GB200, B300, RTX-PRO-6000, RTX-PRO-4500 "
        '(got "a100")']

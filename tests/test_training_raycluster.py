"""RayCluster rendering: GPU workers on their pool, requests == limits, /dev/shm, GCS FT, errors."""

import pulumi
import pulumi_kubernetes as k8s
import pytest
from component_outputs import resolved_outputs

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.core.pools import GpuPool
from gpu_platform.training import RayCluster, RayClusterArgs
from gpu_platform.training.raycluster import (
    RayClusterSpec,
    head_service_name,
    image_ray_version,
    raycluster_pool_issues,
    render_raycluster,
)
from gpu_platform.versions import RAY_IMAGE, RAY_VERSION

POOLS = {
    "train": GpuPool.model_validate(
        {"role": "training", "gpu": {"model": "H100-80GB", "count": 8}, "maxSize": 4,
         "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"},
                    {"key": "team", "value": "ml", "effect": "NoExecute"}]}
    ),
}
SPEC = {
    "namespace": "ml",
    "head": {"cpu": "2", "memory": "8Gi", "shmSize": "2Gi"},
    "workerGroups": {
        "gpu": {"pool": "train", "gpusPerWorker": 8, "minReplicas": 0, "maxReplicas": 4,
                "cpu": "64", "memory": "512Gi", "shmSize": "64Gi"},
        "cpu": {"minReplicas": 1, "maxReplicas": 10},
    },
}


def spec(**changes):
    return validate_model(RayClusterSpec, {**SPEC, **changes})


def test_gpu_workers_run_on_their_pool_with_exact_scheduling():
    rendered = render_raycluster("demo", spec(), POOLS)
    gpu, cpu = rendered["spec"]["workerGroupSpecs"]
    assert gpu["groupName"] == "gpu"
    assert gpu["template"]["spec"]["nodeSelector"] == {"gpu-platform.io/pool": "train"}
    assert gpu["template"]["spec"]["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"},
        {"key": "team", "operator": "Equal", "value": "ml", "effect": "NoExecute"},
    ]
    assert "nodeSelector" not in cpu["template"]["spec"]
    assert "tolerations" not in cpu["template"]["spec"]
    assert (gpu["minReplicas"], gpu["maxReplicas"], gpu["replicas"]) == (0, 4, 0)
    assert (cpu["minReplicas"], cpu["maxReplicas"], cpu["replicas"]) == (1, 10, 1)


def test_requests_equal_limits_and_shm_is_memory_backed():
    rendered = render_raycluster("demo", spec(), POOLS)
    gpu, cpu = rendered["spec"]["workerGroupSpecs"]
    container = gpu["template"]["spec"]["containers"][0]
    expected = {"cpu": "64", "memory": "512Gi", "nvidia.com/gpu": "8"}
    assert container["resources"] == {"requests": expected, "limits": expected}
    assert container["volumeMounts"] == [{"name": "dshm", "mountPath": "/dev/shm"}]
    assert gpu["template"]["spec"]["volumes"] == [
        {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "64Gi"}}
    ]
    cpu_container = cpu["template"]["spec"]["containers"][0]
    assert cpu_container["resources"]["limits"] == {"cpu": "4", "memory": "16Gi"}
    assert cpu["template"]["spec"]["volumes"][0]["emptyDir"]["sizeLimit"] == "4Gi"


def test_images_follow_ray_version_and_security_is_non_root():
    rendered = render_raycluster("demo", spec(), POOLS)
    head = rendered["spec"]["headGroupSpec"]
    gpu, cpu = rendered["spec"]["workerGroupSpecs"]
    assert rendered["spec"]["rayVersion"] == RAY_VERSION
    assert head["template"]["spec"]["containers"][0]["image"] == f"rayproject/ray:{RAY_VERSION}-py311"
    assert gpu["template"]["spec"]["containers"][0]["image"] == f"rayproject/ray:{RAY_VERSION}-py311-gpu"
    assert cpu["template"]["spec"]["containers"][0]["image"] == RAY_IMAGE
    assert head["rayStartParams"] == {"dashboard-host": "0.0.0.0", "num-cpus": "0"}
    assert gpu["template"]["spec"]["containers"][0]["securityContext"] == {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True, "runAsUser": 1000,
    }
    assert gpu["template"]["spec"]["securityContext"] == {
        "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    assert head["template"]["spec"]["securityContext"] == gpu["template"]["spec"]["securityContext"]


def test_only_an_autoscaling_head_mounts_a_service_account_token():
    rendered = render_raycluster("demo", spec(), POOLS)
    head = rendered["spec"]["headGroupSpec"]["template"]["spec"]
    assert head["automountServiceAccountToken"] is True  # the autoscaler sidecar calls the API
    assert [g["template"]["spec"]["automountServiceAccountToken"]
            for g in rendered["spec"]["workerGroupSpecs"]] == [False, False]
    fixed = render_raycluster("demo", spec(enableInTreeAutoscaling=False), POOLS)
    assert fixed["spec"]["headGroupSpec"]["template"]["spec"]["automountServiceAccountToken"] is False


def test_pinned_ray_image_agrees_with_pinned_ray_version():
    assert image_ray_version(RAY_IMAGE) == RAY_VERSION
    assert image_ray_version("registry.local:5000/ray:2.40.0-py311") == "2.40.0"


def test_autoscaling_options_are_rendered():
    rendered = render_raycluster("demo", spec(idleTimeoutSeconds=120), POOLS)
    assert rendered["spec"]["enableInTreeAutoscaling"] is True
    options = rendered["spec"]["autoscalerOptions"]
    assert (options["upscalingMode"], options["idleTimeoutSeconds"]) == ("Default", 120)
    assert options["resources"]["requests"] == options["resources"]["limits"]
    fixed = render_raycluster("demo", spec(enableInTreeAutoscaling=False), POOLS)
    assert "autoscalerOptions" not in fixed["spec"]


def test_gcs_fault_tolerance_takes_the_redis_password_from_a_secret():
    ft = {"enabled": True, "redisAddress": "redis.ml:6379",
          "redisPasswordSecret": {"name": "ray-redis", "key": "password"}}
    rendered = render_raycluster("demo", spec(gcsFaultTolerance=ft), POOLS)
    assert rendered["spec"]["gcsFaultToleranceOptions"] == {
        "redisAddress": "redis.ml:6379",
        "redisPassword": {"valueFrom": {"secretKeyRef": {"name": "ray-redis", "key": "password"}}},
    }
    assert "gcsFaultToleranceOptions" not in render_raycluster("demo", spec(), POOLS)["spec"]


def test_inline_redis_password_is_rejected():
    with pytest.raises(ConfigError) as err:
        spec(gcsFaultTolerance={"enabled": True, "redisAddress": "r:6379", "redisPassword": "hunter2"})
    expected = "gcsFaultTolerance.redisPassword: unknown key; did you mean 'redisPasswordSecret'?"
    assert expected in str(err.value)


def test_rendered_clusters_conform_to_the_upstream_crd(conformance):
    ft = {"enabled": True, "redisAddress": "redis.ml:6379",
          "redisPasswordSecret": {"name": "ray-redis", "key": "password"}}
    for variant in (spec(), spec(gcsFaultTolerance=ft, enableInTreeAutoscaling=False, queue="ml")):
        conformance.assert_conformant(conformance.validate_object(render_raycluster("demo", variant, POOLS)))


def test_unknown_pool_and_too_many_gpus_name_the_path():
    bad = spec(workerGroups={"gpu": {"pool": "trian", "gpusPerWorker": 1},
                             "big": {"pool": "train", "gpusPerWorker": 16}})
    assert [str(i) for i in raycluster_pool_issues(bad, POOLS)] == [
        'workerGroups.gpu.pool: unknown GPU pool; known pools: train (got "trian")',
        "workerGroups.big.gpusPerWorker: must be <= 8, the GPUs per node of pool 'train' (got 16)",
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"workerGroups": {"g": {"minReplicas": 3, "maxReplicas": 2}}},
         "workerGroups.g.minReplicas: must be <= maxReplicas (2) (got 3)"),
        ({"workerGroups": {"g": {"gpusPerWorker": 1}}},
         "workerGroups.g.pool: is required when gpusPerWorker > 0: name the GPU pool the workers run on"),
        ({"workerGroups": {"g": {"pool": "train"}}},
         "workerGroups.g.gpusPerWorker: must be >= 1 for a group on a GPU pool (got 0)"),
        ({"workerGroups": {"g": {"memory": "4Gi", "shmSize": "8Gi"}}},
         "workerGroups.g.shmSize: must be <= memory (4Gi): a memory-backed /dev/shm counts against the "
         'memory limit (got "8Gi")'),
        ({"image": "rayproject/ray:2.9.0-py310"},
         f"image: image tag must start with rayVersion '{RAY_VERSION}-' (the head and workers must run "
         'the Ray version KubeRay is told) (got "rayproject/ray:2.9.0-py310")'),
        ({"queue": "ml"},
         "enableInTreeAutoscaling: must be false when queue is set: Kueue admits a RayCluster at a "
         "fixed size (got true)"),
        ({"gcsFaultTolerance": {"enabled": True}},
         "gcsFaultTolerance.redisAddress: is required when enabled is true (host:port of Redis)"),
        ({"head": {"cpu": "two"}},
         "head.cpu: must be a Kubernetes quantity such as '500m', '8', '16Gi' or '1G' (got \"two\")"),
    ],
)
def test_bad_specs_fail_with_exact_messages(changes, message):
    with pytest.raises(ConfigError) as err:
        spec(**changes)
    assert str(err.value).splitlines()[1:] == [f"  - {message}"]


def args(**changes):
    return RayClusterArgs.of(spec(**changes), "demo", POOLS)


def test_component_registers_one_custom_resource(run_component, conformance):
    def program():
        RayCluster("ray-demo", args(), pulumi.ResourceOptions())

    plan = run_component(program)
    component = plan.one("gpu-platform:training:RayCluster", "ray-demo")
    resource = plan.one("kubernetes:ray.io/v1:RayCluster", "ray-demo-raycluster")
    assert resource.parent == component.urn
    (manifest,) = plan.kubernetes_objects()
    assert manifest == render_raycluster("demo", spec(), POOLS)
    conformance.assert_conformant(conformance.validate_object(manifest))


def test_workload_context_wires_networks_efa_and_mounts_and_conforms(conformance):
    from gpu_platform.network import NetworkConfig
    from gpu_platform.storage import StorageConfig
    from gpu_platform.training.raycluster import WorkloadContext

    network = validate_model(NetworkConfig, {
        "enabled": True, "rdmaResources": {"rdma_a": {"vendors": ["15b3"]}},
        "networks": {"rdma-net": {"type": "host-device", "namespace": "ml", "device": "ens1f0",
                                  "rdmaResource": "rdma_a", "range": "192.168.100.0/24"}}})
    storage = validate_model(StorageConfig, {"juicefs": {
        "fileSystems": {"lab": {"backend": "external",
                                "external": {"metaurl": "redis://r:6379/1", "bucket": "https://b/j"}}},
        "volumes": {"checkpoints": {"fileSystem": "lab", "namespace": "ml", "size": "1Ti"}}}})
    workload = WorkloadContext(network, {"train": 4}, storage)
    groups = {"gpu": {**SPEC["workerGroups"]["gpu"], "networks": ["rdma-net"],
                      "mounts": {"checkpoints": {"mountPath": "/ckpt"}}},
              "cpu": SPEC["workerGroups"]["cpu"]}
    rendered = render_raycluster("demo", spec(workerGroups=groups), POOLS, workload=workload)
    gpu, cpu = rendered["spec"]["workerGroupSpecs"]
    container = gpu["template"]["spec"]["containers"][0]
    assert gpu["template"]["metadata"] == {"annotations": {"k8s.v1.cni.cncf.io/networks": "ml/rdma-net"}}
    assert container["resources"]["limits"] == {"cpu": "64", "memory": "512Gi", "nvidia.com/gpu": "8",
                                                "rdma/rdma_a": "1", "vpc.amazonaws.com/efa": "4"}
    assert container["volumeMounts"][1:] == [{"name": "checkpoints", "mountPath": "/ckpt", "readOnly": False}]
    assert cpu == render_raycluster("demo", spec(), POOLS)["spec"]["workerGroupSpecs"][1]
    conformance.assert_conformant(conformance.validate_object(rendered))


def test_typed_outputs_name_the_cluster_and_its_head_service(run_component):
    got = resolved_outputs(run_component, lambda: RayCluster("ray-demo", args()),
                     "cluster_name", "namespace", "head_service_name", "dashboard_url")
    assert got == {"cluster_name": "demo", "namespace": "ml", "head_service_name": "demo-head-svc",
                   "dashboard_url": "http://demo-head-svc.ml.svc:8265"}
    # KubeRay shortens head Service names over 50 characters; a DNS label never gets there
    assert len(head_service_name("x" * 40)) == 49


def test_mapping_args_use_the_config_keys(run_component):
    mapping = {**SPEC, "clusterName": "demo", "pools": POOLS}
    plan = run_component(lambda: RayCluster("ray-demo", mapping))
    (manifest,) = plan.kubernetes_objects()
    assert manifest == render_raycluster("demo", spec(), POOLS)


def test_order_comes_from_opts_depends_on(run_component):
    def program():
        first = k8s.core.v1.Namespace("ml", metadata={"name": "ml"})
        RayCluster("ray-demo", args(), pulumi.ResourceOptions(depends_on=[first]))

    plan = run_component(program)
    namespace = plan.one("kubernetes:core/v1:Namespace", "ml")
    assert plan.one("kubernetes:ray.io/v1:RayCluster", "ray-demo-raycluster").dependencies == [namespace.urn]


def test_a_worker_group_naming_an_unknown_pool_is_refused(refused):
    bad = {**SPEC, "clusterName": "demo", "pools": POOLS,
           "workerGroups": {"gpu": {"pool": "trian", "gpusPerWorker": 1}}}
    err = refused(lambda: RayCluster("ray-demo", bad))
    assert str(err) == (
        "invalid args of RayCluster 'ray-demo' (1 error):\n"
        '  - workerGroups.gpu.pool: unknown GPU pool; known pools: train (got "trian")')


def test_more_gpus_per_worker_than_the_pool_has_is_refused(refused):
    small = {"small": GpuPool.model_validate({"role": "training", "gpu": {"model": "L4", "count": 1}})}
    bad = RayClusterArgs.of(spec(workerGroups={"gpu": {"pool": "small", "gpusPerWorker": 8}}), "demo", small)
    err = refused(lambda: RayCluster("ray-demo", bad))
    assert str(err) == (
        "invalid args of RayCluster 'ray-demo' (1 error):\n"
        "  - workerGroups.gpu.gpusPerWorker: must be <= 1, the GPUs per node of pool 'small' (got 8)")


def test_field_errors_and_unresolved_names_are_refused(refused):
    bad = {**SPEC, "clusterName": "Demo", "pools": POOLS, "queueSystem": "slurm",
           "workerGroups": {"gpu": {"pool": "train", "gpusPerWorker": 8, "networks": ["rdma-net"]}}}
    err = refused(lambda: RayCluster("ray-demo", bad))
    assert [str(i) for i in err.issues] == [
        "clusterName: must be a DNS label: lowercase letters, digits and '-', starting and ending with a "
        'letter or digit (got "Demo")',
        "queueSystem: must be one of 'kueue' or 'volcano' (got \"slurm\")",
    ]
    unresolved = RayClusterArgs.model_validate({**bad, "clusterName": "demo", "queueSystem": "kueue"})
    err = refused(lambda: RayCluster("ray-demo", unresolved))
    assert [str(i) for i in err.issues] == [
        "workerGroups.gpu.networks.0: the network layer is off (network.enabled is false): turn it on or "
        'remove the network (got "rdma-net")']

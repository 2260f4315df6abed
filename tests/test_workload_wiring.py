"""Workloads name the network and storage layers: RayCluster worker groups get RDMA networks,
EFA from their AWS node pool and storage mounts; InferenceServices get mounts; every name that
does not resolve is an error naming its full path, before anything is registered."""

import json

import pulumi
import pytest

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.core.pools import GpuPool
from gpu_platform.environment import EnvironmentConfig
from gpu_platform.plan.runner import load_stack_config
from gpu_platform.testing.fixtures import PROJECT_DIR
from gpu_platform.training import TrainingConfig, build_training

NCCL_RDMA_ENV = [
    {"name": "NCCL_IB_DISABLE", "value": "0"},
    {"name": "NCCL_IB_HCA", "value": "mlx5"},
    {"name": "NCCL_NET_GDR_LEVEL", "value": "PHB"},
    {"name": "NCCL_SOCKET_IFNAME", "value": "eth0"},
    {"name": "NCCL_DEBUG", "value": "WARN"},
]
EFA_ENV = [
    {"name": "FI_PROVIDER", "value": "efa"},
    {"name": "FI_EFA_USE_DEVICE_RDMA", "value": "1"},
    {"name": "NCCL_SOCKET_IFNAME", "value": "eth0"},
    {"name": "NCCL_DEBUG", "value": "WARN"},
]
# Ray runs as uid 1000: an added IPC_LOCK would not reach it, and Pod Security would reject it
RAY_SECURITY = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                "runAsNonRoot": True, "runAsUser": 1000}


def _pvc(name, read_only):
    return {"name": name, "persistentVolumeClaim": {"claimName": name, "readOnly": read_only}}


def _mount(name, read_only):
    return {"name": name, "mountPath": f"/mnt/{name}", "readOnly": read_only}


DATA_VOLUMES = [_pvc("datasets", True), _pvc("checkpoints", False)]
DATA_MOUNTS = [{"name": "dshm", "mountPath": "/dev/shm"}, _mount("datasets", True),
               _mount("checkpoints", False)]


def _raycluster(plan, name):
    (cluster,) = [o for o in plan.kubernetes_objects()
                  if o["kind"] == "RayCluster" and o["metadata"]["name"] == name]
    return cluster


def _groups(cluster):
    return {g["groupName"]: g["template"] for g in cluster["spec"]["workerGroupSpecs"]}


def test_onprem_gpu_workers_join_the_rdma_network(plan_env):
    cluster = _raycluster(plan_env("onprem"), "ml")
    template = _groups(cluster)["gpu"]
    assert template["metadata"] == {"annotations": {"k8s.v1.cni.cncf.io/networks": "ml/rdma-net"}}
    (container,) = template["spec"]["containers"]
    amounts = {"cpu": "100", "memory": "900Gi", "nvidia.com/gpu": "8", "rdma/rdma_shared_device_a": "1"}
    assert container["resources"] == {"requests": amounts, "limits": amounts}
    assert container["env"] == NCCL_RDMA_ENV
    assert container["securityContext"] == RAY_SECURITY


def test_onprem_mounts_datasets_read_only_and_checkpoints_writable(plan_env):
    cluster = _raycluster(plan_env("onprem"), "ml")
    spec = _groups(cluster)["gpu"]["spec"]
    assert spec["volumes"] == [
        {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "128Gi"}}, *DATA_VOLUMES]
    assert spec["containers"][0]["volumeMounts"] == DATA_MOUNTS
    head = cluster["spec"]["headGroupSpec"]["template"]["spec"]
    assert head["volumes"][1:] == [_pvc("checkpoints", False)]
    assert head["containers"][0]["volumeMounts"][1:] == [_mount("checkpoints", False)]


def test_prod_h100_workers_get_every_efa_device_of_a_p5(plan_env):
    cluster = _raycluster(plan_env("prod"), "llm")
    groups = _groups(cluster)
    h100 = groups["h100"]
    assert "metadata" not in h100  # EFA needs no Multus annotation
    (container,) = h100["spec"]["containers"]
    amounts = {"cpu": "180", "memory": "1800Gi", "nvidia.com/gpu": "8", "vpc.amazonaws.com/efa": "32"}
    assert container["resources"] == {"requests": amounts, "limits": amounts}
    assert container["env"] == EFA_ENV
    assert container["securityContext"] == RAY_SECURITY
    assert h100["spec"]["volumes"][1:] == DATA_VOLUMES
    assert container["volumeMounts"] == DATA_MOUNTS


def test_cpu_groups_get_neither_networks_nor_efa(plan_env):
    for env, cluster_name in (("prod", "llm"), ("staging", "train")):
        cpu = _groups(_raycluster(plan_env(env), cluster_name))["cpu"]
        (container,) = cpu["spec"]["containers"]
        assert "metadata" not in cpu
        assert "env" not in container
        assert set(container["resources"]["limits"]) == {"cpu", "memory"}
        assert container["securityContext"] == RAY_SECURITY
    head = _raycluster(plan_env("onprem"), "ml")["spec"]["headGroupSpec"]["template"]
    assert "metadata" not in head and "env" not in head["spec"]["containers"][0]


def test_staging_a100_workers_get_the_four_efa_devices_of_a_p4d(plan_env):
    (container,) = _groups(_raycluster(plan_env("staging"), "train"))["gpu"]["spec"]["containers"]
    assert container["resources"]["limits"]["vpc.amazonaws.com/efa"] == "4"
    assert container["env"] == EFA_ENV


def test_dev_mounts_the_ml_volumes(plan_env):
    gpu = _groups(_raycluster(plan_env("dev"), "dev"))["gpu"]
    assert gpu["spec"]["volumes"][1:] == DATA_VOLUMES
    assert gpu["spec"]["containers"][0]["volumeMounts"] == DATA_MOUNTS
    assert "vpc.amazonaws.com/efa" not in gpu["spec"]["containers"][0]["resources"]["limits"]


def _stack(env):
    values = load_stack_config(PROJECT_DIR / "stacks" / f"Pulumi.{env}.yaml").values
    return {key.split(":", 1)[1]: json.loads(value) for key, value in values.items()
            if key.startswith("gpu-platform:")}


def _cluster(data, name="ml"):
    return data["training"]["rayClusters"][name]


def test_efa_false_opts_a_group_out(plan_env):
    data = _stack("prod")
    _cluster(data, "llm")["workerGroups"]["h100"]["efa"] = False
    overrides = {"gpu-platform:training": data["training"]}
    plan = plan_env("prod", overrides=overrides)
    (container,) = _groups(_raycluster(plan, "llm"))["h100"]["spec"]["containers"]
    assert "vpc.amazonaws.com/efa" not in container["resources"]["limits"]
    assert "env" not in container


def test_inference_service_mounts_a_models_pvc(plan_env, conformance):
    data = _stack("onprem")
    data["serving"]["inferenceServices"]["llama-70b"]["mounts"] = {
        "llm-models": {"mountPath": "/models", "readOnly": True}}
    plan = plan_env("onprem", overrides={"gpu-platform:serving": data["serving"]})
    (isvc,) = [o for o in plan.kubernetes_objects() if o["kind"] == "InferenceService"]
    predictor = isvc["spec"]["predictor"]
    assert predictor["volumes"] == [_pvc("llm-models", True)]
    assert predictor["model"]["volumeMounts"] == [
        {"name": "llm-models", "mountPath": "/models", "readOnly": True}]
    conformance.assert_conformant(conformance.validate_object(isvc))


def _errors(data):
    with pytest.raises(ConfigError) as err:
        validate_model(EnvironmentConfig, data)
    return [str(i) for i in err.value.issues]


GPU_GROUP = "training.rayClusters.ml.workerGroups.gpu"


def test_unknown_network_lists_the_known_ones():
    data = _stack("onprem")
    _cluster(data)["workerGroups"]["gpu"]["networks"] = ["rdma-net", "rdma-nett"]
    assert _errors(data) == [
        f'{GPU_GROUP}.networks.1: unknown network; networks: rdma-net (got "rdma-nett")']


def test_a_network_needs_the_network_layer_on():
    data = _stack("onprem")
    data["network"]["enabled"] = False
    off = 'networks.0: the network layer is off (network.enabled is false): turn it on or remove the ' \
          'network (got "rdma-net")'
    # the RayCluster's workers and the training runtimes (issue 18) name the same network
    assert _errors(data) == [f"{GPU_GROUP}.{off}", f"training.runtimes.ml-torch.{off}",
                             f"training.runtimes.ml-deepspeed.{off}"]


def test_unknown_mount_lists_known_volumes_and_datasets():
    data = _stack("onprem")
    _cluster(data)["workerGroups"]["gpu"]["mounts"] = {"dataset": {}}
    assert _errors(data) == [
        f"{GPU_GROUP}.mounts.dataset: unknown storage volume or dataset 'dataset'; known names: "
        "checkpoints, datasets, imagenet, llm-models"]


def test_mounts_from_another_namespace_name_both_namespaces():
    data = _stack("onprem")
    _cluster(data)["head"]["mounts"] = {"llm-models": {}, "imagenet": {}}
    data["serving"]["inferenceServices"]["llama-70b"]["mounts"] = {"checkpoints": {}}
    assert _errors(data) == [
        "training.rayClusters.ml.head.mounts.llm-models: storage volume 'llm-models' is in namespace "
        "'ml-serving', not 'ml': a pod can only mount a PVC of its own namespace",
        "training.rayClusters.ml.head.mounts.imagenet: storage dataset 'imagenet' is in namespace "
        "'datasets', not 'ml': a pod can only mount a PVC of its own namespace",
        "serving.inferenceServices.llama-70b.mounts.checkpoints: storage volume 'checkpoints' is in "
        "namespace 'ml', not 'ml-serving': a pod can only mount a PVC of its own namespace",
    ]


def test_clashing_mount_paths_and_explicit_efa_without_efa():
    data = _stack("onprem")
    group = _cluster(data)["workerGroups"]["gpu"]
    group["efa"] = True
    group["mounts"] = {"datasets": {"mountPath": "/data"}, "checkpoints": {"mountPath": "/data"},
                       "llm-models": {"mountPath": "/dev/shm"}}
    data["storage"]["juicefs"]["volumes"]["llm-models"]["namespace"] = "ml"
    assert _errors(data) == [
        f"{GPU_GROUP}.efa: pool 'a100' has no EFA devices: set aws.nodePools.a100.efa.enabled: true, "
        "or remove efa (got true)",
        f'{GPU_GROUP}.mounts.checkpoints.mountPath: already used by mounts.datasets (got "/data")',
        f'{GPU_GROUP}.mounts.llm-models.mountPath: already used by the memory-backed /dev/shm '
        '(got "/dev/shm")',
    ]


def test_mounts_need_a_storage_layer():
    data = _stack("onprem")
    del data["storage"]
    errors = _errors(data)
    assert f"{GPU_GROUP}.mounts.datasets: no storage is configured (gpu-platform:storage); mounts " \
           "name its juicefs.volumes or fluid.datasets" in errors


POOLS = {"a100": GpuPool.model_validate({"role": "training", "gpu": {"model": "A100-80GB", "count": 8}})}


def test_standalone_build_training_rejects_names_before_registering(run_component):
    config = validate_model(TrainingConfig, {"enabled": True, "rayClusters": {"ml": {
        "namespace": "ml",
        "workerGroups": {"gpu": {"pool": "a100", "gpusPerWorker": 8, "networks": ["rdma-net"]}}}}})
    registered = []

    def program():
        try:
            build_training("training", config, POOLS, pulumi.ResourceOptions())
        except ConfigError as err:
            registered.append(str(err))

    plan = run_component(program)
    assert plan.resources == []
    assert registered[0].splitlines()[1:] == [
        "  - training.rayClusters.ml.workerGroups.gpu.networks.0: the network layer is off "
        '(network.enabled is false): turn it on or remove the network (got "rdma-net")']


def test_efa_on_a_cpu_group_is_rejected():
    with pytest.raises(ConfigError) as err:
        validate_model(TrainingConfig, {"rayClusters": {"ml": {
            "namespace": "ml", "workerGroups": {"cpu": {"efa": True, "networks": ["a", "a"]}}}}})
    assert [str(i) for i in err.value.issues] == [
        "rayClusters.ml.workerGroups.cpu.efa: needs a GPU pool: EFA devices come with the pool's AWS "
        "node pool (got true)",
        'rayClusters.ml.workerGroups.cpu.networks.1: is listed twice (got "a")',
    ]

"""Trainer v2 runtimes from a pool: GPUs, placement, /dev/shm, NCCL over EFA or RDMA, mounts, MLflow."""

import pytest
from component_outputs import resolved_outputs

from gpu_platform.config import validate_model
from gpu_platform.core.pools import GpuPool
from gpu_platform.network import NetworkConfig
from gpu_platform.plan.model import kubernetes_object
from gpu_platform.training import TrainingRuntime, TrainingRuntimeArgs, TrainingRuntimeSpec
from gpu_platform.training.runtimes import render_training_runtime
from gpu_platform.versions import DEEPSPEED_RUNTIME_IMAGE, TRAINER_TORCH_IMAGE
from gpu_platform.workloads import WorkloadContext

RUNTIME = "gpu-platform:training:TrainingRuntime"
NS_RUNTIME = "kubernetes:trainer.kubeflow.org/v1alpha1:TrainingRuntime"
CLUSTER_RUNTIME = "kubernetes:trainer.kubeflow.org/v1alpha1:ClusterTrainingRuntime"
POOLS = {"train": GpuPool.model_validate(
    {"role": "training", "gpu": {"model": "H100-80GB", "count": 8}, "maxSize": 4})}
SPEC = {"pool": "train", "cpu": "180", "memory": "1800Gi"}


def spec(**changes):
    return validate_model(TrainingRuntimeSpec, {**SPEC, **changes})


def node_pod(manifest, job="node"):
    jobs = {j["name"]: j for j in manifest["spec"]["template"]["spec"]["replicatedJobs"]}
    return jobs[job]["template"]["spec"]["template"]


def env_of(container):
    return {e["name"]: e["value"] for e in container["env"]}


def test_prod_renders_torch_runtime_with_efa_nccl_shm_and_efa_devices_on_the_efa_pool(plan_env, conformance):
    plan = plan_env("prod")
    runtime = kubernetes_object(plan.one(
        NS_RUNTIME, "platform-training-runtime-llm-torch-runtime"))
    assert runtime["metadata"]["namespace"] == "llm"
    assert runtime["spec"]["mlPolicy"] == {"numNodes": 2, "torch": {}}
    pod = node_pod(runtime)
    assert pod["spec"]["nodeSelector"] == {"gpu-platform.io/pool": "train"}
    assert pod["spec"]["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]
    (node,) = pod["spec"]["containers"]
    # p5.48xlarge: 8 H100 and 32 EFA interfaces per node; requests == limits
    expected = {"cpu": "180", "memory": "1800Gi", "nvidia.com/gpu": "8", "vpc.amazonaws.com/efa": "32"}
    assert node["resources"] == {"requests": expected, "limits": expected}
    assert env_of(node) == {
        "CUDA_DEVICE_MAX_CONNECTIONS": "1", "PYTORCH_CUDA_ALLOC_CONF": "max_split_size_mb:512",
        "MLFLOW_TRACKING_URI": "http://mlflow.mlflow.svc:80",
        "FI_PROVIDER": "efa", "FI_EFA_USE_DEVICE_RDMA": "1",
        "NCCL_SOCKET_IFNAME": "eth0", "NCCL_DEBUG": "WARN",
    }
    assert pod["spec"]["volumes"][0] == {
        "name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "256Gi"}}
    assert node["volumeMounts"] == [
        {"name": "dshm", "mountPath": "/dev/shm"},
        {"name": "datasets", "mountPath": "/mnt/datasets", "readOnly": True},
        {"name": "checkpoints", "mountPath": "/mnt/checkpoints", "readOnly": False},
    ]
    assert [v["persistentVolumeClaim"]["claimName"] for v in pod["spec"]["volumes"][1:]] == [
        "datasets", "checkpoints"]
    # Pod Security restricted in team llm: no added capability (IPC_LOCK would be rejected)
    assert "capabilities" not in node["securityContext"]
    assert "podGroupPolicy" not in runtime["spec"]  # Kueue: the TrainJob carries the queue label
    conformance.assert_conformant(conformance.validate_object(runtime))


def test_onprem_renders_runtimes_over_rdma_with_volcano_gangs(plan_env, conformance):
    plan = plan_env("onprem")
    runtime = kubernetes_object(plan.one(
        NS_RUNTIME, "platform-training-runtime-ml-torch-runtime"))
    pod = node_pod(runtime)
    assert pod["metadata"] == {"annotations": {"k8s.v1.cni.cncf.io/networks": "ml/rdma-net"}}
    (node,) = pod["spec"]["containers"]
    assert node["resources"]["limits"] == {
        "cpu": "100", "memory": "900Gi", "nvidia.com/gpu": "8", "rdma/rdma_shared_device_a": "1"}
    env = env_of(node)
    assert {k: env[k] for k in ("NCCL_IB_DISABLE", "NCCL_IB_HCA", "NCCL_NET_GDR_LEVEL")} == {
        "NCCL_IB_DISABLE": "0", "NCCL_IB_HCA": "mlx5", "NCCL_NET_GDR_LEVEL": "PHB"}
    assert "FI_PROVIDER" not in env  # no EFA on-prem
    assert env["MLFLOW_TRACKING_URI"] == "http://mlflow.mlflow.svc:80"  # the lab's MLflow
    assert pod["spec"]["volumes"][0]["emptyDir"] == {"medium": "Memory", "sizeLimit": "128Gi"}
    assert runtime["spec"]["podGroupPolicy"] == {"volcano": {}}
    deepspeed = kubernetes_object(plan.one(
        "kubernetes:trainer.kubeflow.org/v1alpha1:TrainingRuntime",
        "platform-training-runtime-ml-deepspeed-runtime"))
    assert deepspeed["spec"]["mlPolicy"] == {"numNodes": 2, "mpi": {
        "numProcPerNode": 8, "mpiImplementation": "OpenMPI", "sshAuthMountPath": "/home/mpiuser/.ssh",
        "runLauncherAsNode": True}}
    for job in ("node", "launcher"):  # the launcher trains too (runLauncherAsNode)
        job_pod = node_pod(deepspeed, job)
        assert job_pod["metadata"]["annotations"] == {"k8s.v1.cni.cncf.io/networks": "ml/rdma-net"}
        assert job_pod["spec"]["containers"][0]["resources"]["limits"]["rdma/rdma_shared_device_a"] == "1"
    conformance.assert_conformant(conformance.validate_all([runtime, deepspeed]))


def test_default_shm_is_16gi_per_gpu_capped_at_half_the_memory():
    assert spec().shm(POOLS["train"]) == "131072Mi"  # 8 x 16Gi
    assert spec(gpusPerNode=2).shm(POOLS["train"]) == "32768Mi"
    assert spec(memory="64Gi").shm(POOLS["train"]) == "32768Mi"  # half of 64Gi
    manifest = render_training_runtime("r", spec(gpusPerNode=2), POOLS)
    assert node_pod(manifest)["spec"]["volumes"] == [
        {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "32768Mi"}}]


def test_cluster_runtime_without_namespace_and_upstream_images(conformance):
    torch = render_training_runtime("torch-h100", spec(), POOLS)
    assert (torch["kind"], "namespace" in torch["metadata"]) == ("ClusterTrainingRuntime", False)
    assert node_pod(torch)["spec"]["containers"][0]["image"] == TRAINER_TORCH_IMAGE
    assert torch["spec"]["template"]["spec"]["replicatedJobs"][0]["template"]["metadata"] == {
        "labels": {"trainer.kubeflow.org/trainjob-ancestor-step": "trainer"}}
    ds = render_training_runtime("ds-h100", spec(framework="deepspeed"), POOLS)
    assert node_pod(ds)["spec"]["containers"][0]["image"] == DEEPSPEED_RUNTIME_IMAGE
    assert node_pod(ds)["spec"]["containers"][0]["command"] == ["/usr/sbin/sshd"]
    assert "command" not in node_pod(ds, "launcher")["spec"]["containers"][0]
    assert ds["spec"]["template"]["spec"]["successPolicy"] == {
        "operator": "All", "targetReplicatedJobs": ["launcher"]}
    conformance.assert_conformant(conformance.validate_all([torch, ds]))


def test_efa_false_leaves_nccl_on_sockets():
    workload = WorkloadContext(efa_interfaces={"train": 32})
    manifest = render_training_runtime("r", spec(efa=False), POOLS, workload=workload)
    node = node_pod(manifest)["spec"]["containers"][0]
    assert "vpc.amazonaws.com/efa" not in node["resources"]["limits"]
    assert node["env"] == []


def test_component_registers_its_outputs(run_component):
    args = TrainingRuntimeArgs.of(spec(), "torch-h100", POOLS)
    assert resolved_outputs(run_component, lambda: TrainingRuntime("rt", args), "runtime_name", "kind") == {
        "runtime_name": "torch-h100", "kind": "ClusterTrainingRuntime"}
    plan = run_component(lambda: TrainingRuntime("rt", {**SPEC, "runtimeName": "torch-h100", "pools": POOLS}))
    assert plan.one(CLUSTER_RUNTIME, "rt-runtime").parent == plan.one(RUNTIME, "rt").urn


def test_a_runtime_retyping_what_other_layers_own_is_refused(refused):
    bad = {**SPEC, "runtimeName": "r", "pools": POOLS, "gpusPerNode": 16, "networks": ["rdma-net"],
           "efa": True, "mounts": {"checkpoints": {}}, "shmSize": "2Ti",
           "env": {"NCCL_IB_DISABLE": "0", "MLFLOW_TRACKING_URI": "http://x"}}
    err = refused(lambda: TrainingRuntime("rt", bad))
    assert [str(i) for i in err.issues] == [
        "namespace: is required with mounts: a PVC mounts only in its own namespace (the runtime becomes a "
        "namespaced TrainingRuntime there)",
        "env.NCCL_IB_DISABLE: is set by the network layer (network.nccl, networks, EFA): remove it here "
        '(got "0")',
        'env.MLFLOW_TRACKING_URI: comes from training.mlflow: remove it here (got "http://x")',
        'shmSize: must be <= memory (1800Gi): a memory-backed /dev/shm counts against the memory limit '
        '(got "2Ti")',
        "gpusPerNode: must be <= 8, the GPUs per node of pool 'train' (got 16)",
        'networks.0: the network layer is off (network.enabled is false): turn it on or remove the network '
        '(got "rdma-net")',
        "efa: pool 'train' has no EFA devices: set aws.nodePools.train.efa.enabled: true, or remove efa "
        "(got true)",
    ]


def test_unknown_pool_and_network_are_refused(refused):
    network = validate_model(NetworkConfig, {"enabled": True})
    bad = TrainingRuntimeArgs.model_validate({**SPEC, "pool": "trian", "runtimeName": "r", "pools": POOLS,
                                              "networks": ["rdma"],
                                              "workload": WorkloadContext(network=network)})
    err = refused(lambda: TrainingRuntime("rt", bad))
    assert str(err) == (
        "invalid args of TrainingRuntime 'rt' (2 errors):\n"
        '  - pool: unknown GPU pool; known pools: train (got "trian")\n'
        '  - networks.0: unknown network; networks: none (got "rdma")')


@pytest.mark.parametrize("training, expected", [
    ({"runtimes": {"r": SPEC}},
     "training.kubeflow.trainer.enabled: must be true while runtimes are declared (Kubeflow Trainer serves "
     "them) (got false)"),
    ({"kubeflow": {"trainer": {"enabled": True}}, "runtimes": {"torch-distributed": SPEC}},
     "training.runtimes.torch-distributed: is the name of kubeflow.trainer.torchRuntime's runtime: "
     "rename it, or set kubeflow.trainer.torchRuntime: false"),
])
def test_environment_refuses_runtimes_without_their_trainer(plan_env, training, expected):
    from gpu_platform.config import ConfigError
    with pytest.raises(ConfigError) as caught:
        plan_env("staging", overrides={"gpu-platform:training": {"enabled": True, **training}})
    assert expected in [str(i) for i in caught.value.issues]

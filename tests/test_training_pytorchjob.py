"""The seed's elastic PyTorchJob (llama-70b finetune with DeepSpeed ZeRO-3) on the v1 operator."""

import json

import pytest
from component_outputs import resolved_outputs

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.core.pools import GpuPool
from gpu_platform.plan.model import kubernetes_object
from gpu_platform.training import PyTorchJob, PyTorchJobArgs, PyTorchJobSpec
from gpu_platform.training.pytorchjob import render_pytorchjob
from gpu_platform.workloads import WorkloadContext

POOLS = {"train": GpuPool.model_validate(
    {"role": "training", "gpu": {"model": "A100-80GB", "count": 8}, "maxSize": 8})}
ZERO3 = {"train_batch_size": "auto",
         "zero_optimization": {"stage": 3, "offload_optimizer": {"device": "cpu"}},
         "fp16": {"enabled": True}}
# seed 000, 2.2: elasticPolicy c10d 4..8 nodes, maxRestarts 100; 7-day deadline; 8 GPUs, 64 CPU, 512Gi
FINETUNE = {
    "pool": "train", "namespace": "ml-training", "queue": "ml-training",
    "image": "nvcr.io/nvidia/pytorch:24.01-py3", "cpu": "64", "memory": "512Gi", "shmSize": "128Gi",
    "command": ["torchrun", "train.py", "--model_name=meta-llama/Llama-2-70b-hf",
                "--deepspeed=/config/ds_config.json"],
    "elastic": {"minNodes": 4, "maxNodes": 8},
    "activeDeadlineSeconds": 604800,
    "env": {"CUDA_DEVICE_MAX_CONNECTIONS": "1", "PYTORCH_CUDA_ALLOC_CONF": "max_split_size_mb:512"},
    "deepspeedConfig": ZERO3,
}


def spec(**changes):
    return validate_model(PyTorchJobSpec, {**FINETUNE, **changes})


def test_the_seed_finetune_keeps_its_elasticity_deepspeed_config_and_nodes(conformance):
    job = render_pytorchjob("llama-70b-finetune", spec(), POOLS,
                            workload=WorkloadContext(efa_interfaces={"train": 4}))
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "ml-training"
    body = job["spec"]
    assert body["elasticPolicy"] == {
        "rdzvBackend": "c10d", "minReplicas": 4, "maxReplicas": 8, "maxRestarts": 100}
    assert body["nprocPerNode"] == "8"
    assert body["runPolicy"] == {"cleanPodPolicy": "None", "backoffLimit": 3, "activeDeadlineSeconds": 604800}
    worker = body["pytorchReplicaSpecs"]["Worker"]
    assert (worker["replicas"], worker["restartPolicy"]) == (8, "OnFailure")
    assert "Master" not in body["pytorchReplicaSpecs"]
    pod = worker["template"]["spec"]
    (container,) = pod["containers"]
    assert (container["name"], container["image"]) == ("pytorch", "nvcr.io/nvidia/pytorch:24.01-py3")
    assert container["command"][-1] == "--deepspeed=/config/ds_config.json"
    limits = {"cpu": "64", "memory": "512Gi", "nvidia.com/gpu": "8", "vpc.amazonaws.com/efa": "4"}
    assert container["resources"] == {"requests": limits, "limits": limits}
    assert {"name": "FI_PROVIDER", "value": "efa"} in container["env"]
    assert {"name": "deepspeed-config",
            "configMap": {"name": "llama-70b-finetune-deepspeed"}} in pod["volumes"]
    assert {"name": "deepspeed-config", "mountPath": "/config", "readOnly": True} in container["volumeMounts"]
    assert pod["volumes"][0] == {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "128Gi"}}
    assert pod["nodeSelector"] == {"gpu-platform.io/pool": "train"}
    conformance.assert_conformant(conformance.validate_object(job))


def test_the_deepspeed_config_is_a_configmap_the_job_waits_for(run_component):
    args = PyTorchJobArgs.of(spec(), "llama-70b-finetune", POOLS)
    plan = run_component(lambda: PyTorchJob("ft", args))
    config_map = plan.one("kubernetes:core/v1:ConfigMap", "ft-deepspeed")
    assert json.loads(kubernetes_object(config_map)["data"]["ds_config.json"]) == ZERO3
    job = plan.one("kubernetes:kubeflow.org/v1:PyTorchJob", "ft-pytorchjob")
    assert config_map.urn in job.dependencies
    assert resolved_outputs(run_component, lambda: PyTorchJob("ft", args), "job_name", "namespace") == {
        "job_name": "llama-70b-finetune", "namespace": "ml-training"}


def test_a_job_that_cannot_run_as_asked_is_refused(refused):
    bad = {**FINETUNE, "jobName": "ft", "pools": POOLS, "framework": "deepspeed", "numNodes": 2,
           "elastic": {"minNodes": 17, "maxNodes": 16}, "queueSystem": "volcano",
           "mounts": {}, "env": {"NCCL_IB_DISABLE": "0"}}
    err = refused(lambda: PyTorchJob("ft", bad))
    assert [str(i) for i in err.issues] == [
        "elastic.minNodes: must be <= maxNodes (16) (got 17)",
        'env.NCCL_IB_DISABLE: is set by the network layer (network.nccl, networks, EFA): remove it here '
        '(got "0")',
        "framework: must be torch: a PyTorchJob runs torchrun (DeepSpeed runs inside it with "
        'deepspeedConfig) (got "deepspeed")',
        "numNodes: is set by elastic (minNodes..maxNodes) in a PyTorchJob (got 2)",
        "queue: Volcano gangs a PyTorchJob only when the training operator runs with "
        "--gang-scheduler-name=volcano (the standalone overlay does not): use a Trainer v2 runtime "
        '(training.runtimes) (got "ml-training")',
        "elastic.maxNodes: must be <= 8, the maxSize of pool 'train' (got 16)",
    ]


def test_environment_needs_the_training_operator_for_pytorch_jobs(plan_env):
    job = {**FINETUNE, "namespace": "ml", "queue": "ml", "elastic": {"minNodes": 1, "maxNodes": 1},
           "mounts": {}}
    team = {"ml": {"gpuQuota": 8, "cpuQuota": "96", "memoryQuota": "768Gi", "gpuPools": {"train": 8}}}
    training = {"enabled": True, "teams": team, "pytorchJobs": {"ft": job}}
    with pytest.raises(ConfigError) as caught:
        plan_env("staging", overrides={"gpu-platform:training": training})
    assert [str(i) for i in caught.value.issues] == [
        "training.kubeflow.trainingOperator.enabled: must be true while pytorchJobs are declared (elastic "
        "PyTorchJobs run on the training operator v1) (got false)"]
    plan = plan_env("staging", overrides={"gpu-platform:training": {
        **training, "kubeflow": {"trainingOperator": {"enabled": True}}}})
    pytorch_job = plan.one("kubernetes:kubeflow.org/v1:PyTorchJob",
                           "platform-training-pytorchjob-ft-pytorchjob")
    operator = plan.one("kubernetes:kustomize/v2:Directory", "platform-training-kubeflow-training-operator")
    assert operator.urn in pytorch_job.dependencies

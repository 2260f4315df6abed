"""RayJob: the seed's data pipeline, its cluster rendered as a RayCluster's, queues and refusals."""

import pytest
import yaml
from component_outputs import resolved_outputs

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.core.pools import GpuPool
from gpu_platform.training import RayJob, RayJobArgs, RayJobSpec
from gpu_platform.training.raycluster import render_raycluster
from gpu_platform.training.rayjob import render_rayjob
from gpu_platform.training.volcano import volcano_raycluster_labels

POOLS = {"train": GpuPool.model_validate(
    {"role": "training", "gpu": {"model": "A100-40GB", "count": 8}, "maxSize": 2})}
# seed 000, 4.2: RayJob data-pipeline (pip packages, env vars, code from a ConfigMap, CPU workers)
PIPELINE = {
    "namespace": "ml",
    "queue": "ml",
    "entrypoint": "python /app/data_pipeline.py",
    "runtimeEnv": {"pip": ["pandas==2.0.0", "pyarrow==14.0.0", "datasets==2.16.0"],
                   "env_vars": {"DATA_PATH": "s3://raw-data", "OUTPUT_PATH": "s3://processed-data"}},
    "head": {"cpu": "8", "memory": "32Gi", "configMaps": {"data-pipeline-code": {"mountPath": "/app"}}},
    "workerGroups": {"data-workers": {"minReplicas": 5, "maxReplicas": 50, "replicas": 10, "cpu": "16",
                                      "memory": "64Gi", "env": {"OMP_NUM_THREADS": "16"}}},
}


def spec(**changes):
    return validate_model(RayJobSpec, {**PIPELINE, **changes})


def test_the_seed_pipeline_renders_with_its_cluster_runtime_env_and_lifetime(conformance):
    job = render_rayjob("data-pipeline", spec(), POOLS, mlflow_tracking_uri="http://mlflow.mlflow.svc:80")
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "ml"
    body = job["spec"]
    assert body["entrypoint"] == "python /app/data_pipeline.py"
    assert yaml.safe_load(body["runtimeEnvYAML"]) == {
        "pip": ["pandas==2.0.0", "pyarrow==14.0.0", "datasets==2.16.0"],
        "env_vars": {"DATA_PATH": "s3://raw-data", "OUTPUT_PATH": "s3://processed-data",
                     "MLFLOW_TRACKING_URI": "http://mlflow.mlflow.svc:80"}}
    assert (body["submissionMode"], body["submitterConfig"], body["shutdownAfterJobFinishes"],
            body["ttlSecondsAfterFinished"]) == ("K8sJobMode", {"backoffLimit": 2}, True, 3600)
    # the cluster is exactly what a RayCluster of the same spec renders
    assert body["rayClusterSpec"] == render_raycluster("data-pipeline", spec(), POOLS)["spec"]
    assert body["rayClusterSpec"]["enableInTreeAutoscaling"] is False
    head = body["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]
    assert {"name": "cm-data-pipeline-code", "configMap": {"name": "data-pipeline-code"}} in head["volumes"]
    assert {"name": "cm-data-pipeline-code", "mountPath": "/app", "readOnly": True} in \
        head["containers"][0]["volumeMounts"]
    worker = body["rayClusterSpec"]["workerGroupSpecs"][0]["template"]["spec"]["containers"][0]
    assert worker["env"] == [{"name": "OMP_NUM_THREADS", "value": "16"}]
    conformance.assert_conformant(conformance.validate_object(job))


def test_volcano_queue_and_other_submission_modes(conformance):
    job = render_rayjob("j", spec(submissionMode="HTTPMode", activeDeadlineSeconds=86400), POOLS,
                        queue_system="volcano")
    labels = job["metadata"]["labels"]
    assert labels.items() >= volcano_raycluster_labels("ml").items()
    assert "kueue.x-k8s.io/queue-name" not in labels
    assert "submitterConfig" not in job["spec"]
    assert job["spec"]["activeDeadlineSeconds"] == 86400
    kept = render_rayjob("j", spec(queue=None, shutdownAfterJobFinishes=False), POOLS)
    assert "ttlSecondsAfterFinished" not in kept["spec"] and "kueue.x-k8s.io/queue-name" not in \
        kept["metadata"]["labels"]
    conformance.assert_conformant(conformance.validate_all([job, kept]))


def test_component_registers_its_outputs(run_component):
    args = RayJobArgs.of(spec(), "data-pipeline", POOLS)
    assert resolved_outputs(run_component, lambda: RayJob("job", args), "job_name", "namespace") == {
        "job_name": "data-pipeline", "namespace": "ml"}


def test_a_job_that_would_hold_its_queue_or_retype_owned_env_is_refused(refused):
    bad = {**PIPELINE, "jobName": "j", "pools": POOLS, "shutdownAfterJobFinishes": False,
           "ttlSecondsAfterFinished": 60, "submissionMode": "HTTPMode", "submitterBackoffLimit": 1,
           "runtimeEnv": {"env_vars": {"MLFLOW_TRACKING_URI": "http://x"}},
           "workerGroups": {"g": {"env": {"NCCL_DEBUG": "INFO"},
                                  "configMaps": {"c": {"mountPath": "/dev/shm"}}}}}
    err = refused(lambda: RayJob("job", bad))
    assert [str(i) for i in err.issues] == [
        'workerGroups.g.env.NCCL_DEBUG: is set by the network layer (network.nccl, networks, EFA): remove it '
        'here (got "INFO")',
        'workerGroups.g.configMaps.c.mountPath: is the memory-backed /dev/shm (got "/dev/shm")',
        "shutdownAfterJobFinishes: must be true when queue is set: Kueue and Volcano admit the job with its "
        "cluster and reclaim both when it ends (got false)",
        "ttlSecondsAfterFinished: only applies with shutdownAfterJobFinishes: true (got 60)",
        "submitterBackoffLimit: only applies with submissionMode K8sJobMode (got 1)",
        'runtimeEnv.env_vars.MLFLOW_TRACKING_URI: comes from training.mlflow: remove it here (got "http://x")',
    ]


def test_environment_checks_a_jobs_queue_and_registers_it(plan_env):
    team = {"ml": {"gpuQuota": 8, "cpuQuota": "96", "memoryQuota": "768Gi", "gpuPools": {"train": 8}}}
    training = {"enabled": True, "teams": team, "rayJobs": {"data-pipeline": {**PIPELINE, "queue": "data"}}}
    with pytest.raises(ConfigError) as caught:
        plan_env("staging", overrides={"gpu-platform:training": training})
    assert [str(i) for i in caught.value.issues] == [
        'training.rayJobs.data-pipeline.queue: unknown team queue; teams: ml (got "data")']
    plan = plan_env("staging", overrides={"gpu-platform:training": {**training, "rayJobs": {
        "data-pipeline": PIPELINE}}})
    job = plan.one("kubernetes:ray.io/v1:RayJob", "platform-training-rayjob-data-pipeline-rayjob")
    (local_queue,) = [r for r in plan.resources if r.name == "platform-training-kueue-ml-localqueue"]
    assert local_queue.urn in job.dependencies  # the job waits for its team's LocalQueue
    assert job.inputs["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "ml"

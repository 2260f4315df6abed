"""Fluid: chart values, Datasets placed on the reading GPU pool, runtimes, DataLoads, errors."""

import pulumi
import pytest

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.core.pools import GpuPool
from gpu_platform.plan.model import helm_release_manifest
from gpu_platform.storage import StorageConfig, build_storage
from gpu_platform.storage.fluid import FluidConfig, fluid_values

POOLS = {
    "train": GpuPool.model_validate({"role": "training", "gpu": {"model": "A100-80GB", "count": 8}}),
    "infer": GpuPool.model_validate({"role": "inference", "gpu": {"model": "L4", "count": 1},
                                     "taints": [{"key": "pool", "value": "infer"}]}),
}
CR = "kubernetes:data.fluid.io/v1alpha1:"
RELEASE = "kubernetes:helm.sh/v3:Release"
EXTERNAL = {"backend": "external", "external": {"metaurl": "redis://:fixture-meta-8c8c@r:6379/1",
                                                "bucket": "https://b.lab/jfs"}}
TIERS = [{"medium": "MEM", "path": "/dev/shm", "quota": "64Gi"},
         {"medium": "SSD", "path": "/mnt/nvme", "quota": "500Gi", "high": 0.9, "low": 0.6}]
IMAGENET = {"namespace": "ml", "source": "s3://ml-datasets/imagenet", "pool": "train", "workers": 4,
            "cache": TIERS, "region": "us-east-1",
            "credentials": {"secretName": "s3-reader"}, "preload": {"paths": ["/train"]}}
WEIGHTS = {"namespace": "serving", "source": "juicefs://lab/models/llama", "runtime": "juicefs",
           "pool": "infer", "cache": [{"medium": "SSD", "path": "/mnt/nvme/fluid", "quota": "200Gi"}]}

# the EKS cluster's OIDC provider: AWS file systems without keys use workload identity
EKS = {
    "oidc_provider_arn": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/T",
    "oidc_provider_url": "https://oidc.eks.us-east-1.amazonaws.com/id/T",
}


def config(datasets, file_systems=None):
    return {"juicefs": {"fileSystems": file_systems or {}}, "fluid": {"datasets": datasets}}


def run(run_component, data):
    cfg = validate_model(StorageConfig, data)
    return run_component(lambda: build_storage("storage", cfg, POOLS, pulumi.ResourceOptions(), **EKS))


def test_alluxio_dataset_is_placed_on_its_pool_with_tiered_cache(run_component, conformance):
    plan = run(run_component, config({"imagenet": IMAGENET}))
    dataset = plan.one(CR + "Dataset", "storage-fluid-imagenet-dataset").inputs
    assert dataset["metadata"]["name"] == "imagenet"
    assert dataset["metadata"]["namespace"] == "ml"
    assert dataset["spec"] == {
        "mounts": [{
            "name": "imagenet", "readOnly": True, "mountPoint": "s3://ml-datasets/imagenet",
            "options": {"alluxio.underfs.s3.endpoint.region": "us-east-1"},
            "encryptOptions": [
                {"name": "aws.accessKeyId",
                 "valueFrom": {"secretKeyRef": {"name": "s3-reader", "key": "access-key"}}},
                {"name": "aws.secretKey",
                 "valueFrom": {"secretKeyRef": {"name": "s3-reader", "key": "secret-key"}}}],
        }],
        "accessModes": ["ReadOnlyMany"],
        "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "gpu-platform.io/pool", "operator": "In", "values": ["train"]}]}]}},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "true",
                         "effect": "NoSchedule"}],
        "placement": "Shared",
    }
    runtime = plan.one(CR + "AlluxioRuntime", "storage-fluid-imagenet-runtime").inputs
    assert runtime["spec"] == {"replicas": 4, "tieredstore": {"levels": [
        {"mediumtype": "MEM", "path": "/dev/shm", "quota": "64Gi", "high": "0.95", "low": "0.7"},
        {"mediumtype": "SSD", "path": "/mnt/nvme", "quota": "500Gi", "high": "0.9", "low": "0.6"}]}}
    load = plan.one(CR + "DataLoad", "storage-fluid-imagenet-warmup")
    assert load.inputs["spec"] == {"dataset": {"name": "imagenet", "namespace": "ml"}, "loadMetadata": True,
                                   "policy": "Once", "target": [{"path": "/train", "replicas": 1}]}
    runtime_urn = plan.one(CR + "AlluxioRuntime", "storage-fluid-imagenet-runtime").urn
    # after its runtime, and after what the component waits for (JuiceFS, through opts.depends_on)
    assert runtime_urn in load.dependencies
    assert plan.one(RELEASE, "storage-juicefs-csi").urn in load.dependencies
    conformance.assert_conformant(conformance.validate_all(plan.kubernetes_objects()))


def test_juicefs_dataset_reads_a_copy_of_the_file_system_secret(run_component, conformance):
    plan = run(run_component, config({"weights": WEIGHTS}, {"lab": EXTERNAL}))
    secret = plan.one("kubernetes:core/v1:Secret", "storage-fluid-weights-juicefs-secret").inputs
    assert (secret["metadata"]["name"], secret["metadata"]["namespace"]) == ("weights-juicefs", "serving")
    assert secret["stringData"] == "[secret]"
    dataset = plan.one(CR + "Dataset", "storage-fluid-weights-dataset").inputs
    assert dataset["spec"]["mounts"] == [{
        "name": "lab", "readOnly": True, "mountPoint": "juicefs:///models/llama",
        "encryptOptions": [{"name": "metaurl",
                            "valueFrom": {"secretKeyRef": {"name": "weights-juicefs", "key": "metaurl"}}}],
    }]
    assert dataset["spec"]["tolerations"] == [{"key": "pool", "operator": "Equal", "value": "infer",
                                               "effect": "NoSchedule"}]
    runtime = plan.one(CR + "JuiceFSRuntime", "storage-fluid-weights-runtime")
    assert runtime.inputs["spec"]["tieredstore"]["levels"][0]["quota"] == "200Gi"
    assert plan.find(CR + "DataLoad") == []
    assert "fixture-meta-8c8c" not in str(plan.to_dict())
    objects = [o for o in plan.kubernetes_objects() if o["kind"] != "Secret"]
    conformance.assert_conformant(conformance.validate_all(objects))


def test_fluid_chart_enables_only_the_runtimes_in_use(run_component, conformance):
    plan = run(run_component, config({"imagenet": IMAGENET}))
    release = helm_release_manifest(plan.one("kubernetes:helm.sh/v3:Release", "storage-fluid-chart"))
    assert (release["chart"], release["version"], release["namespace"]) == ("fluid", "1.0.8", "fluid-system")
    assert release["values"] == {"namespace": "fluid-system",
                                 "runtime": {"alluxio": {"enabled": True}, "juicefs": {"enabled": False}}}
    ns = plan.one("kubernetes:core/v1:Namespace", "storage-fluid-ns").inputs
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    conformance.assert_conformant(conformance.validate_helm_values("fluid", release["values"]))


def test_fluid_values_overrides_merge_last():
    cfg = FluidConfig(values_overrides={"runtime": {"juicefs": {"enabled": True}}})
    assert fluid_values(cfg)["runtime"] == {"alluxio": {"enabled": False}, "juicefs": {"enabled": True}}


def test_unknown_pool_is_an_error_before_anything_is_registered(run_component):
    cfg = validate_model(StorageConfig, config({"imagenet": {**IMAGENET, "pool": "gpu"}}))
    with pytest.raises(ConfigError) as caught:
        build_storage("storage", cfg, POOLS, pulumi.ResourceOptions(), **EKS)
    assert str(caught.value).splitlines()[1:] == [
        '  - storage.fluid.datasets.imagenet.pool: unknown GPU pool; known pools: train, infer (got "gpu")']


@pytest.mark.parametrize(("dataset", "fs", "message"), [
    ({**IMAGENET, "cache": [{**TIERS[0], "low": 0.95, "high": 0.9}]}, None,
     "fluid.datasets.imagenet.cache.0.low: must be < high (0.9) (got 0.95)"),
    ({**IMAGENET, "cache": [{**TIERS[0], "high": 1.5}]}, None,
     "fluid.datasets.imagenet.cache.0.high: must be <= 1.0 (got 1.5)"),
    ({**IMAGENET, "source": "hdfs://nn/data"}, None,
     "fluid.datasets.imagenet.source: must be s3://<bucket>[/path], juicefs://<file system>[/path] or "
     'pvc://<claim>[/path] (got "hdfs://nn/data")'),
    ({**IMAGENET, "runtime": "juicefs", "cache": TIERS[1:]}, None,
     'fluid.datasets.imagenet.runtime: juicefs reads only juicefs:// sources; use alluxio for s3:// (got '
     '"juicefs")'),
    ({**WEIGHTS, "source": "juicefs://nope/x"}, {"lab": EXTERNAL},
     "fluid.datasets.imagenet.source: unknown JuiceFS file system 'nope'; known file systems: lab "
     '(got "juicefs://nope/x")'),
    ({**WEIGHTS, "cache": TIERS}, {"lab": EXTERNAL},
     "fluid.datasets.imagenet.cache: runtime juicefs takes exactly one cache level (got 2)"),
    ({**IMAGENET, "source": "pvc://shared/x"}, None,
     "fluid.datasets.imagenet.region: applies to s3:// sources only"),
])
def test_dataset_errors_name_the_path(dataset, fs, message):
    with pytest.raises(ConfigError) as caught:
        validate_model(StorageConfig, config({"imagenet": dataset}, fs))
    assert str(caught.value).splitlines()[1:] == [f"  - {message}"]


def test_dataset_and_volume_names_must_differ():
    data = config({"ckpt": IMAGENET}, {"lab": EXTERNAL})
    data["juicefs"]["volumes"] = {"ckpt": {"fileSystem": "lab", "namespace": "ml", "size": "1Ti"}}
    with pytest.raises(ConfigError) as caught:
        validate_model(StorageConfig, data)
    assert str(caught.value).splitlines()[1:] == [
        "  - fluid.datasets.ckpt: name already used by juicefs.volumes.ckpt; datasets and volumes share "
        "one name space"]


def test_dataset_namespaces_are_created_privileged_before_their_datasets(run_component, conformance):
    data = config({"imagenet": {**IMAGENET, "namespace": "datasets"}})
    data["fluid"]["datasetNamespaces"] = ["datasets"]
    plan = run(run_component, data)
    ns = plan.one("kubernetes:core/v1:Namespace", "storage-fluid-datasets-ns")
    assert ns.inputs["metadata"]["name"] == "datasets"
    assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    dataset = plan.one(CR + "Dataset", "storage-fluid-imagenet-dataset")
    assert ns.urn in dataset.dependencies
    conformance.assert_conformant(conformance.validate_all(plan.kubernetes_objects()))


def test_datasets_in_baseline_namespaces_are_reported():
    from gpu_platform.storage import storage_issues

    cfg = validate_model(StorageConfig, config({"imagenet": IMAGENET}))
    assert [str(i) for i in storage_issues(cfg, POOLS, {"ml": "baseline"})] == [
        "fluid.datasets.imagenet.namespace: Fluid runs privileged FUSE and cache pods in the dataset's "
        "namespace, and 'ml' enforces Pod Security 'baseline'; use a namespace from "
        'fluid.datasetNamespaces (got "ml")']
    assert storage_issues(cfg, POOLS, {"ml": "privileged"}) == []


def test_fluid_namespace_cannot_be_a_dataset_namespace():
    data = config({})
    data["fluid"]["datasetNamespaces"] = ["fluid-system"]
    with pytest.raises(ConfigError) as caught:
        validate_model(StorageConfig, data)
    assert str(caught.value).splitlines()[1:] == [
        "  - fluid.datasetNamespaces: must not contain Fluid's own namespace 'fluid-system'"]

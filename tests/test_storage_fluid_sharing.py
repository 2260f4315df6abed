"""Fluid datasets shared into the namespaces whose workloads mount them (issue 13, rule "data")."""

import pytest

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.storage import StorageConfig
from gpu_platform.storage.fluid import FluidDataset, reference_dataset_object

IMAGENET = {"namespace": "datasets", "source": "s3://ml-datasets/imagenet", "pool": "train",
            "cache": [{"medium": "SSD", "path": "/mnt/ssd", "quota": "500Gi"}]}


def test_a_reference_dataset_mounts_the_source_from_its_namespace():
    ds = FluidDataset.model_validate({**IMAGENET, "sharedWith": ["ml"]})
    assert reference_dataset_object("imagenet", ds, "ml") == {
        "apiVersion": "data.fluid.io/v1alpha1",
        "kind": "Dataset",
        "metadata": {"name": "imagenet", "namespace": "ml",
                     "labels": {"app.kubernetes.io/managed-by": "pulumi",
                                "app.kubernetes.io/part-of": "gpu-platform"}},
        "spec": {"mounts": [{"name": "imagenet", "mountPoint": "dataset://datasets/imagenet"}]},
    }


@pytest.mark.parametrize("shared, message", [
    (["datasets"], "fluid.datasets.imagenet.sharedWith: lists the dataset's own namespace 'datasets'"),
    (["ml", "ml"], "fluid.datasets.imagenet.sharedWith: each namespace at most once (got [\"ml\", \"ml\"])"),
])
def test_shared_with_errors_name_the_path(shared, message):
    data = {"fluid": {"datasetNamespaces": ["datasets"],
                      "datasets": {"imagenet": {**IMAGENET, "sharedWith": shared}}}}
    with pytest.raises(ConfigError) as caught:
        validate_model(StorageConfig, data)
    assert str(caught.value).splitlines()[1:] == [f"  - {message}"]


def test_every_environment_shares_its_datasets_with_a_team(plan_env):
    refs = {
        (r.inputs["metadata"]["namespace"], r.inputs["spec"]["mounts"][0]["mountPoint"])
        for r in plan_env("prod").find("kubernetes:data.fluid.io/v1alpha1:Dataset")
        if r.inputs["spec"]["mounts"][0]["mountPoint"].startswith("dataset://")
    }
    assert refs == {("llm", "dataset://datasets/pretrain-corpus"),
                    ("llm", "dataset://datasets/imagenet"),
                    ("research", "dataset://datasets/imagenet")}

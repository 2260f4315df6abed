"""volume_for: named JuiceFS PVCs and Fluid datasets as pod volumes and mounts."""

import pytest

from gpu_platform.config import validate_model
from gpu_platform.storage import StorageConfig, volume_for

CONFIG = validate_model(StorageConfig, {
    "juicefs": {
        "fileSystems": {"lab": {"backend": "external",
                                "external": {"metaurl": "redis://r:6379/1", "bucket": "https://b/j"}}},
        "volumes": {"checkpoints": {"fileSystem": "lab", "namespace": "ml", "size": "10Ti"},
                    "models": {"fileSystem": "lab", "namespace": "serving", "size": "2Ti", "readOnly": True}},
    },
    "fluid": {"datasets": {"imagenet": {
        "namespace": "ml", "source": "juicefs://lab/imagenet", "runtime": "juicefs", "pool": "train",
        "cache": [{"medium": "SSD", "path": "/mnt/nvme", "quota": "100Gi"}]}}},
})


def test_a_juicefs_volume_is_its_pvc_read_write():
    assert volume_for("checkpoints", CONFIG) == (
        {"name": "checkpoints", "persistentVolumeClaim": {"claimName": "checkpoints", "readOnly": False}},
        {"name": "checkpoints", "mountPath": "/mnt/checkpoints", "readOnly": False},
    )


def test_a_fluid_dataset_is_the_pvc_fluid_creates_read_only():
    volume, mount = volume_for("imagenet", CONFIG, namespace="ml", mount_path="/data/imagenet")
    claim = {"claimName": "imagenet", "readOnly": True}
    assert volume == {"name": "imagenet", "persistentVolumeClaim": claim}
    assert mount == {"name": "imagenet", "mountPath": "/data/imagenet", "readOnly": True}


def test_read_only_volume_and_a_writer_override():
    assert volume_for("models", CONFIG)[1]["readOnly"] is True
    volume, mount = volume_for("models", CONFIG, read_only=False)
    assert (volume["persistentVolumeClaim"]["readOnly"], mount["readOnly"]) == (False, False)


def test_a_dataset_cannot_be_mounted_writable():
    with pytest.raises(ValueError) as caught:
        volume_for("imagenet", CONFIG, read_only=False)
    assert str(caught.value) == "storage dataset 'imagenet' is a read-only cache; write to its source instead"


def test_unknown_name_lists_known_names():
    with pytest.raises(ValueError) as caught:
        volume_for("ckpt", CONFIG)
    assert str(caught.value) == (
        "unknown storage volume or dataset 'ckpt'; known names: checkpoints, imagenet, models")


def test_wrong_namespace_is_an_error():
    with pytest.raises(ValueError) as caught:
        volume_for("models", CONFIG, namespace="ml")
    assert str(caught.value) == (
        "storage volume 'models' is in namespace 'serving', not 'ml': a pod can only mount a PVC of its "
        "own namespace")


def test_disabled_fluid_hides_its_datasets():
    off = CONFIG.model_copy(update={"fluid": CONFIG.fluid.model_copy(update={"enabled": False})})
    with pytest.raises(ValueError, match="known names: checkpoints, models$"):
        volume_for("imagenet", off)

"""Resolving a named volume or dataset into a pod volume and volumeMount (pure).

Workload components (RayCluster, InferenceService, ...) name storage by its key in the storage
config; this module turns that name into the two pod-spec pieces. JuiceFS volumes are the PVCs
this area creates; Fluid datasets are mounted through the PVC Fluid creates with the dataset's
name (always read-only: a dataset cache is not written through).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gpu_platform.storage import StorageConfig

DEFAULT_MOUNT_ROOT = "/mnt"


@dataclass(frozen=True)
class NamedStorage:
    """A mountable claim: its namespace, whether it is read-only, and what it is."""

    namespace: str
    read_only: bool
    kind: str  # "volume" (JuiceFS PVC) or "dataset" (Fluid)


def known_storage(config: StorageConfig) -> dict[str, NamedStorage]:
    """Every name ``volume_for`` resolves, volumes first, then datasets."""
    named: dict[str, NamedStorage] = {}
    if config.juicefs.enabled:
        for name, volume in config.juicefs.volumes.items():
            named[name] = NamedStorage(volume.namespace, volume.read_only, "volume")
    if config.fluid.enabled:
        for name, dataset in config.fluid.datasets.items():
            named.setdefault(name, NamedStorage(dataset.namespace, True, "dataset"))
    return named


def volume_for(
    name: str,
    storage_config: StorageConfig,
    *,
    namespace: str | None = None,
    mount_path: str | None = None,
    read_only: bool | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(volume, volumeMount)`` for the volume or dataset ``name``.

    ``namespace``, when given, is the namespace of the pod: a PVC can only be mounted from its
    own namespace, so a mismatch is an error rather than a pod stuck in ``Pending``.
    ``read_only`` overrides a volume's default (a job that fills ``models`` mounts it writable);
    datasets are always read-only.
    """
    named = known_storage(storage_config)
    if name not in named:
        known = ", ".join(sorted(named)) or "none"
        raise ValueError(f"unknown storage volume or dataset '{name}'; known names: {known}")
    found = named[name]
    if read_only is not None and found.kind == "volume":
        found = NamedStorage(found.namespace, read_only, found.kind)
    elif read_only is False:
        raise ValueError(f"storage dataset '{name}' is a read-only cache; write to its source instead")
    if namespace is not None and namespace != found.namespace:
        raise ValueError(
            f"storage {found.kind} '{name}' is in namespace '{found.namespace}', not '{namespace}': "
            "a pod can only mount a PVC of its own namespace"
        )
    volume = {"name": name, "persistentVolumeClaim": {"claimName": name, "readOnly": found.read_only}}
    mount = {
        "name": name,
        "mountPath": mount_path or f"{DEFAULT_MOUNT_ROOT}/{name}",
        "readOnly": found.read_only,
    }
    return volume, mount

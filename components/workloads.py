"""What workloads (RayCluster workers, InferenceServices, training jobs) resolve by name.

``WorkloadContext`` carries the network layer, EFA devices per GPU pool and the storage layer;
``MountSpec`` mounts a storage volume or dataset by its name. Training and serving both use these,
so they live here rather than in either area.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from gpu_platform.config import ConfigIssue, ConfigModel
from gpu_platform.config.errors import issue
from gpu_platform.network.config import NetworkConfig
from gpu_platform.storage import StorageConfig
from gpu_platform.storage.mounts import volume_for

SHM_PATH = "/dev/shm"


@dataclass(frozen=True)
class WorkloadContext:
    """What workload names resolve against: the network layer, EFA devices per GPU pool (only
    pools whose AWS node pool has EFA), and the storage layer (None: no storage configured)."""

    network: NetworkConfig = field(default_factory=NetworkConfig)
    efa_interfaces: Mapping[str, int] = field(default_factory=dict)
    storage: StorageConfig | None = None


class MountSpec(ConfigModel):
    """A storage volume or dataset (by its name in the storage config) mounted into a pod."""

    mount_path: str | None = Field(default=None, pattern=r"^/")  # default /mnt/<name>
    read_only: bool | None = None  # default: the volume's own; datasets are always read-only


def mount_issues(
    mounts: Mapping[str, MountSpec], storage: StorageConfig | None, namespace: str
) -> list[ConfigIssue]:
    """Mounts that do not resolve for a pod in ``namespace``: unknown names, PVCs of another
    namespace, writable datasets, clashing mount paths. Paths are relative (``mounts.<name>``)."""
    found: list[ConfigIssue] = []
    seen: dict[str, str] = {SHM_PATH: "the memory-backed /dev/shm"}
    for name, mount in mounts.items():
        if storage is None:
            found.append(issue(f"mounts.{name}", "no storage is configured (gpu-platform:storage); "
                               "mounts name its juicefs.volumes or fluid.datasets"))
            continue
        try:
            _, volume_mount = volume_for(name, storage, namespace=namespace, mount_path=mount.mount_path,
                                         read_only=mount.read_only)
        except ValueError as err:
            found.append(issue(f"mounts.{name}", str(err)))
            continue
        path = volume_mount["mountPath"]
        if path in seen:
            found.append(issue(f"mounts.{name}.mountPath", f"already used by {seen[path]}", path))
        seen.setdefault(path, f"mounts.{name}")
    return found


def render_mounts(
    container: dict[str, Any], mounts: Mapping[str, MountSpec], storage: StorageConfig | None,
    namespace: str,
) -> list[dict[str, Any]]:
    """Adds the mounts to ``container`` and returns the pod volumes they need."""
    volumes = []
    for name, mount in mounts.items():
        volume, volume_mount = volume_for(name, storage or StorageConfig(), namespace=namespace,
                                          mount_path=mount.mount_path, read_only=mount.read_only)
        volumes.append(volume)
        container.setdefault("volumeMounts", []).append(volume_mount)
    return volumes

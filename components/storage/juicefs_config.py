"""JuiceFS configuration (``storage.juicefs``): file systems, volumes, mount cache, and the checks
the JuiceFs component and ``build_storage`` run on them beyond the models' own (pure).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr

from gpu_platform.config import ConfigIssue, ConfigModel
from gpu_platform.config.errors import PATTERN_HINTS, issue
from gpu_platform.core.names import DnsLabel, PositiveInt
from gpu_platform.k8s.addon import PodSecurityLevel
from gpu_platform.storage.backends import MetadataEngine

# a Kubernetes quantity for a PVC size (whole binary units keep sizes comparable)
SIZE_PATTERN = r"^[1-9][0-9]*(Mi|Gi|Ti|Pi)$"
PATTERN_HINTS[SIZE_PATTERN] = "must be a size such as 500Gi or 10Ti (a whole number and Mi, Gi, Ti or Pi)"
Size = Annotated[str, Field(pattern=SIZE_PATTERN)]


class MountCache(ConfigModel):
    """``juicefs mount`` options every pod of a StorageClass gets (sizes in MiB, as JuiceFS takes)."""

    dir: str = Field(default="/var/jfsCache", pattern=r"^/")
    size_mib: PositiveInt = 102400
    buffer_size_mib: PositiveInt = 300
    # off: with writeback a write is acknowledged once on the node's disk, and is lost if the
    # node dies before the upload; checkpoints must not be lost that way
    writeback: bool = False


class AwsStore(ConfigModel):
    region: str | None = None  # None: the stack's aws:region (pulumi-aws v7 per-resource region)
    bucket_name: str | None = None  # None: Pulumi names it (names are global)
    metadata: MetadataEngine
    # from the VPC's owner; a Pulumi Input passed to build_storage wins over these
    subnet_ids: list[str] = Field(default_factory=list)
    security_group_ids: list[str] = Field(default_factory=list)


class ExternalStore(ConfigModel):
    metaurl: SecretStr
    storage: str = "s3"  # JuiceFS object storage type (s3, minio, ceph, ...)
    bucket: SecretStr  # the bucket URL


class FileSystem(ConfigModel):
    backend: Literal["aws", "external"]
    aws: AwsStore | None = None
    external: ExternalStore | None = None
    # None for both on AWS: the mount pods use an IAM role through workload identity (IRSA);
    # the node's own role is out of reach (IMDSv2 hop limit 1 keeps pods off it)
    access_key: SecretStr | None = None
    secret_key: SecretStr | None = None
    cache: MountCache = Field(default_factory=MountCache)
    # Retain: deleting a PVC never deletes its directory; Delete only where data is disposable
    reclaim_policy: Literal["Retain", "Delete"] = "Retain"

    def issues(self) -> Iterator[ConfigIssue]:
        chosen = self.aws if self.backend == "aws" else self.external
        other = "external" if self.backend == "aws" else "aws"
        if chosen is None:
            yield issue(self.backend, f"is required when backend is '{self.backend}'")
        if getattr(self, other) is not None:
            yield issue(other, f"must be absent when backend is '{self.backend}'")
        if (self.access_key is None) != (self.secret_key is None):
            yield issue("secretKey" if self.secret_key is None else "accessKey",
                        "accessKey and secretKey must be given together (or neither, for IAM roles)")


class Volume(ConfigModel):
    """A named ReadWriteMany PVC on one file system (``datasets``, ``checkpoints``, ``models``)."""

    file_system: DnsLabel
    namespace: DnsLabel
    size: Size
    # how pods mount it by default (volume_for); the PVC itself is always ReadWriteMany, since a
    # new JuiceFS volume is an empty directory someone must write first
    read_only: bool = False


class JuiceFsConfig(ConfigModel):
    enabled: bool = True
    # kube-system as the JuiceFS docs install it; another name gets its own privileged namespace
    namespace: DnsLabel = "kube-system"
    # false: install into an existing namespace (kube-system is never created)
    create_namespace: bool = True
    # the CSI node plugin and mount pods are privileged (FUSE, host mounts)
    pod_security: PodSecurityLevel = "privileged"
    controller_replicas: PositiveInt = 2
    dashboard: bool = True
    file_systems: dict[DnsLabel, FileSystem] = Field(default_factory=dict)
    volumes: dict[DnsLabel, Volume] = Field(default_factory=dict)
    # PVCs get protect + retain_on_delete; false only where data is disposable (dev)
    protect: bool = True
    values_overrides: dict[str, Any] = Field(default_factory=dict)

    def issues(self) -> Iterator[ConfigIssue]:
        for name, volume in self.volumes.items():
            if volume.file_system not in self.file_systems:
                known = ", ".join(self.file_systems) or "none"
                yield issue(f"volumes.{name}.fileSystem",
                            f"unknown file system; known file systems: {known}", volume.file_system)


def uses_workload_identity(spec: FileSystem) -> bool:
    """An AWS file system without access keys: its mount pods assume an IAM role (IRSA)."""
    return spec.backend == "aws" and spec.access_key is None


def network_issues(config: JuiceFsConfig, *, have_subnets: bool, have_groups: bool) -> list[ConfigIssue]:
    """AWS metadata engines need subnets and security groups, from config or from the VPC
    (paths under juicefs)."""
    found = []
    for fs, spec in config.file_systems.items():
        if spec.aws is None:
            continue
        path = f"juicefs.fileSystems.{fs}.aws"
        if not (have_subnets or spec.aws.subnet_ids):
            found.append(issue(f"{path}.subnetIds", "is required: the metadata engine's private subnets "
                               "(or pass the VPC's subnets to build_storage)"))
        if not (have_groups or spec.aws.security_group_ids):
            found.append(issue(f"{path}.securityGroupIds", "is required: security groups that let the "
                               "cluster's nodes reach the metadata engine"))
    return found


def identity_issues(config: JuiceFsConfig, *, have_oidc: bool) -> list[ConfigIssue]:
    """AWS file systems without keys need the EKS cluster's OIDC provider (paths under juicefs)."""
    if have_oidc:
        return []
    return [
        issue(f"juicefs.fileSystems.{fs}",
              "on AWS without accessKey/secretKey the mount pods authenticate through workload "
              "identity (IRSA), which needs the EKS cluster this library creates (cluster.kind: "
              "eks); otherwise set accessKey and secretKey")
        for fs, spec in config.file_systems.items()
        if uses_workload_identity(spec)
    ]


def juicefs_issues(config: JuiceFsConfig, *, have_subnets: bool, have_groups: bool,
                   have_oidc: bool) -> list[ConfigIssue]:
    """What JuiceFs refuses beyond its config's own checks (paths under juicefs); build_storage
    runs the same before building anything."""
    return (network_issues(config, have_subnets=have_subnets, have_groups=have_groups)
            + identity_issues(config, have_oidc=have_oidc))

"""The AWS compute layer's config (``gpu-platform:aws``) and its checks against ``gpuPools``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Literal

from pydantic import Field

from gpu_platform.aws.cidrs import cidr_problem
from gpu_platform.catalog.eks_versions import EKS_KUBERNETES_VERSION, EKS_VERSIONS, SupportType
from gpu_platform.catalog.instances import INSTANCE_TYPES, close_instance_types, instance_types_with
from gpu_platform.config import ConfigIssue, ConfigModel
from gpu_platform.config.errors import issue
from gpu_platform.core.names import DnsLabel, PositiveInt
from gpu_platform.core.pools import GpuPool, PoolPlacement

AmiType = Literal["AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA"]
CapacityType = Literal["ON_DEMAND", "SPOT", "CAPACITY_BLOCK"]
CONTROL_PLANE_LOGS = ("api", "audit", "authenticator", "controllerManager", "scheduler")


def driver_preinstalled(ami_type: str) -> bool:
    """Whether nodes of ``ami_type`` boot with the NVIDIA driver and container toolkit installed.

    The EKS-optimized AL2023 NVIDIA and Bottlerocket NVIDIA AMIs ship both, so the GPU Operator
    must not install its own (driver.enabled / toolkit.enabled false).
    """
    return ami_type in ("AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA")


class VpcConfig(ConfigModel):
    """Either a new VPC (``cidr`` + ``availabilityZones``) or existing private subnets by zone."""

    cidr: str = "10.0.0.0/16"
    availability_zones: list[str] = Field(default_factory=list)
    vpc_id: str | None = Field(default=None, min_length=1)
    subnet_ids: dict[str, str] = Field(default_factory=dict)  # availability zone -> subnet ID

    @property
    def zones(self) -> list[str]:
        return list(self.subnet_ids) if self.subnet_ids else list(self.availability_zones)

    def issues(self) -> Iterator[ConfigIssue]:
        if self.availability_zones and self.subnet_ids:
            yield issue("subnetIds", "give either availabilityZones (new VPC) or subnetIds, not both")
            return
        if not self.availability_zones and not self.subnet_ids:
            yield issue("availabilityZones", "is required (at least 2 zones, e.g. [us-east-1a, "
                        "us-east-1b]) unless subnetIds names existing private subnets")
            return
        if len(self.zones) < 2:
            key = "subnetIds" if self.subnet_ids else "availabilityZones"
            yield issue(key, "EKS needs subnets in at least 2 availability zones", self.zones)
        if len(set(self.availability_zones)) != len(self.availability_zones):
            yield issue("availabilityZones", "must not repeat a zone", self.availability_zones)
        if self.subnet_ids and self.vpc_id is None:
            yield issue("vpcId", "is required with subnetIds (the node security groups live in it)")
        if self.availability_zones:
            problem = cidr_problem(self.cidr, len(self.availability_zones))
            if problem:
                yield issue("cidr", problem, self.cidr)


class SystemPoolConfig(ConfigModel):
    """The small CPU node group for operators and add-ons (no GPU taint)."""

    instance_type: str = Field(default="m6i.large", min_length=1)
    min_size: PositiveInt = 2
    max_size: PositiveInt = 3

    def issues(self) -> Iterator[ConfigIssue]:
        if self.min_size > self.max_size:
            yield issue("minSize", f"must be <= maxSize ({self.max_size})", self.min_size)


class EksClusterConfig(ConfigModel):
    name: DnsLabel
    version: str = EKS_KUBERNETES_VERSION  # any version in catalog.eks_versions.EKS_VERSIONS
    # upgradePolicy.supportType, always set (AWS's own default is EXTENDED, billed at the extended
    # rate once standard support ends); EXTENDED is an opt-in to keep an old version running
    support_type: SupportType = "STANDARD"
    endpoint_private_access: bool = True
    endpoint_public_access: bool = True
    public_access_cidrs: list[str] = Field(default_factory=list)  # empty: EKS default (any)
    vpc: VpcConfig
    system_pool: SystemPoolConfig = Field(default_factory=SystemPoolConfig)

    def issues(self) -> Iterator[ConfigIssue]:
        if self.version not in EKS_VERSIONS:
            yield issue(
                "version",
                f"not an EKS version EKS still runs; use one of {', '.join(EKS_VERSIONS)} "
                f"(components/catalog/eks_versions.py; default {EKS_KUBERNETES_VERSION})",
                self.version,
            )
        if not (self.endpoint_private_access or self.endpoint_public_access):
            yield issue("endpointPublicAccess", "the API endpoint needs private or public access")
        if self.public_access_cidrs and not self.endpoint_public_access:
            yield issue("publicAccessCidrs", "only applies with endpointPublicAccess: true")


class EfaConfig(ConfigModel):
    enabled: bool = False
    # EFA nodes share one cluster placement group, which lives in one zone: no default on purpose.
    availability_zone: str | None = Field(default=None, min_length=1)

    def issues(self) -> Iterator[ConfigIssue]:
        if self.enabled and self.availability_zone is None:
            yield issue(
                "availabilityZone",
                "is required when efa.enabled is true: EFA nodes share a cluster placement group "
                "in one zone; name one of the cluster's zones, e.g. us-east-1a",
            )


class AwsNodePool(ConfigModel):
    """How one ``gpuPools`` entry is built on EKS (same key as the pool)."""

    instance_type: str = Field(min_length=1)
    ami_type: AmiType = "AL2023_x86_64_NVIDIA"
    capacity_type: CapacityType = "ON_DEMAND"
    root_volume_gib: int = Field(default=200, ge=20, le=16384)
    efa: EfaConfig = Field(default_factory=EfaConfig)

    def issues(self) -> Iterator[ConfigIssue]:
        spec = INSTANCE_TYPES.get(self.instance_type)
        if spec is None:
            close = close_instance_types(self.instance_type)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            yield issue(
                "instanceType",
                f"unknown instance type; {hint}known: {', '.join(INSTANCE_TYPES)} "
                "(components/catalog/instances.py)",
                self.instance_type,
            )
            return
        if self.efa.enabled and not spec.efa:
            efa_types = [t.name for t in INSTANCE_TYPES.values()
                         if t.efa and t.gpu_model == spec.gpu_model]
            alternative = f"; {spec.gpu_model} types with EFA: {', '.join(efa_types)}" if efa_types else ""
            yield issue(
                "efa.enabled",
                f"{self.instance_type} does not support EFA; set efa.enabled: false{alternative}",
                True,
            )


class StorageClassConfig(ConfigModel):
    """``aws.storageClass``: the encrypted gp3 default StorageClass on the EBS CSI driver.

    ``reclaimPolicy: Retain`` (the default) keeps the EBS volume when its claim is deleted
    (Prometheus' TSDB, Pipelines' MySQL and MinIO survive an uninstall or a mistaken delete; the
    orphaned PersistentVolume is removed by hand); a throwaway environment (dev) sets ``Delete``.
    ``enabled: false``: the cluster's owner brings a default class (declare it in
    ``cluster.storageClasses``).
    """

    enabled: bool = True
    name: DnsLabel = "gp3"
    reclaim_policy: Literal["Retain", "Delete"] = "Retain"


class AwsConfig(ConfigModel):
    """``gpu-platform:aws``: the EKS cluster, one node group per GPU pool, the default StorageClass."""

    cluster: EksClusterConfig
    node_pools: dict[DnsLabel, AwsNodePool] = Field(default_factory=dict)
    storage_class: StorageClassConfig = Field(default_factory=StorageClassConfig)

    def issues(self) -> Iterator[ConfigIssue]:
        zones = self.cluster.vpc.zones
        for name, pool in self.node_pools.items():
            zone = pool.efa.availability_zone
            if pool.efa.enabled and zone is not None and zones and zone not in zones:
                yield issue(
                    f"nodePools.{name}.efa.availabilityZone",
                    f"must be one of the cluster's zones ({', '.join(zones)})",
                    zone,
                )


def check_aws_pools(
    pools: Mapping[str, GpuPool], aws: AwsConfig, *, prefix: str = "aws", pools_path: str = "gpuPools"
) -> list[ConfigIssue]:
    """Cross-checks between ``gpuPools`` and ``aws.nodePools``; paths from the config root."""
    found: list[ConfigIssue] = []
    for name in aws.node_pools:
        if name not in pools:
            known = ", ".join(pools) or "none"
            found.append(issue(f"{prefix}.nodePools.{name}",
                               f"names no pool in {pools_path} (pools: {known})"))
    for name in pools:
        if name not in aws.node_pools:
            found.append(issue(f"{pools_path}.{name}",
                               f"has no AWS node pool; add {prefix}.nodePools.{name} with its "
                               "instanceType"))
    for name, node_pool in aws.node_pools.items():
        pool = pools.get(name)
        if pool is None:
            continue  # reported above
        mismatch = gpu_mismatch(pool, node_pool, f"{pools_path}.{name}")
        if mismatch is not None:
            found.append(issue(f"{prefix}.nodePools.{name}.instanceType", mismatch,
                               node_pool.instance_type))
    for name, node_pool in aws.node_pools.items():
        pool = pools.get(name)
        if pool is None:
            continue
        driver = driver_mismatch(pool, node_pool, f"{prefix}.nodePools.{name}")
        if driver is not None:
            found.append(issue(f"{pools_path}.{name}.driver", driver, pool.driver))
    return found


def gpu_mismatch(pool: GpuPool, node_pool: AwsNodePool, pool_path: str) -> str | None:
    """Why ``node_pool``'s instance type cannot hold ``pool``'s GPUs, or None (also None for an
    unknown instance type, which the node pool's own check reports)."""
    spec = INSTANCE_TYPES.get(node_pool.instance_type)
    if spec is None or (spec.gpu_model, spec.gpu_count) == (pool.gpu.model, pool.gpu.count):
        return None
    matching = instance_types_with(pool.gpu.model, pool.gpu.count)
    fix = f"use {', '.join(matching)}" if matching else "no catalog type matches"
    return (f"{spec.name} has {spec.gpu_count}x {spec.gpu_model} but {pool_path}.gpu "
            f"is {pool.gpu.count}x {pool.gpu.model}; {fix} or change {pool_path}.gpu")


def driver_mismatch(pool: PoolPlacement, node_pool: AwsNodePool, node_pool_path: str) -> str | None:
    """Why ``pool.driver`` contradicts the node image (installing the driver twice breaks the
    node; not installing it leaves no driver), or None."""
    expected = "preinstalled" if driver_preinstalled(node_pool.ami_type) else "operator"
    if pool.driver == expected:
        return None
    ships = "ships" if expected == "preinstalled" else "does not ship"
    return (f"must be '{expected}': {node_pool_path}.amiType {node_pool.ami_type} {ships} "
            "the NVIDIA driver")


def needs_cluster_autoscaler(pools: Mapping[str, GpuPool]) -> bool:
    """A pool that idles at zero nodes needs the autoscaler to bring its first node up."""
    return any(pool.min_size == 0 for pool in pools.values())


__all__ = [
    "CONTROL_PLANE_LOGS",
    "AwsConfig",
    "AwsNodePool",
    "EfaConfig",
    "EksClusterConfig",
    "SystemPoolConfig",
    "VpcConfig",
    "check_aws_pools",
    "driver_mismatch",
    "driver_preinstalled",
    "gpu_mismatch",
    "needs_cluster_autoscaler",
]

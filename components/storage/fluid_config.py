"""Fluid configuration (``storage.fluid``): datasets, their cache tiers and sources, and the checks
the Fluid component, ``StorageConfig`` and ``build_storage`` run beyond the models' own (pure).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import Field

from gpu_platform.config import ConfigIssue, ConfigModel
from gpu_platform.config.errors import issue
from gpu_platform.core.names import DnsLabel, PositiveInt
from gpu_platform.core.pools import GpuPool
from gpu_platform.k8s.addon import PodSecurityLevel

RUNTIME_KINDS = {"juicefs": "JuiceFSRuntime", "alluxio": "AlluxioRuntime"}
SOURCE = re.compile(r"^(s3|juicefs|pvc)://([a-z0-9][-a-z0-9.]*)(/[^\s]*)?$")
QUANTITY = r"^[1-9][0-9]*(Mi|Gi|Ti)$"
Quota = Annotated[str, Field(pattern=QUANTITY)]
# Fluid's CRDs take watermarks as strings; typed here as fractions so that 0 < low < high <= 1
Fraction = Annotated[float, Field(gt=0, le=1)]


class CacheLevel(ConfigModel):
    medium: Literal["MEM", "SSD", "HDD"]
    path: str = Field(pattern=r"^/")
    quota: Quota
    high: Fraction = 0.95
    low: Fraction = 0.7

    def issues(self) -> Iterator[ConfigIssue]:
        if self.low >= self.high:
            yield issue("low", f"must be < high ({self.high})", self.low)


class Preload(ConfigModel):
    """A DataLoad that warms the cache once, before the first job reads it."""

    enabled: bool = True
    paths: list[str] = Field(default_factory=lambda: ["/"], min_length=1)
    replicas: PositiveInt = 1


class S3Credentials(ConfigModel):
    """An existing Secret in the dataset's namespace (none: the node or pod IAM role is used)."""

    secret_name: DnsLabel
    access_key_key: str = "access-key"
    secret_key_key: str = "secret-key"


class FluidDataset(ConfigModel):
    namespace: DnsLabel
    source: str
    runtime: Literal["juicefs", "alluxio"] = "alluxio"
    pool: DnsLabel  # the GPU pool whose pods read the data: cache workers run there
    workers: PositiveInt = 1
    cache: list[CacheLevel] = Field(min_length=1)
    region: str | None = None  # s3:// only
    credentials: S3Credentials | None = None  # s3:// only
    preload: Preload | None = None
    # Namespaces whose workloads mount the dataset. Pods mount claims of their own namespace only,
    # so each gets a reference Dataset (dataset://<namespace>/<name>) and with it a PVC <name>
    # (Fluid, "dataset across namespace with CSI"); FUSE and cache pods stay in ``namespace``.
    shared_with: list[DnsLabel] = Field(default_factory=list)

    def issues(self) -> Iterator[ConfigIssue]:
        if self.namespace in self.shared_with:
            yield issue("sharedWith", f"lists the dataset's own namespace '{self.namespace}'")
        if len(set(self.shared_with)) != len(self.shared_with):
            yield issue("sharedWith", "each namespace at most once", self.shared_with)
        match = SOURCE.match(self.source)
        if match is None:
            yield issue("source", "must be s3://<bucket>[/path], juicefs://<file system>[/path] or "
                        "pvc://<claim>[/path]", self.source)
            return
        scheme = match.group(1)
        if self.runtime == "juicefs" and scheme != "juicefs":
            yield issue("runtime", f"juicefs reads only juicefs:// sources; use alluxio for {scheme}://",
                        self.runtime)
        if self.runtime == "alluxio" and scheme == "juicefs":
            yield issue("runtime", "juicefs:// sources need runtime juicefs", self.runtime)
        if scheme != "s3" and (self.region is not None or self.credentials is not None):
            yield issue("region" if self.region is not None else "credentials",
                        "applies to s3:// sources only")
        if self.runtime == "juicefs" and len(self.cache) > 1:
            # JuiceFSRuntime reads only the first level (several disks: "path: /a:/b")
            yield issue("cache", "runtime juicefs takes exactly one cache level", len(self.cache))
        media = [level.medium for level in self.cache]
        if len(set(media)) != len(media):
            yield issue("cache", "each medium at most once", media)


class FluidConfig(ConfigModel):
    enabled: bool = True
    namespace: DnsLabel = "fluid-system"
    # false: install into an existing namespace (one a platform team manages)
    create_namespace: bool = True
    # Fluid's CSI plugin and FUSE pods are privileged
    pod_security: PodSecurityLevel = "privileged"
    # namespaces this component creates (Pod Security privileged) for datasets: Fluid runs the
    # runtime's FUSE and cache worker pods, privileged, in the Dataset's own namespace
    dataset_namespaces: list[DnsLabel] = Field(default_factory=list)
    datasets: dict[DnsLabel, FluidDataset] = Field(default_factory=dict)
    values_overrides: dict[str, Any] = Field(default_factory=dict)

    def issues(self) -> Iterator[ConfigIssue]:
        if self.namespace in self.dataset_namespaces:
            yield issue("datasetNamespaces", f"must not contain Fluid's own namespace '{self.namespace}'")
        if len(set(self.dataset_namespaces)) != len(self.dataset_namespaces):
            yield issue("datasetNamespaces", "each namespace at most once", self.dataset_namespaces)


def source_parts(source: str) -> tuple[str, str, str]:
    """``(scheme, name, path)`` of a validated source (path is "" or starts with "/")."""
    match = SOURCE.match(source)
    if match is None:
        raise ValueError(f"invalid dataset source {source!r}")
    return match.group(1), match.group(2), match.group(3) or ""


def pool_issues(config: FluidConfig, pools: Mapping[str, GpuPool]) -> list[ConfigIssue]:
    """Datasets naming a GPU pool that does not exist (paths relative to the storage config)."""
    known = ", ".join(pools) or "none"
    return [
        issue(f"fluid.datasets.{name}.pool", f"unknown GPU pool; known pools: {known}", ds.pool)
        for name, ds in config.datasets.items()
        if ds.pool not in pools
    ]


def file_system_issues(config: FluidConfig, file_systems: Collection[str]) -> list[ConfigIssue]:
    """``juicefs://`` sources naming a file system not in ``file_systems`` (paths relative to the
    storage config)."""
    found = []
    for name, ds in config.datasets.items():
        match = SOURCE.match(ds.source)
        if match is not None and match.group(1) == "juicefs" and match.group(2) not in file_systems:
            known = ", ".join(file_systems) or "none"
            found.append(issue(f"fluid.datasets.{name}.source",
                               f"unknown JuiceFS file system '{match.group(2)}'; known file systems: {known}",
                               ds.source))
    return found


def namespace_issues(config: FluidConfig, levels: Mapping[str, str]) -> list[ConfigIssue]:
    """Datasets in namespaces (created elsewhere) whose Pod Security level rejects Fluid's pods.

    ``levels``: namespace -> enforced level, for namespaces other areas create (team namespaces).
    """
    return [
        issue(f"fluid.datasets.{name}.namespace",
              f"Fluid runs privileged FUSE and cache pods in the dataset's namespace, and '{ds.namespace}' "
              f"enforces Pod Security '{levels[ds.namespace]}'; use a namespace from "
              "fluid.datasetNamespaces", ds.namespace)
        for name, ds in config.datasets.items()
        if ds.namespace not in config.dataset_namespaces and levels.get(ds.namespace, "privileged")
        != "privileged"
    ]

"""Fluid: dataset caching next to the GPUs that read the data.

A Dataset names where data lives (``s3://``, ``juicefs://<file system>`` or ``pvc://``); its
runtime (JuiceFSRuntime or AlluxioRuntime) runs cache workers with a tiered cache (memory, then
SSD). Fluid places the workers by the Dataset's ``nodeAffinity`` and ``tolerations`` (runtimes
have a worker nodeSelector but no tolerations), so both come from the reading GPU pool. Fluid
then creates a PVC with the dataset's name, which pods mount (see ``gpu_platform.storage.mounts``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from gpu_platform.config import ConfigIssue, ConfigModel
from gpu_platform.config.errors import issue
from gpu_platform.core.names import MANAGED_BY_LABELS, POOL_LABEL, DnsLabel, PositiveInt, child_name
from gpu_platform.core.pools import GpuPool, pool_scheduling
from gpu_platform.k8s.addon import PodSecurityLevel, namespace, operator_install
from gpu_platform.k8s.objects import custom_resource
from gpu_platform.k8s.values import deep_merge
from gpu_platform.versions import FLUID

FLUID_TYPE = "gpu-platform:storage:Fluid"
API_VERSION = "data.fluid.io/v1alpha1"
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


def fluid_values(config: FluidConfig) -> dict[str, Any]:
    """Helm values for the fluid chart: only the runtime controllers the datasets use."""
    used = {ds.runtime for ds in config.datasets.values()}
    values = {
        "namespace": config.namespace,
        "runtime": {kind: {"enabled": kind in used} for kind in sorted(RUNTIME_KINDS)},
    }
    return deep_merge(values, config.values_overrides)


def juicefs_secret_name(dataset: str) -> str:
    return f"{dataset}-juicefs"


def _ref(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def dataset_object(name: str, ds: FluidDataset, pool: GpuPool,
                   juicefs_keys: Sequence[str] = ()) -> dict[str, Any]:
    scheme, target, path = source_parts(ds.source)
    mount: dict[str, Any] = {"name": name, "readOnly": True}
    if scheme == "juicefs":
        # JuiceFS community edition: the file system comes from the Secret, the URL is the path
        # Fluid formats with "--no-update" when storage/bucket are absent: it joins the file
        # system the CSI driver formatted, named by the mount's name
        secret = juicefs_secret_name(name)
        mount["name"] = target
        mount["mountPoint"] = f"juicefs://{path or '/'}"
        mount["encryptOptions"] = [_ref(key, secret, key) for key in
                                   ("metaurl", "access-key", "secret-key") if key in juicefs_keys]
    else:
        mount["mountPoint"] = ds.source
        if scheme == "s3" and ds.region:
            mount["options"] = {"alluxio.underfs.s3.endpoint.region": ds.region}
        if ds.credentials is not None:
            c = ds.credentials
            mount["encryptOptions"] = [_ref("aws.accessKeyId", c.secret_name, c.access_key_key),
                                       _ref("aws.secretKey", c.secret_name, c.secret_key_key)]
    scheduling = pool_scheduling(ds.pool, pool)
    return {
        "apiVersion": API_VERSION,
        "kind": "Dataset",
        "metadata": {"name": name, "namespace": ds.namespace,
                     "labels": {**MANAGED_BY_LABELS, POOL_LABEL: ds.pool}},
        "spec": {
            "mounts": [mount],
            "accessModes": ["ReadOnlyMany"],
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": key, "operator": "In", "values": [value]}
                for key, value in scheduling.node_selector.items()]}]}},
            "tolerations": scheduling.tolerations,
            # several datasets may cache on the same GPU node
            "placement": "Shared",
        },
    }


def reference_dataset_object(name: str, ds: FluidDataset, namespace: str) -> dict[str, Any]:
    """A Dataset in ``namespace`` that mounts ``ds`` from its own namespace (no runtime of its own)."""
    return {
        "apiVersion": API_VERSION,
        "kind": "Dataset",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED_BY_LABELS)},
        "spec": {"mounts": [{"name": name, "mountPoint": f"dataset://{ds.namespace}/{name}"}]},
    }


def runtime_object(name: str, ds: FluidDataset) -> dict[str, Any]:
    levels = [
        {"mediumtype": level.medium, "path": level.path, "quota": level.quota,
         "high": f"{level.high:g}", "low": f"{level.low:g}"}
        for level in ds.cache
    ]
    return {
        "apiVersion": API_VERSION,
        "kind": RUNTIME_KINDS[ds.runtime],
        "metadata": {"name": name, "namespace": ds.namespace, "labels": dict(MANAGED_BY_LABELS)},
        "spec": {"replicas": ds.workers, "tieredstore": {"levels": levels}},
    }


def dataload_object(name: str, ds: FluidDataset, preload: Preload) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "DataLoad",
        "metadata": {"name": f"{name}-warmup", "namespace": ds.namespace,
                     "labels": dict(MANAGED_BY_LABELS)},
        "spec": {
            "dataset": {"name": name, "namespace": ds.namespace},
            "loadMetadata": True,
            "policy": "Once",
            "target": [{"path": path, "replicas": preload.replicas} for path in preload.paths],
        },
    }


class Fluid(pulumi.ComponentResource):
    """The Fluid chart and, per dataset, a Dataset, its runtime and an optional DataLoad."""

    def __init__(self, name: str, config: FluidConfig, pools: Mapping[str, GpuPool],
                 opts: pulumi.ResourceOptions | None = None, *,
                 juicefs_secrets: Mapping[str, Mapping[str, pulumi.Output[str]]] | None = None,
                 depends_on: Sequence[pulumi.Resource] = ()):
        super().__init__(FLUID_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.release = operator_install(
            name, FLUID, parent=self, release_name="fluid", namespace_name=config.namespace,
            pod_security=config.pod_security, values=fluid_values(config),
        ).release
        owned = {
            ns_name: namespace(child_name(name, f"{ns_name}-ns"), ns_name, "privileged", child)
            for ns_name in config.dataset_namespaces
        }
        secrets = juicefs_secrets or {}
        for ds_name, ds in config.datasets.items():
            deps: list[pulumi.Resource] = [self.release, *depends_on]
            deps += [owned[ds.namespace]] if ds.namespace in owned else []
            keys: list[str] = []
            scheme, target, _ = source_parts(ds.source)
            if scheme == "juicefs":
                # secretKeyRefs resolve in the Dataset's namespace: a copy of the file system's Secret
                data = secrets[target]
                keys = list(data)
                deps.append(k8s.core.v1.Secret(
                    child_name(name, f"{ds_name}-juicefs-secret"),
                    metadata={"name": juicefs_secret_name(ds_name), "namespace": ds.namespace,
                              "labels": dict(MANAGED_BY_LABELS)},
                    type="Opaque", string_data=dict(data),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=deps[1:])))
            after = pulumi.ResourceOptions(parent=self, depends_on=deps)
            dataset = custom_resource(child_name(name, f"{ds_name}-dataset"),
                              dataset_object(ds_name, ds, pools[ds.pool], keys), after)
            runtime = custom_resource(child_name(name, f"{ds_name}-runtime"), runtime_object(ds_name, ds),
                              pulumi.ResourceOptions(parent=self, depends_on=[dataset]))
            for shared in ds.shared_with:
                custom_resource(child_name(name, f"{ds_name}-ref-{shared}"),
                                reference_dataset_object(ds_name, ds, shared),
                                pulumi.ResourceOptions(parent=self, depends_on=[runtime, *depends_on]))
            if ds.preload is not None and ds.preload.enabled:
                custom_resource(
                    child_name(name, f"{ds_name}-warmup"),
                    dataload_object(ds_name, ds, ds.preload),
                    pulumi.ResourceOptions(parent=self, depends_on=[runtime]),
                )
        self.register_outputs({})

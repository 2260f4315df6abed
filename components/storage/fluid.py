"""Fluid: dataset caching next to the GPUs that read the data.

A Dataset names where data lives (``s3://``, ``juicefs://<file system>`` or ``pvc://``); its
runtime (JuiceFSRuntime or AlluxioRuntime) runs cache workers with a tiered cache (memory, then
SSD). Fluid places the workers by the Dataset's ``nodeAffinity`` and ``tolerations`` (runtimes
have a worker nodeSelector but no tolerations), so both come from the reading GPU pool. Fluid
then creates a PVC with the dataset's name, which pods mount (see ``gpu_platform.storage.mounts``).

``Fluid(name, FluidArgs, opts)`` refuses, before registering anything, datasets on unknown GPU
pools and ``juicefs://`` sources naming a file system it has no Secret data for
(``juicefsSecrets``, the JuiceFs component's ``secret_data``). Every child waits for
``opts.depends_on`` (the JuiceFS StorageClasses, dataset namespaces made elsewhere).
``fluid.createNamespace: false`` installs the chart into an existing namespace. Outputs:
``namespace_name``/``release_name`` of the chart and ``dataset_names`` (dataset -> the Dataset's
name, which is also the name of the PVC Fluid creates for it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigIssue, component_args
from gpu_platform.config.args import InputStr
from gpu_platform.core.component import child_options, depends_on_of
from gpu_platform.core.names import MANAGED_BY_LABELS, POOL_LABEL, DnsLabel, child_name
from gpu_platform.core.pools import GpuPool, pool_scheduling
from gpu_platform.k8s.addon import namespace, operator_install
from gpu_platform.k8s.objects import custom_resource
from gpu_platform.k8s.values import deep_merge
from gpu_platform.storage.fluid_config import (
    QUANTITY,
    RUNTIME_KINDS,
    SOURCE,
    CacheLevel,
    FluidConfig,
    FluidDataset,
    Preload,
    S3Credentials,
    file_system_issues,
    namespace_issues,
    pool_issues,
    source_parts,
)
from gpu_platform.versions import FLUID

FLUID_TYPE = "gpu-platform:storage:Fluid"
API_VERSION = "data.fluid.io/v1alpha1"
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


class FluidArgs(ComponentArgs):
    """The Fluid config, the GPU pools datasets name and, for ``juicefs://`` datasets, the
    JuiceFS file systems' Secret data (secret Outputs; JuiceFs.secret_data). ``fluid.enabled`` is
    read by ``build_storage`` only."""

    fluid: FluidConfig = Field(default_factory=FluidConfig)
    pools: dict[DnsLabel, GpuPool] = Field(default_factory=dict)
    juicefs_secrets: dict[DnsLabel, dict[str, InputStr]] = Field(default_factory=dict)

    def issues(self) -> Iterator[ConfigIssue]:
        yield from pool_issues(self.fluid, self.pools)
        yield from file_system_issues(self.fluid, list(self.juicefs_secrets))


class Fluid(pulumi.ComponentResource):
    """The Fluid chart and, per dataset, a Dataset, its runtime and an optional DataLoad."""

    namespace_name: pulumi.Output[str]
    release_name: pulumi.Output[str]
    dataset_names: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: FluidArgs | Mapping[str, Any],
                 opts: pulumi.ResourceOptions | None = None):
        args = component_args(FluidArgs, args, component="Fluid", name=name)
        super().__init__(FLUID_TYPE, name, None, opts)
        config, pools = args.fluid, args.pools
        child = child_options(self, opts)
        install = operator_install(
            name, FLUID, parent=self, release_name="fluid", namespace_name=config.namespace,
            pod_security=config.pod_security, values=fluid_values(config),
            depends_on=depends_on_of(opts),
            create_namespace=config.create_namespace,
        )
        self.release = install.release
        owned = {
            ns_name: namespace(child_name(name, f"{ns_name}-ns"), ns_name, "privileged", child)
            for ns_name in config.dataset_namespaces
        }
        secrets = args.juicefs_secrets
        self.datasets: dict[str, k8s.apiextensions.CustomResource] = {}
        for ds_name, ds in config.datasets.items():
            deps: list[pulumi.Resource] = [self.release]
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
                    opts=child_options(self, opts, depends_on=deps[1:])))
            dataset = custom_resource(child_name(name, f"{ds_name}-dataset"),
                                      dataset_object(ds_name, ds, pools[ds.pool], keys),
                                      child_options(self, opts, depends_on=deps))
            self.datasets[ds_name] = dataset
            runtime = custom_resource(child_name(name, f"{ds_name}-runtime"), runtime_object(ds_name, ds),
                                      child_options(self, opts, depends_on=[dataset]))
            for shared in ds.shared_with:
                custom_resource(child_name(name, f"{ds_name}-ref-{shared}"),
                                reference_dataset_object(ds_name, ds, shared),
                                child_options(self, opts, depends_on=[runtime]))
            if ds.preload is not None and ds.preload.enabled:
                custom_resource(
                    child_name(name, f"{ds_name}-warmup"),
                    dataload_object(ds_name, ds, ds.preload),
                    child_options(self, opts, depends_on=[runtime]),
                )
        self.namespace_name = install.namespace_name
        self.release_name = install.release_name
        self.dataset_names = {key: _known_after(ds, key) for key, ds in self.datasets.items()}
        self.register_outputs({"namespace": self.namespace_name, "releaseName": self.release_name,
                               "datasetNames": self.dataset_names})


def _known_after(resource: pulumi.Resource, value: str) -> pulumi.Output[str]:
    """``value`` (known now) as an Output that resolves once ``resource`` is registered, so that
    whatever uses it waits for the resource."""
    return resource.urn.apply(lambda _: value)


__all__ = [
    "API_VERSION",
    "QUANTITY",
    "RUNTIME_KINDS",
    "SOURCE",
    "CacheLevel",
    "Fluid",
    "FluidArgs",
    "FluidConfig",
    "FluidDataset",
    "Preload",
    "S3Credentials",
    "dataload_object",
    "dataset_object",
    "file_system_issues",
    "fluid_values",
    "juicefs_secret_name",
    "namespace_issues",
    "pool_issues",
    "runtime_object",
    "source_parts",
]

"""JuiceFS: the CSI driver, file systems (object storage + metadata engine), StorageClasses, PVCs.

A file system is data chunks in an object store plus an inode tree in a metadata engine. On AWS
the component creates both (S3 + ElastiCache Redis or RDS PostgreSQL); on ``external`` the URLs
come from secret stack config. Either way, JuiceFS reads them from one Kubernetes Secret per file
system, whose values stay ``pulumi.Output.secret`` end to end.

``JuiceFs(name, JuiceFsArgs, opts)``: the VPC's subnets and security groups (metadata engines)
and the EKS cluster's OIDC provider (mount pods' workload identity) may be Outputs. Refused
before anything is registered: AWS metadata engines without subnets or security groups, AWS file
systems without keys and without the OIDC provider, volumes on unknown file systems. Every child
waits for ``opts.depends_on`` (the namespaces of the PVCs). ``juicefs.createNamespace: false``
installs into an existing namespace. Outputs: ``namespace_name``/``release_name`` of the CSI
driver, ``storage_class_names`` (file system -> StorageClass) and ``claim_names`` (volume -> PVC).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, SecretStr

from gpu_platform.aws.workload_identity import ROLE_ARN_ANNOTATION, workload_role
from gpu_platform.config import ComponentArgs, ConfigIssue, component_args
from gpu_platform.config.args import InputStr, InputStrList
from gpu_platform.config.errors import issue
from gpu_platform.core.component import child_options
from gpu_platform.core.names import MANAGED_BY_LABELS, DnsLabel, child_name
from gpu_platform.core.pools import GpuPool, all_pool_tolerations
from gpu_platform.k8s.addon import helm_release, namespace
from gpu_platform.k8s.values import deep_merge
from gpu_platform.storage.backends import RedisEngine, create_bucket, create_postgres, create_redis
from gpu_platform.storage.juicefs_config import (
    SIZE_PATTERN,
    AwsStore,
    ExternalStore,
    FileSystem,
    JuiceFsConfig,
    MountCache,
    Size,
    Volume,
    identity_issues,
    juicefs_issues,
    network_issues,
    uses_workload_identity,
)
from gpu_platform.versions import JUICEFS_CSI_DRIVER

JUICEFS_TYPE = "gpu-platform:storage:JuiceFs"
PROVISIONER = "csi.juicefs.com"
PATH_PATTERN = "${.PVC.namespace}-${.PVC.name}"
MOUNT_SERVICE_ACCOUNT_PARAMETER = "juicefs/mount-service-account"


def secret_name(fs: str) -> str:
    return f"juicefs-{fs}-secret"


def storage_class_name(fs: str) -> str:
    return f"juicefs-{fs}"


def mount_options(cache: MountCache) -> list[str]:
    options = [f"cache-dir={cache.dir}", f"cache-size={cache.size_mib}",
               f"buffer-size={cache.buffer_size_mib}"]
    return options + (["writeback"] if cache.writeback else [])


def csi_values(config: JuiceFsConfig, pools: Mapping[str, Any]) -> dict[str, Any]:
    """Helm values for juicefs-csi-driver (every key exists in its values.yaml)."""
    # the node plugin must run on GPU nodes too, or their pods can never mount a volume; "Exists"
    # per taint key (the shape upstream's values show) tolerates every value and effect of it
    keys = dict.fromkeys(["CriticalAddonsOnly", *(t["key"] for t in all_pool_tolerations(dict(pools)))])
    values = {
        "mountMode": "mountpod",
        # the provisioner creates each PV's directory by pathPattern
        "controller": {"replicas": config.controller_replicas, "provisioner": True},
        "node": {"tolerations": [{"key": key, "operator": "Exists"} for key in keys]},
        "dashboard": {"enabled": config.dashboard},
        # StorageClasses are created by this component (with their secrets), not by the chart
        "storageClasses": [],
    }
    return deep_merge(values, config.values_overrides)


def mount_service_account(fs: str) -> str:
    return f"juicefs-{fs}-mount"


def bucket_statements(bucket_arn: str) -> list[dict[str, Any]]:
    """What a JuiceFS client does with its chunk bucket, and nothing else."""
    return [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation",
                                       "s3:ListBucketMultipartUploads"], "Resource": [bucket_arn]},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                                       "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
         "Resource": [f"{bucket_arn}/*"]},
    ]


def storage_class(fs: str, spec: FileSystem, secret_namespace: str) -> dict[str, Any]:
    parameters: dict[str, str] = {}
    for role in ("provisioner", "controller-expand", "node-publish"):
        parameters[f"csi.storage.k8s.io/{role}-secret-name"] = secret_name(fs)
        parameters[f"csi.storage.k8s.io/{role}-secret-namespace"] = secret_namespace
    # predictable directories (/<namespace>-<pvc>) instead of /pvc-<uid>, so a Fluid dataset can
    # name a volume's data as juicefs://<fs>/<namespace>-<pvc>/...; needs controller.provisioner
    parameters["pathPattern"] = PATH_PATTERN
    if uses_workload_identity(spec):
        # the CSI driver runs this file system's mount pods under the IRSA service account
        parameters[MOUNT_SERVICE_ACCOUNT_PARAMETER] = mount_service_account(fs)
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": storage_class_name(fs), "labels": dict(MANAGED_BY_LABELS)},
        "provisioner": PROVISIONER,
        "parameters": parameters,
        "reclaimPolicy": spec.reclaim_policy,
        "allowVolumeExpansion": True,
        "volumeBindingMode": "Immediate",
        "mountOptions": mount_options(spec.cache),
    }


def pvc(name: str, volume: Volume) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": volume.namespace, "labels": dict(MANAGED_BY_LABELS)},
        "spec": {
            "accessModes": ["ReadWriteMany"],
            "storageClassName": storage_class_name(volume.file_system),
            "resources": {"requests": {"storage": volume.size}},
        },
    }


def _secret(value: SecretStr) -> pulumi.Output[str]:
    return pulumi.Output.secret(value.get_secret_value())


class JuiceFsArgs(ComponentArgs):
    """The JuiceFS config and what it is wired to: GPU pools (the node plugin tolerates their
    taints), the VPC (metadata engines; these win over ``aws.subnetIds``/``securityGroupIds``)
    and the EKS cluster's OIDC provider. ``juicefs.enabled`` is read by ``build_storage`` only."""

    juicefs: JuiceFsConfig = Field(default_factory=JuiceFsConfig)
    pools: dict[DnsLabel, GpuPool] = Field(default_factory=dict)
    subnet_ids: InputStrList | None = None
    security_group_ids: InputStrList | None = None
    oidc_provider_arn: InputStr | None = None
    oidc_provider_url: InputStr | None = None

    def issues(self) -> Iterator[ConfigIssue]:
        yield from juicefs_issues(self.juicefs, have_subnets=self.subnet_ids is not None,
                                  have_groups=self.security_group_ids is not None,
                                  have_oidc=self.oidc_provider_arn is not None)
        if (self.oidc_provider_arn is None) != (self.oidc_provider_url is None):
            missing = "oidcProviderUrl" if self.oidc_provider_url is None else "oidcProviderArn"
            yield issue(missing, "oidcProviderArn and oidcProviderUrl must be given together (the EKS "
                        "cluster's IAM OIDC provider and its issuer URL)")


class JuiceFs(pulumi.ComponentResource):
    """The CSI driver and every file system's stores, Secret, StorageClass and PVCs."""

    namespace_name: pulumi.Output[str]
    release_name: pulumi.Output[str]
    storage_class_names: dict[str, pulumi.Output[str]]
    claim_names: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: JuiceFsArgs | Mapping[str, Any],
                 opts: pulumi.ResourceOptions | None = None):
        args = component_args(JuiceFsArgs, args, component="JuiceFs", name=name)
        super().__init__(JUICEFS_TYPE, name, None, opts)
        config = args.juicefs
        child = child_options(self, opts)
        ns_deps: list[pulumi.Resource] = []
        if config.namespace != "kube-system" and config.create_namespace:
            ns_deps.append(namespace(child_name(name, "ns"), config.namespace, config.pod_security, child))
        self.release = helm_release(
            child_name(name, "csi"), JUICEFS_CSI_DRIVER, release_name="juicefs-csi-driver",
            namespace=config.namespace, values=csi_values(config, args.pools), opts=child,
            depends_on=ns_deps,
        )
        # per AWS file system: its bucket (the compute layer grants node/pod roles access to it)
        self.buckets: dict[str, Any] = {}
        # per file system: the Secret's data as secret Outputs (Fluid copies it next to datasets)
        self.secret_data: dict[str, dict[str, pulumi.Output[str]]] = {}
        self.storage_classes: dict[str, k8s.storage.v1.StorageClass] = {}
        for fs, spec in config.file_systems.items():
            data = self._stores(f"{name}-{fs}", fs, spec, args.subnet_ids, args.security_group_ids)
            self.secret_data[fs] = data
            secret = k8s.core.v1.Secret(
                child_name(name, f"{fs}-secret"),
                metadata={"name": secret_name(fs), "namespace": config.namespace,
                          "labels": dict(MANAGED_BY_LABELS)},
                type="Opaque",
                string_data=data,
                opts=child_options(self, opts, depends_on=ns_deps),
            )
            class_deps: list[pulumi.Resource] = [self.release, secret]
            if uses_workload_identity(spec):
                class_deps.append(self._mount_identity(
                    name, fs, config.namespace, args.oidc_provider_arn, args.oidc_provider_url,
                    child_options(self, opts, depends_on=ns_deps)))
            rendered = storage_class(fs, spec, config.namespace)
            self.storage_classes[fs] = self._storage_class(
                name, fs, rendered, child_options(self, opts, depends_on=class_deps))
        guard = pulumi.ResourceOptions(protect=True, retain_on_delete=True) if config.protect else None
        self.volumes: dict[str, k8s.core.v1.PersistentVolumeClaim] = {}
        for vol_name, volume in config.volumes.items():
            rendered = pvc(vol_name, volume)
            self.volumes[vol_name] = k8s.core.v1.PersistentVolumeClaim(
                child_name(name, f"{vol_name}-pvc"),
                metadata=rendered["metadata"],
                spec=rendered["spec"],
                opts=pulumi.ResourceOptions.merge(
                    child_options(self, opts, depends_on=[self.storage_classes[volume.file_system]]),
                    guard),
            )
        self.namespace_name = self.release.namespace  # type: ignore[assignment]
        self.release_name = self.release.name  # type: ignore[assignment]
        self.storage_class_names = {fs: sc.metadata.apply(_name) for fs, sc in self.storage_classes.items()}
        self.claim_names = {vol: claim.metadata.apply(_name) for vol, claim in self.volumes.items()}
        self.register_outputs({"namespace": self.namespace_name, "releaseName": self.release_name,
                               "storageClassNames": self.storage_class_names,
                               "claimNames": self.claim_names})

    def _mount_identity(self, name: str, fs: str, ns: str, oidc_provider_arn: Any,
                        oidc_provider_url: Any, opts: pulumi.ResourceOptions) -> pulumi.Resource:
        """The IRSA role and service account this file system's mount pods run as."""
        sa = mount_service_account(fs)
        role = workload_role(
            child_name(name, f"{fs}-mount-role"),
            oidc_provider_arn=oidc_provider_arn,
            oidc_provider_url=oidc_provider_url,
            namespace=ns,
            service_account=sa,
            statements=self.buckets[fs].arn.apply(bucket_statements),
            description=f"JuiceFS {fs} mount pods ({ns}/{sa}): read and write its chunk bucket",
            opts=opts,
        )
        return k8s.core.v1.ServiceAccount(
            child_name(name, f"{fs}-mount-sa"),
            metadata={"name": sa, "namespace": ns, "labels": dict(MANAGED_BY_LABELS),
                      "annotations": {ROLE_ARN_ANNOTATION: role.arn}},
            opts=opts,
        )

    def _storage_class(self, name: str, fs: str, rendered: dict[str, Any],
                       opts: pulumi.ResourceOptions) -> k8s.storage.v1.StorageClass:
        return k8s.storage.v1.StorageClass(
            child_name(name, f"{fs}-sc"),
            metadata=rendered["metadata"],
            provisioner=rendered["provisioner"],
            parameters=rendered["parameters"],
            reclaim_policy=rendered["reclaimPolicy"],
            allow_volume_expansion=rendered["allowVolumeExpansion"],
            volume_binding_mode=rendered["volumeBindingMode"],
            mount_options=rendered["mountOptions"],
            opts=opts,
        )

    def _stores(self, prefix: str, fs: str, spec: FileSystem, subnet_ids: Any,
                security_group_ids: Any) -> dict[str, pulumi.Output[str]]:
        data: dict[str, Any] = {"name": fs}
        if spec.external is not None:
            data.update(metaurl=_secret(spec.external.metaurl), storage=spec.external.storage,
                        bucket=_secret(spec.external.bucket))
        elif spec.aws is not None:
            store = spec.aws
            tags = {"gpu-platform.io/juicefs": fs}
            bucket, _ = create_bucket(prefix, store.bucket_name, tags, self, store.region)
            self.buckets[fs] = bucket
            subnets = subnet_ids if subnet_ids is not None else store.subnet_ids
            groups = security_group_ids if security_group_ids is not None else store.security_group_ids
            engine = store.metadata
            if isinstance(engine, RedisEngine):
                metaurl, _ = create_redis(prefix, engine, subnets, groups, tags, self, store.region)
            else:
                metaurl, _ = create_postgres(prefix, engine, subnets, groups, tags, self, store.region)
            data.update(metaurl=metaurl, storage="s3",
                        bucket=pulumi.Output.concat("https://", bucket.bucket_regional_domain_name))
        if spec.access_key is not None and spec.secret_key is not None:
            data["access-key"] = _secret(spec.access_key)
            data["secret-key"] = _secret(spec.secret_key)
        return {key: pulumi.Output.secret(value) for key, value in data.items()}


def _name(metadata: Any) -> str:
    """``metadata.name`` of a resource's metadata output (a dict or an ObjectMeta)."""
    return str(metadata["name"] if isinstance(metadata, Mapping) else metadata.name)


__all__ = [
    "SIZE_PATTERN",
    "AwsStore",
    "ExternalStore",
    "FileSystem",
    "JuiceFs",
    "JuiceFsArgs",
    "JuiceFsConfig",
    "MountCache",
    "Size",
    "Volume",
    "bucket_statements",
    "csi_values",
    "identity_issues",
    "juicefs_issues",
    "mount_options",
    "network_issues",
    "pvc",
    "secret_name",
    "storage_class",
    "storage_class_name",
    "uses_workload_identity",
]

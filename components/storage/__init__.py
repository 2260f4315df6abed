"""The data layer: JuiceFS shared file systems, Fluid dataset caching and volume resolution.

``StorageConfig`` is the ``gpu-platform:storage`` config key; ``build_storage`` creates the
area's components. Credentials are ``SecretStr`` fields (set with ``pulumi config set --secret
--path``) and become ``pulumi.Output.secret`` values the moment they leave the model.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pydantic import Field

from gpu_platform.config import ConfigError, ConfigIssue, ConfigModel
from gpu_platform.config.errors import issue
from gpu_platform.core.pools import GpuPool
from gpu_platform.storage.fluid import (
    Fluid,
    FluidConfig,
    FluidDataset,
    namespace_issues,
    pool_issues,
    source_parts,
)
from gpu_platform.storage.juicefs import FileSystem, JuiceFs, JuiceFsConfig, Volume, identity_issues
from gpu_platform.storage.mounts import known_storage, volume_for


class StorageConfig(ConfigModel):
    juicefs: JuiceFsConfig = Field(default_factory=JuiceFsConfig)
    fluid: FluidConfig = Field(default_factory=lambda: FluidConfig(enabled=False))

    def issues(self) -> Iterator[ConfigIssue]:
        file_systems = self.juicefs.file_systems if self.juicefs.enabled else {}
        volumes = self.juicefs.volumes if self.juicefs.enabled else {}
        for name, ds in self.fluid.datasets.items():
            if name in volumes:
                # both would be a PVC called `name`; volume_for must resolve one thing
                yield issue(f"fluid.datasets.{name}", "name already used by juicefs.volumes."
                            f"{name}; datasets and volumes share one name space")
            scheme, target, _ = (source_parts(ds.source) if _valid(ds) else ("", "", ""))
            if scheme == "juicefs" and target not in file_systems:
                known = ", ".join(file_systems) or "none"
                yield issue(f"fluid.datasets.{name}.source",
                            f"unknown JuiceFS file system '{target}'; known file systems: {known}",
                            ds.source)


def _valid(ds: FluidDataset) -> bool:
    try:
        source_parts(ds.source)
    except ValueError:
        return False
    return True


def storage_issues(
    config: StorageConfig,
    pools: Mapping[str, GpuPool],
    namespace_levels: Mapping[str, str] | None = None,
) -> list[ConfigIssue]:
    """Cross-area checks; paths relative to the storage key.

    GPU pools named by datasets must exist. ``namespace_levels`` (namespace -> Pod Security level)
    lists the namespaces other areas create: when given, every volume's namespace must be one of
    them (or a Fluid dataset namespace), and no dataset may sit in one below privileged.
    """
    found: list[ConfigIssue] = []
    fluid_namespaces = config.fluid.dataset_namespaces if config.fluid.enabled else []
    if namespace_levels is not None and config.juicefs.enabled:
        known = sorted({*namespace_levels, *fluid_namespaces})
        for name, volume in config.juicefs.volumes.items():
            if volume.namespace not in known:
                found.append(issue(f"juicefs.volumes.{name}.namespace",
                                   f"no component creates this namespace; known namespaces: "
                                   f"{', '.join(known) or 'none'}", volume.namespace))
    if config.fluid.enabled:
        found += pool_issues(config.fluid, pools) + namespace_issues(config.fluid, namespace_levels or {})
    return found


def network_issues(config: StorageConfig, *, have_subnets: bool, have_groups: bool) -> list[ConfigIssue]:
    """AWS metadata engines need subnets and security groups, from config or from the VPC."""
    found = []
    for fs, spec in config.juicefs.file_systems.items():
        if not config.juicefs.enabled or spec.aws is None:
            continue
        path = f"juicefs.fileSystems.{fs}.aws"
        if not (have_subnets or spec.aws.subnet_ids):
            found.append(issue(f"{path}.subnetIds", "is required: the metadata engine's private subnets "
                               "(or pass the VPC's subnets to build_storage)"))
        if not (have_groups or spec.aws.security_group_ids):
            found.append(issue(f"{path}.securityGroupIds", "is required: security groups that let the "
                               "cluster's nodes reach the metadata engine"))
    return found


@dataclass(frozen=True)
class Storage:
    juicefs: JuiceFs | None
    fluid: Fluid | None


def build_storage(
    name: str,
    config: StorageConfig,
    pools: Mapping[str, GpuPool],
    opts: pulumi.ResourceOptions,
    *,
    subnet_ids: pulumi.Input[Sequence[str]] | None = None,
    security_group_ids: pulumi.Input[Sequence[str]] | None = None,
    oidc_provider_arn: pulumi.Input[str] | None = None,
    oidc_provider_url: pulumi.Input[str] | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
) -> Storage:
    """The storage area: JuiceFS (driver, stores, classes, PVCs), then Fluid over it.

    ``depends_on``: what must exist before PVCs and datasets (their namespaces).
    ``oidc_provider_*``: the EKS cluster's, for the mount pods' workload identity on AWS.
    """
    found = storage_issues(config, pools) + network_issues(
        config, have_subnets=subnet_ids is not None, have_groups=security_group_ids is not None)
    if config.juicefs.enabled:
        found += identity_issues(config.juicefs, have_oidc=oidc_provider_arn is not None)
    problems = [i.prefixed("storage") for i in found]
    if problems:
        raise ConfigError(problems)
    juicefs = None
    if config.juicefs.enabled:
        juicefs = JuiceFs(f"{name}-juicefs", config.juicefs, pools, opts, subnet_ids=subnet_ids,
                          security_group_ids=security_group_ids, oidc_provider_arn=oidc_provider_arn,
                          oidc_provider_url=oidc_provider_url, depends_on=depends_on)
    fluid = None
    if config.fluid.enabled:
        fluid = Fluid(f"{name}-fluid", config.fluid, pools, opts,
                      juicefs_secrets=juicefs.secret_data if juicefs else None,
                      depends_on=[*depends_on, *([juicefs] if juicefs else [])])
    return Storage(juicefs, fluid)


__all__ = [
    "FileSystem",
    "Fluid",
    "FluidConfig",
    "FluidDataset",
    "JuiceFs",
    "JuiceFsConfig",
    "Storage",
    "StorageConfig",
    "Volume",
    "build_storage",
    "known_storage",
    "network_issues",
    "storage_issues",
    "volume_for",
]

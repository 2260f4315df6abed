"""The data layer: JuiceFS shared file systems, Fluid dataset caching and volume resolution.

``StorageConfig`` is the ``gpu-platform:storage`` config key; ``build_storage`` creates the
area's components. Credentials are ``SecretStr`` fields (set with ``pulumi config set --secret
--path``) and become ``pulumi.Output.secret`` values the moment they leave the model.

Components (each ``X(name, XArgs | mapping, opts=None)``, refusing bad args with one
``ConfigError`` before registering anything, ordered by ``opts.depends_on``): ``JuiceFs`` and
``Fluid``. ``build_storage`` checks both before building either.
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
    FluidArgs,
    FluidConfig,
    FluidDataset,
    file_system_issues,
    namespace_issues,
    pool_issues,
)
from gpu_platform.storage.juicefs import (
    FileSystem,
    JuiceFs,
    JuiceFsArgs,
    JuiceFsConfig,
    Volume,
    juicefs_issues,
)
from gpu_platform.storage.juicefs import network_issues as juicefs_network_issues
from gpu_platform.storage.mounts import known_storage, volume_for


class StorageConfig(ConfigModel):
    juicefs: JuiceFsConfig = Field(default_factory=JuiceFsConfig)
    fluid: FluidConfig = Field(default_factory=lambda: FluidConfig(enabled=False))

    def issues(self) -> Iterator[ConfigIssue]:
        file_systems = self.juicefs.file_systems if self.juicefs.enabled else {}
        volumes = self.juicefs.volumes if self.juicefs.enabled else {}
        for name in self.fluid.datasets:
            if name in volumes:
                # both would be a PVC called `name`; volume_for must resolve one thing
                yield issue(f"fluid.datasets.{name}", "name already used by juicefs.volumes."
                            f"{name}; datasets and volumes share one name space")
        # the check Fluid itself runs against the file systems it is given
        yield from file_system_issues(self.fluid, list(file_systems))


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
    if not config.juicefs.enabled:
        return []
    return juicefs_network_issues(config.juicefs, have_subnets=have_subnets, have_groups=have_groups)


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

    ``depends_on``: what must exist before PVCs and datasets (their namespaces); passed to both
    components through ``opts.depends_on``. ``oidc_provider_*``: the EKS cluster's, for the mount
    pods' workload identity on AWS. Every problem of both components is raised at once, before
    either registers anything (the checks are the components' own).
    """
    found = storage_issues(config, pools)
    if config.juicefs.enabled:
        found += juicefs_issues(config.juicefs, have_subnets=subnet_ids is not None,
                                have_groups=security_group_ids is not None,
                                have_oidc=oidc_provider_arn is not None)
    problems = [i.prefixed("storage") for i in found]
    if problems:
        raise ConfigError(problems)
    after = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(depends_on)))
    juicefs = None
    if config.juicefs.enabled:
        juicefs = JuiceFs(f"{name}-juicefs", JuiceFsArgs(
            juicefs=config.juicefs, pools=dict(pools), subnet_ids=subnet_ids,
            security_group_ids=security_group_ids,
            oidc_provider_arn=oidc_provider_arn, oidc_provider_url=oidc_provider_url,
        ), after)
    fluid = None
    if config.fluid.enabled:
        # datasets on juicefs:// read its StorageClasses' file systems: Fluid waits for JuiceFS
        fluid_after = pulumi.ResourceOptions(depends_on=[juicefs] if juicefs else [])
        fluid = Fluid(f"{name}-fluid", FluidArgs(
            fluid=config.fluid, pools=dict(pools),
            juicefs_secrets=juicefs.secret_data if juicefs else {},
        ), pulumi.ResourceOptions.merge(after, fluid_after))
    return Storage(juicefs, fluid)


__all__ = [
    "FileSystem",
    "Fluid",
    "FluidArgs",
    "FluidConfig",
    "FluidDataset",
    "JuiceFs",
    "JuiceFsArgs",
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

"""The environment model: one stack's whole configuration, composed of each component's model.

Config keys live in the project's namespace (``gpu-platform:<key>`` in ``Pulumi.<stack>.yaml``);
each top-level key is one field below. Unknown keys anywhere are errors. Components that an
environment does not use are absent or switched off with ``enabled: false``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pulumi
from pydantic import Field

from components.config import ConfigError, ConfigIssue, ConfigModel, validate_model
from components.config.loader import read_namespace
from components.core.cluster import ClusterConfig
from components.core.names import DnsLabel
from components.core.pools import GpuPool
from components.gpu.alerts import GpuAlertsConfig
from components.gpu.operator import GpuOperatorConfig
from components.training import TrainingConfig, training_pool_issues


class EnvironmentConfig(ConfigModel):
    cluster: ClusterConfig
    gpu_pools: dict[DnsLabel, GpuPool] = Field(default_factory=dict)
    gpu_operator: GpuOperatorConfig = Field(default_factory=GpuOperatorConfig)
    gpu_alerts: GpuAlertsConfig = Field(default_factory=GpuAlertsConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)

    def issues(self) -> Iterator[ConfigIssue]:
        """Checks across components: references to pools, capacities."""
        yield from training_pool_issues(self.training, self.gpu_pools)


def load_environment(namespace: str | None = None) -> EnvironmentConfig:
    """Read and validate the current stack's config; raise one ``ConfigError`` listing every error."""
    namespace = namespace or pulumi.get_project()
    data, _secret_keys = read_namespace(namespace)
    return validate_model(
        EnvironmentConfig,
        data,
        source=f"configuration of stack '{pulumi.get_stack()}' ({namespace}:*)",
    )


__all__ = ["ConfigError", "EnvironmentConfig", "load_environment"]

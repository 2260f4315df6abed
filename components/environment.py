"""The environment model: one stack's whole configuration, composed of each component's model.

Config keys live in the project's namespace (``gpu-platform:<key>`` in ``Pulumi.<stack>.yaml``);
each top-level key is one field below. Unknown keys anywhere are errors. Components that an
environment does not use are absent or switched off with ``enabled: false``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pulumi
from pydantic import Field

from gpu_platform.aws import AwsConfig, check_aws_pools
from gpu_platform.catalog.instances import INSTANCE_TYPES
from gpu_platform.config import ConfigError, ConfigIssue, ConfigModel, validate_model
from gpu_platform.config.errors import issue
from gpu_platform.config.loader import read_namespace
from gpu_platform.core.cluster import ClusterConfig
from gpu_platform.core.names import DnsLabel
from gpu_platform.core.pools import GpuPool
from gpu_platform.gpu.alerts import GpuAlertsConfig
from gpu_platform.gpu.monitoring import MonitoringConfig
from gpu_platform.gpu.operator import GpuOperatorConfig, mig_strategy_issues
from gpu_platform.network import NetworkConfig
from gpu_platform.serving import (
    ServingConfig,
    check_serving_autoscaling,
    check_serving_mounts,
    check_serving_pools,
)
from gpu_platform.storage import StorageConfig, storage_issues
from gpu_platform.storage.juicefs import identity_issues
from gpu_platform.training import (
    TrainingConfig,
    WorkloadContext,
    mlflow_placement_issues,
    training_pool_issues,
    training_workload_issues,
)
from gpu_platform.training.kubeflow import kubeflow_prerequisite_issues


class EnvironmentConfig(ConfigModel):
    cluster: ClusterConfig
    aws: AwsConfig | None = None
    gpu_pools: dict[DnsLabel, GpuPool] = Field(default_factory=dict)
    gpu_operator: GpuOperatorConfig = Field(default_factory=GpuOperatorConfig)
    gpu_alerts: GpuAlertsConfig = Field(default_factory=GpuAlertsConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    serving: ServingConfig = Field(default_factory=ServingConfig)
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    storage: StorageConfig | None = None

    def issues(self) -> Iterator[ConfigIssue]:
        """Checks across components: references to pools, capacities, driver ownership."""
        yield from self._aws_issues()
        yield from training_pool_issues(self.training, self.gpu_pools)
        if self.training.enabled:
            yield from kubeflow_prerequisite_issues(
                self.training.kubeflow, cert_manager=self.installs_cert_manager, istio=False
            )
            if self.training.mlflow.enabled:  # RDS and IRSA need the EKS cluster built here
                eks = {} if self.aws is None else {"eks": True}
                yield from mlflow_placement_issues(self.training.mlflow, eks)
        yield from check_serving_pools(self.serving, self.gpu_pools)
        yield from check_serving_autoscaling(self.serving, self.monitoring.install_prometheus_stack)
        # workloads name networks, EFA pools and storage volumes: every name must resolve
        yield from training_workload_issues(self.training, self.workload_context())
        yield from check_serving_mounts(self.serving, self.storage)
        yield from self._storage_issues()
        if self.gpu_operator.enabled:
            yield from mig_strategy_issues(self.gpu_pools, "gpuPools")
        if (
            self.network.enabled
            and self.network.operator.enabled
            and not self.network.operator.node_feature_discovery
            and not (self.gpu_operator.enabled and self.gpu_operator.node_feature_discovery)
        ):
            yield issue(
                "network.operator.nodeFeatureDiscovery",
                "the Network Operator needs Node Feature Discovery's NIC labels: turn this on, "
                "or keep gpuOperator.nodeFeatureDiscovery on",
                False,
            )

    def workload_context(self) -> WorkloadContext:
        """What workloads resolve names against; EFA pools take one device per EFA interface the
        node pool attaches (the instance type's maximum)."""
        efa: dict[str, int] = {}
        for name, node_pool in (self.aws.node_pools.items() if self.aws else ()):
            instance = INSTANCE_TYPES.get(node_pool.instance_type)
            if node_pool.efa.enabled and instance is not None and instance.max_efa_interfaces:
                efa[name] = instance.max_efa_interfaces
        return WorkloadContext(self.network, efa, self.storage)

    def rdma_pools(self) -> list[str]:
        """GPU pools whose workloads register RDMA memory (EFA pools; every pool when an RDMA
        network exists, since the Network Operator's devices reach all of them). Their nodes need
        an unlimited memlock for containers: set by the EKS launch template on EFA pools
        (``gpu_platform.aws.launch.memlock_script``), a node requirement on existing clusters."""
        if self.network.enabled and self.network.networks:
            return list(self.gpu_pools)
        return [name for name in self.gpu_pools if name in self.workload_context().efa_interfaces]

    @property
    def installs_cert_manager(self) -> bool:
        """Whether this environment installs cert-manager (serving does, for KServe)."""
        return self.serving.enabled and self.serving.cert_manager.enabled

    def _storage_issues(self) -> Iterator[ConfigIssue]:
        if self.storage is None:
            return
        # namespaces other components create, with their Pod Security level
        levels = {team: spec.pod_security for team, spec in self.training.teams.items()}
        if self.serving.enabled:
            levels[self.serving.namespace] = "baseline"
        found = storage_issues(self.storage, self.gpu_pools, levels)
        if self.storage.juicefs.enabled:
            found += identity_issues(self.storage.juicefs, have_oidc=self.cluster.kind == "eks")
        for problem in found:
            yield problem.prefixed("storage")

    def _aws_issues(self) -> Iterator[ConfigIssue]:
        if self.cluster.kind == "eks" and self.aws is None:
            yield issue("aws", "is required when cluster.kind is 'eks' (the cluster and node groups)")
        if self.cluster.kind == "existing" and self.aws is not None:
            yield issue("aws", "creates an EKS cluster; set cluster.kind to 'eks' or remove 'aws'")
        if self.aws is None:
            return
        # the same checks build_aws and GpuNodePool run (gpu_platform.aws.config)
        yield from check_aws_pools(self.gpu_pools, self.aws)


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

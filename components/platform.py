"""The whole GPU platform of one environment, composed from the components its config switches on.

``stacks/__main__.py`` is only ``GpuPlatform("platform", load_environment())`` plus exports; teams
with their own programs compose the same components directly (see README).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi

from gpu_platform.config import component_args
from gpu_platform.core.cluster import kubernetes_provider
from gpu_platform.core.names import child_name
from gpu_platform.environment import EnvironmentConfig
from gpu_platform.gpu.alerts import GpuAlerts, GpuAlertsConfig
from gpu_platform.gpu.monitoring import PrometheusStack, PrometheusStackArgs
from gpu_platform.gpu.operator import GpuOperator, GpuOperatorArgs
from gpu_platform.monitoring.observability import Observability, observability_args
from gpu_platform.network import build_network
from gpu_platform.network.workload import gpudirect_rdma
from gpu_platform.serving import build_serving
from gpu_platform.storage import build_storage
from gpu_platform.training import build_training

if TYPE_CHECKING:
    from gpu_platform.aws import AwsAddons, AwsCompute

PLATFORM_TYPE = "gpu-platform:index:Platform"


# Alerts on workloads' own metrics, by the area that runs those workloads: without the area no
# exporter produces them and the readiness rule "alerts" would rightly call the alerts blind.
AREA_ALERTS = {
    "serving": ("inference_error_rate", "inference_latency_high", "inference_queue_backlog"),
    "training": ("training_stalled",),
}


def alerts_for(env: EnvironmentConfig) -> GpuAlertsConfig:
    """``gpuAlerts`` with the alerts of a switched-off area (serving, training) disabled."""
    config = env.gpu_alerts
    enabled = {"serving": env.serving.enabled, "training": env.training.enabled}
    off = [field for area, fields in AREA_ALERTS.items() if not enabled[area] for field in fields]
    return config.model_copy(update={
        field: getattr(config, field).model_copy(update={"enabled": False}) for field in off})


class GpuPlatform(pulumi.ComponentResource):
    """Every component of one environment, wired to one Kubernetes provider.

    ``env`` is the environment's config (an ``EnvironmentConfig``, or a mapping of its camelCase
    keys), validated with every cross-component check before anything is registered. Outputs a
    user wires onward are ``None`` where the environment has no such part.
    """

    cluster_name: pulumi.Output[str] | None  # EKS only
    kubeconfig: pulumi.Output[str] | None  # secret; EKS only
    oidc_provider_arn: pulumi.Output[str] | None  # EKS only: workload identity
    oidc_provider_url: pulumi.Output[str] | None
    gpu_operator_namespace: pulumi.Output[str] | None
    monitoring_namespace: pulumi.Output[str] | None  # when the platform installs Prometheus
    prometheus_url: pulumi.Output[str] | None
    gpu_alerts_rule_name: pulumi.Output[str | None]

    def __init__(
        self,
        name: str,
        args: EnvironmentConfig | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        """``args``: the environment (``EnvironmentConfig``, or a mapping of its camelCase keys)."""
        env = component_args(EnvironmentConfig, args, component="GpuPlatform", name=name)
        super().__init__(PLATFORM_TYPE, name, None, opts)
        self.env = env
        self.compute: AwsCompute | None = None
        if env.aws is not None:
            # only here: the AWS components load pulumi_aws, which an environment without AWS
            # never needs (gpu_platform.aws loads them lazily)
            from gpu_platform.aws import build_aws

            self.compute = build_aws(
                child_name(name, "aws"), env.aws, env.gpu_pools, pulumi.ResourceOptions(parent=self)
            )
        self.kubernetes = kubernetes_provider(
            child_name(name, "k8s"),
            env.cluster,
            pulumi.ResourceOptions(parent=self),
            kubeconfig=self.compute.kubeconfig if self.compute else None,
        )
        # Every component talks to the cluster through this provider, inherited from here.
        # Charts wait for their pods, so they must also wait for nodes: on EKS, the system pool.
        on_cluster = pulumi.ResourceOptions(
            parent=self,
            providers={"kubernetes": self.kubernetes},
            depends_on=[self.compute.cluster.system_pool] if self.compute else [],
        )
        self.aws_addons: AwsAddons | None = None
        if self.compute is not None and env.aws is not None:
            from gpu_platform.aws import build_aws_addons

            self.aws_addons = build_aws_addons(
                child_name(name, "aws"), env.aws, env.gpu_pools, self.compute, on_cluster
            )
        # The Prometheus operator's CRDs come first: the GPU Operator's ServiceMonitor and the
        # alert rules are its objects.
        self.prometheus: PrometheusStack | None = None
        monitoring_ready: list[pulumi.Resource] = []
        if env.monitoring.install_prometheus_stack:
            self.prometheus = PrometheusStack(
                child_name(name, "prometheus"),
                PrometheusStackArgs.of(env.monitoring, managed_control_plane=env.cluster.kind == "eks"),
                on_cluster,
            )
            monitoring_ready = [self.prometheus.release]
        after_monitoring = pulumi.ResourceOptions.merge(
            on_cluster, pulumi.ResourceOptions(depends_on=monitoring_ready))
        self.gpu_operator: GpuOperator | None = None
        if env.gpu_operator.enabled:
            self.gpu_operator = GpuOperator(
                child_name(name, "gpu-operator"),
                # GPUDirect RDMA when an RDMA network exists
                GpuOperatorArgs.of(env.gpu_operator, env.gpu_pools, gpudirect_rdma(env.network)),
                after_monitoring,
            )
        # the rules live in the operator's namespace, so they wait for it where it is created here
        operator_ns = self.gpu_operator.namespace_resource if self.gpu_operator else None
        self.gpu_alerts = GpuAlerts(
            child_name(name, "gpu-alerts"),
            alerts_for(env),
            pulumi.ResourceOptions.merge(
                after_monitoring, pulumi.ResourceOptions(depends_on=[operator_ns] if operator_ns else [])),
        )
        training_aws: dict[str, Any] = {}
        if self.compute is not None:  # MLflow's RDS in the private subnets, artifacts through IRSA
            training_aws = {
                "subnet_ids": list(self.compute.cluster.private_subnet_ids.values()),
                "security_group_ids": [self.compute.cluster.cluster_security_group_id],
                "oidc_provider_arn": self.compute.oidc_provider_arn,
                "oidc_provider_url": self.compute.oidc_provider_url,
            }
        self.training = build_training(
            child_name(name, "training"), env.training, env.gpu_pools, on_cluster,
            workload=env.workload_context(),  # networks, EFA and volumes RayClusters name
            cert_manager=env.installs_cert_manager,  # a Kubeflow prerequisite
            aws=training_aws,
        )
        # NetworkAttachmentDefinitions live in team namespaces when the training area makes them
        team_namespaces = list(self.training.teams.namespaces.values()) if self.training.teams else []
        self.network = build_network(
            child_name(name, "network"),
            env.network,
            env.gpu_pools,
            on_cluster,
            networks_depend_on=team_namespaces,
        )
        workload_identity: dict[str, Any] = {}
        if self.compute is not None:
            workload_identity = {
                "oidc_provider_arn": self.compute.oidc_provider_arn,
                "oidc_provider_url": self.compute.oidc_provider_url,
            }
        # the PriorityClasses the training area creates (InferenceServices use inference-critical)
        classes = list(env.training.priority_classes) if env.training.enabled else []
        self.serving = build_serving(
            child_name(name, "serving"), env.serving, env.gpu_pools, on_cluster, storage=env.storage,
            priority_classes=classes,
            # KEDA queries the Prometheus installed here (else serving.keda.prometheusUrl)
            prometheus_url=self.prometheus.prometheus_url if self.prometheus else None,
            **workload_identity,
        )
        # scrape paths of the workloads above (issue 14): after their namespaces and the CRDs
        self.observability = Observability(
            child_name(name, "observability"), observability_args(env),
            opts=pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[
                *monitoring_ready, *team_namespaces,
                *([self.serving.namespace] if self.serving is not None else []),
            ])),
        )
        self.storage = None
        if env.storage is not None:
            vpc: dict[str, Any] = {}
            if self.compute is not None:  # metadata engines in the EKS private subnets
                vpc = {
                    "subnet_ids": list(self.compute.cluster.private_subnet_ids.values()),
                    "security_group_ids": [self.compute.cluster.cluster_security_group_id],
                    # the mount pods reach their bucket through workload identity
                    "oidc_provider_arn": self.compute.oidc_provider_arn,
                    "oidc_provider_url": self.compute.oidc_provider_url,
                }
            serving_ns = [self.serving.namespace] if self.serving is not None else []
            self.storage = build_storage(
                child_name(name, "storage"),
                env.storage,
                env.gpu_pools,
                on_cluster,
                depends_on=[*team_namespaces, *serving_ns],
                **vpc,
            )
        self.cluster_name = self.compute.cluster.cluster_name if self.compute else None
        self.kubeconfig = self.compute.kubeconfig if self.compute else None
        self.oidc_provider_arn = self.compute.oidc_provider_arn if self.compute else None
        self.oidc_provider_url = self.compute.oidc_provider_url if self.compute else None
        self.gpu_operator_namespace = self.gpu_operator.namespace if self.gpu_operator else None
        self.monitoring_namespace = self.prometheus.namespace if self.prometheus else None
        self.prometheus_url = self.prometheus.prometheus_url if self.prometheus else None
        self.gpu_alerts_rule_name = self.gpu_alerts.rule_name
        self.register_outputs({
            "gpuPools": sorted(env.gpu_pools),
            "clusterName": self.cluster_name,
            "kubeconfig": self.kubeconfig,
            "oidcProviderArn": self.oidc_provider_arn,
            "oidcProviderUrl": self.oidc_provider_url,
            "gpuOperatorNamespace": self.gpu_operator_namespace,
            "monitoringNamespace": self.monitoring_namespace,
            "prometheusUrl": self.prometheus_url,
            "gpuAlertsRuleName": self.gpu_alerts_rule_name,
        })

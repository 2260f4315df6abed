"""``Observability``: the PodMonitors, NetworkPolicies and GPU cost rules of one platform.

Needs the Prometheus operator's CRDs (PodMonitor, PrometheusRule) and the namespaces the targets
run in; order it after them with ``opts.depends_on``. ``observability_args(env)`` derives the args
of an environment (``monitoring.targets``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigIssue, component_args
from gpu_platform.config.errors import issue
from gpu_platform.core.component import child_options
from gpu_platform.core.names import MANAGED_BY_LABELS, DnsLabel, child_name
from gpu_platform.environment import EnvironmentConfig
from gpu_platform.gpu.alert_settings import DURATION_PATTERN
from gpu_platform.gpu.alerts import GpuAlertsConfig
from gpu_platform.gpu.cost_rules import PoolPrice, cost_rule_group
from gpu_platform.k8s.objects import custom_resource
from gpu_platform.monitoring.scrape import ScrapeTarget, metrics_network_policies, pod_monitor
from gpu_platform.monitoring.targets import environment_pool_prices, scrape_targets

OBSERVABILITY_TYPE = "gpu-platform:monitoring:Observability"
COST_RULE_NAME = "gpu-platform-cost"


class ObservabilityArgs(ComponentArgs):
    monitoring_namespace: DnsLabel = "monitoring"  # where Prometheus runs and PodMonitors live
    interval: str = Field(default="30s", pattern=DURATION_PATTERN)
    targets: list[ScrapeTarget] = Field(default_factory=list)
    alerts: GpuAlertsConfig = Field(default_factory=GpuAlertsConfig)  # cost alerts, rule namespace
    pool_prices: dict[str, PoolPrice] = Field(default_factory=dict)

    def issues(self) -> Iterator[ConfigIssue]:
        seen: set[str] = set()
        for i, target in enumerate(self.targets):
            if target.name in seen:
                yield issue(f"targets.{i}.name", "is used by another target; names must be unique",
                            target.name)
            seen.add(target.name)
            if not target.namespaces:
                yield issue(f"targets.{i}.namespaces", "must name at least one namespace", [])
            if target.port is None and target.port_number is None:
                yield issue(f"targets.{i}.port", "name the metrics port, or give portNumber", None)


def observability_args(env: EnvironmentConfig) -> ObservabilityArgs:
    return ObservabilityArgs(
        monitoring_namespace=env.monitoring.namespace, targets=scrape_targets(env),
        alerts=env.gpu_alerts, pool_prices=environment_pool_prices(env),
    )


def cost_rule_manifest(args: ObservabilityArgs) -> dict[str, Any] | None:
    group = cost_rule_group(args.alerts, args.pool_prices) if args.alerts.enabled else None
    if group is None:
        return None
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": COST_RULE_NAME,
            "namespace": args.alerts.namespace,
            "labels": {**MANAGED_BY_LABELS, "app.kubernetes.io/component": "gpu-cost",
                       **args.alerts.rule_selector_labels},
        },
        "spec": {"groups": [group]},
    }


class Observability(pulumi.ComponentResource):
    """One PodMonitor per target, NetworkPolicies admitting Prometheus, and the GPU cost rules."""

    pod_monitors: list[k8s.apiextensions.CustomResource]
    network_policies: list[k8s.networking.v1.NetworkPolicy]

    def __init__(
        self, name: str, args: ObservabilityArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        args = component_args(ObservabilityArgs, args, component="Observability", name=name)
        super().__init__(OBSERVABILITY_TYPE, name, None, opts)
        child = child_options(self, opts)
        self.pod_monitors = [
            custom_resource(child_name(name, f"podmonitor-{t.name}"),
                            pod_monitor(t, args.monitoring_namespace, args.interval), child)
            for t in args.targets
        ]
        self.network_policies = []
        for policy in metrics_network_policies(args.targets, args.monitoring_namespace):
            meta = policy["metadata"]
            self.network_policies.append(k8s.networking.v1.NetworkPolicy(
                child_name(name, f"{meta['namespace']}-{meta['name']}"),
                metadata=meta, spec=policy["spec"], opts=child,
            ))
        manifest = cost_rule_manifest(args)
        self.cost_rule = (
            custom_resource(child_name(name, "cost-rules"), manifest, child) if manifest else None
        )
        self.register_outputs({
            "podMonitors": [t.name for t in args.targets],
            "networkPolicies": len(self.network_policies),
            "costRules": self.cost_rule is not None,
        })


__all__ = ["Observability", "ObservabilityArgs", "cost_rule_manifest", "observability_args"]

"""The Spark operator (kubeflow/spark-operator) from its pinned Helm chart (``training.sparkOperator``).

The chart (charts/spark-operator-chart, v2.5.2) runs a controller and an admission webhook that
makes its own serving certificate; it creates, in every job namespace (``spark.jobNamespaces``),
the service account and RBAC that SparkApplication driver pods run as (``spark.serviceAccount``).
The job namespaces are team namespaces (the training area creates those) or namespaces this
component creates (Pod Security ``baseline``: drivers and executors run users' images). The
controller and webhook run on system nodes unless ``pool`` places them on a pool
(``pool_scheduling``); under Volcano, SparkApplications are gang-scheduled through the
controller's batch scheduler. The CRDs come from the chart's ``crds/`` folder (Helm never deletes
them: ``gpu_platform.k8s.crds``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pulumi
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigIssue, ConfigModel, component_args
from gpu_platform.config.errors import issue
from gpu_platform.core.component import depends_on_of
from gpu_platform.core.names import DnsLabel, child_name
from gpu_platform.core.pools import PoolPlacement, pool_scheduling
from gpu_platform.k8s.addon import PodSecurityLevel, namespace, operator_install
from gpu_platform.k8s.values import deep_merge
from gpu_platform.versions import SPARK_OPERATOR

SPARK_OPERATOR_TYPE = "gpu-platform:training:SparkOperator"
RELEASE_NAME = "spark-operator"


class SparkOperatorSettings(ConfigModel):
    namespace: DnsLabel = "spark-operator"
    create_namespace: bool = True
    # the chart's pods run non-root, read-only, all capabilities dropped, RuntimeDefault seccomp
    pod_security: PodSecurityLevel = "restricted"
    job_namespaces: list[DnsLabel] = Field(default_factory=lambda: ["spark-jobs"], min_length=1)
    service_account: DnsLabel = "spark"  # what SparkApplications' drivers run as
    pool: DnsLabel | None = None  # place the controller and webhook on this pool (default: system nodes)
    values_overrides: dict[str, Any] = Field(default_factory=dict)

    def issues(self) -> Iterator[ConfigIssue]:
        for index, name in enumerate(self.job_namespaces):
            if name in self.job_namespaces[:index]:
                yield issue(f"jobNamespaces.{index}", "is listed twice", name)
            elif name == self.namespace:
                yield issue(f"jobNamespaces.{index}", "must not be the operator's namespace (jobs run "
                            "users' images under Pod Security baseline)", name)


class SparkOperatorConfig(SparkOperatorSettings):
    enabled: bool = False


class SparkOperatorArgs(SparkOperatorSettings, ComponentArgs):
    """The settings, the pool placements ``pool`` may name, the job namespaces that already exist
    (team namespaces: not created here) and whether Volcano gang-schedules the jobs."""

    pools: dict[DnsLabel, PoolPlacement] = Field(default_factory=dict)
    existing_namespaces: list[DnsLabel] = Field(default_factory=list)
    volcano: bool = False

    def issues(self) -> Iterator[ConfigIssue]:
        yield from super().issues()
        if self.pool is not None and self.pool not in self.pools:
            yield issue("pool", f"unknown GPU pool; known pools: {', '.join(sorted(self.pools)) or 'none'}",
                        self.pool)

    @classmethod
    def of(cls, config: SparkOperatorSettings, pools: Mapping[str, PoolPlacement], *,
           existing_namespaces: list[str] | None = None, volcano: bool = False) -> SparkOperatorArgs:
        fields = {name: getattr(config, name) for name in SparkOperatorSettings.model_fields}
        return cls.model_validate({**fields, "pools": dict(pools), "volcano": volcano,
                                   "existing_namespaces": list(existing_namespaces or [])})


def spark_operator_values(args: SparkOperatorArgs) -> dict[str, Any]:
    """Helm values for spark-operator (every key exists in its values.yaml)."""
    values: dict[str, Any] = {
        "spark": {"jobNamespaces": list(args.job_namespaces),
                  "serviceAccount": {"create": True, "name": args.service_account}},
        "controller": {"batchScheduler": {"enable": args.volcano,
                                          "default": "volcano" if args.volcano else ""}},
        "webhook": {"enable": True},
        "hook": {"upgradeCrd": False},  # the CRDs come from the chart's crds/ folder
    }
    if args.pool is not None:
        placed = pool_scheduling(args.pool, args.pools[args.pool])
        for part in ("controller", "webhook"):
            values[part].update({"nodeSelector": placed.node_selector, "tolerations": placed.tolerations})
    return deep_merge(values, args.values_overrides)


class SparkOperator(pulumi.ComponentResource):
    """The Spark operator and its job namespaces."""

    namespace: pulumi.Output[str]
    release_name: pulumi.Output[str]
    job_namespaces: pulumi.Output[list[str]]
    service_account: pulumi.Output[str]

    def __init__(self, name: str, args: SparkOperatorArgs | Mapping[str, Any],
                 opts: pulumi.ResourceOptions | None = None):
        args = component_args(SparkOperatorArgs, args, component="SparkOperator", name=name)
        super().__init__(SPARK_OPERATOR_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.job_namespace_resources = {
            ns: namespace(child_name(name, f"jobs-{ns}"), ns, "baseline", child)
            for ns in args.job_namespaces if ns not in args.existing_namespaces}
        install = operator_install(
            name, SPARK_OPERATOR, parent=self, release_name=RELEASE_NAME, namespace_name=args.namespace,
            pod_security=args.pod_security, values=spark_operator_values(args),
            depends_on=[*self.job_namespace_resources.values(), *depends_on_of(opts)],
            create_namespace=args.create_namespace)
        self.namespace_resource, self.release = install.namespace, install.release
        self.namespace, self.release_name = install.namespace_name, install.release_name
        self.job_namespaces = pulumi.Output.from_input(list(args.job_namespaces))
        self.service_account = pulumi.Output.from_input(args.service_account)
        self.register_outputs({"namespace": self.namespace, "releaseName": self.release_name,
                               "jobNamespaces": self.job_namespaces, "serviceAccount": self.service_account})


__all__ = ["SparkOperator", "SparkOperatorArgs", "SparkOperatorConfig", "spark_operator_values"]

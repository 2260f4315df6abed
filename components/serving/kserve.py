"""KServe and its prerequisite cert-manager, as three pinned Helm releases.

- cert-manager installs its CRDs through the chart (``crds.enabled``) with ``crds.keep`` so that
  uninstalling the release never deletes the CRDs and with them every Certificate.
- KServe's CRDs come from the ``kserve-crd`` chart as their own release (protected and retained),
  so the controller release (``kserve-resources``) can be upgraded or removed without the API
  server garbage-collecting every InferenceService.
- ``RawDeployment`` runs the controller in ``Standard`` mode (KServe v0.16+ name: plain
  Deployments + HPA, no Knative or Istio). ``Serverless`` runs it in ``Knative`` mode behind
  Kourier (``gpu_platform.serving.knative``, installed first and passed as ``depends_on``): Istio's
  top-level VirtualService is switched off (``disableIstioVirtualHost``), Knative Routes are the
  ingress, and the gateway domain is the one Knative's ``config-domain`` is patched with.

``KServe(name, KServeArgs, opts)``: ordering comes through ``opts.depends_on`` (the platform puts
Knative there in Serverless mode); ``createNamespace: false`` on ``certManager``/``kserve``
installs into a namespace someone else manages. Outputs: ``namespace_name``/``release_name`` of
the controller, ``crd_release_name``, and ``cert_manager_namespace_name``/
``cert_manager_release_name`` (None when cert-manager is left to the cluster), each resolving
once its release is installed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

import pulumi
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigIssue, ConfigModel, component_args
from gpu_platform.config.errors import PATTERN_HINTS, issue
from gpu_platform.core.component import child_options
from gpu_platform.core.names import DnsLabel, child_name
from gpu_platform.k8s.addon import helm_release, namespace
from gpu_platform.k8s.values import deep_merge
from gpu_platform.versions import CERT_MANAGER, KSERVE_CRD, KSERVE_RESOURCES

KSERVE_TYPE = "gpu-platform:serving:KServe"

DeploymentMode = Literal["RawDeployment", "Serverless"]
# What KServe v0.20 calls the modes (pkg/constants: RawDeployment and Serverless are deprecated
# aliases of Standard and Knative; the webhook only routes cpu/memory metrics to the HPA
# validator for the new name).
KSERVE_MODE_NAMES: dict[str, str] = {"RawDeployment": "Standard", "Serverless": "Knative"}
# the ingress domain: KServe's gateway domain and, in Serverless, every Knative route's
DOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
PATTERN_HINTS[DOMAIN_PATTERN] = (
    "must be a DNS domain: lowercase letters, digits, '-' and '.', starting and ending with a "
    "letter or digit"
)


class Resources(ConfigModel):
    """CPU and memory for a controller pod: requests == limits (Guaranteed QoS)."""

    cpu: str = Field(default="100m", min_length=1)
    memory: str = Field(default="300Mi", min_length=1)

    def render(self) -> dict[str, Any]:
        amounts = {"cpu": self.cpu, "memory": self.memory}
        return {"requests": dict(amounts), "limits": dict(amounts)}


class CertManagerConfig(ConfigModel):
    """cert-manager, which issues KServe's webhook certificate. Switch off if the cluster has one."""

    enabled: bool = True
    namespace: DnsLabel = "cert-manager"
    # false: install into an existing namespace (one a platform team manages)
    create_namespace: bool = True
    values_overrides: dict[str, Any] = Field(default_factory=dict)


class KServeConfig(ConfigModel):
    namespace: DnsLabel = "kserve"
    # false: install into an existing namespace (one a platform team manages)
    create_namespace: bool = True
    controller_resources: Resources = Field(default_factory=Resources)
    # Without an ingress controller, InferenceServices are reachable in-cluster only
    # (<name>-predictor.<namespace>.svc); set a class to have KServe create Ingresses.
    ingress_class_name: str | None = Field(default=None, min_length=1)
    ingress_domain: str = Field(default="example.com", min_length=1, pattern=DOMAIN_PATTERN)
    values_overrides: dict[str, Any] = Field(default_factory=dict)


def cert_manager_values(config: CertManagerConfig) -> dict[str, Any]:
    values = {"crds": {"enabled": True, "keep": True}}
    return deep_merge(values, config.values_overrides)


def kserve_controller_values(config: KServeConfig, mode: DeploymentMode) -> dict[str, Any]:
    gateway: dict[str, Any] = {
        "domain": config.ingress_domain,
        # No Istio in either mode: RawDeployment makes Ingresses only when a class is set;
        # Serverless is reached through Knative Routes on Kourier (KServe's Kourier guide).
        "disableIstioVirtualHost": True,
        "disableIngressCreation": config.ingress_class_name is None,
    }
    if config.ingress_class_name is not None:
        gateway["ingressGateway"] = {"className": config.ingress_class_name}
    values = {
        "kserve": {
            "controller": {
                "deploymentMode": KSERVE_MODE_NAMES[mode],
                "gateway": gateway,
                "resources": config.controller_resources.render(),
            }
        }
    }
    return deep_merge(values, config.values_overrides)


def mode_issues(mode: DeploymentMode, config: KServeConfig) -> Iterator[ConfigIssue]:
    """KServe settings the deployment mode rules out (paths under ``kserve``)."""
    if mode == "Serverless" and config.ingress_class_name is not None:
        yield issue("kserve.ingressClassName",
                    "Ingresses are for RawDeployment; Serverless is reached through Kourier "
                    "(Knative routes on kserve.ingressDomain): remove it",
                    config.ingress_class_name)


class KServeArgs(ComponentArgs):
    """What KServe needs: the deployment mode and the two installs' settings."""

    deployment_mode: DeploymentMode = "RawDeployment"
    cert_manager: CertManagerConfig = Field(default_factory=CertManagerConfig)
    kserve: KServeConfig = Field(default_factory=KServeConfig)

    def issues(self) -> Iterator[ConfigIssue]:
        yield from mode_issues(self.deployment_mode, self.kserve)


class KServe(pulumi.ComponentResource):
    """cert-manager, KServe CRDs and the KServe controller, in that order."""

    namespace_name: pulumi.Output[str]
    release_name: pulumi.Output[str]
    crd_release_name: pulumi.Output[str]
    cert_manager_namespace_name: pulumi.Output[str] | None
    cert_manager_release_name: pulumi.Output[str] | None

    def __init__(
        self,
        name: str,
        args: KServeArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        """``opts.depends_on``: what every child waits for (Knative Serving in Serverless mode)."""
        args = component_args(KServeArgs, args, component="KServe", name=name)
        super().__init__(KSERVE_TYPE, name, None, opts)
        child = child_options(self, opts)
        guarded = pulumi.ResourceOptions.merge(
            child, pulumi.ResourceOptions(protect=True, retain_on_delete=True))
        prerequisites: list[pulumi.Resource] = []
        self.cert_manager = None
        self.cert_manager_namespace = None
        self.cert_manager_namespace_name = None
        self.cert_manager_release_name = None
        if args.cert_manager.enabled:
            cm = args.cert_manager
            if cm.create_namespace:
                self.cert_manager_namespace = namespace(
                    child_name(name, "cert-manager-ns"), cm.namespace, "restricted", child)
            self.cert_manager = helm_release(
                child_name(name, "cert-manager"), CERT_MANAGER, release_name="cert-manager",
                namespace=cm.namespace, values=cert_manager_values(cm), opts=child,
                depends_on=_present(self.cert_manager_namespace),
            )
            prerequisites.append(self.cert_manager)
            self.cert_manager_namespace_name = self.cert_manager.namespace  # type: ignore[assignment]
            self.cert_manager_release_name = self.cert_manager.name  # type: ignore[assignment]
        ks = args.kserve
        self.namespace = (namespace(child_name(name, "kserve-ns"), ks.namespace, "restricted", child)
                          if ks.create_namespace else None)
        self.crds = helm_release(
            child_name(name, "kserve-crd"), KSERVE_CRD, release_name="kserve-crd",
            namespace=ks.namespace, values={}, opts=guarded, depends_on=_present(self.namespace),
        )
        self.controller = helm_release(
            child_name(name, "kserve"), KSERVE_RESOURCES, release_name="kserve",
            namespace=ks.namespace, values=kserve_controller_values(ks, args.deployment_mode),
            opts=child, depends_on=[self.crds, *prerequisites], skip_crds=True,
        )
        self.namespace_name = self.controller.namespace  # type: ignore[assignment]
        self.release_name = self.controller.name  # type: ignore[assignment]
        self.crd_release_name = self.crds.name  # type: ignore[assignment]
        self.register_outputs({
            "namespace": self.namespace_name,
            "releaseName": self.release_name,
            "crdReleaseName": self.crd_release_name,
            "certManagerNamespace": self.cert_manager_namespace_name,
            "certManagerReleaseName": self.cert_manager_release_name,
            "deploymentMode": args.deployment_mode,
        })


def _present(resource: pulumi.Resource | None) -> list[pulumi.Resource]:
    return [resource] if resource is not None else []

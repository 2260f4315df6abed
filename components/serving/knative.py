"""Knative Serving with the Kourier networking layer, for KServe's ``Serverless`` mode.

Installed the upstream way, from the pinned release YAML files, each its own
``kubernetes:yaml/v2:ConfigFile`` (one per file, in order):

1. ``serving-crds.yaml``: the ``serving.knative.dev`` CRDs (Service, Configuration, Revision, Route...).
2. ``serving-core.yaml``: controller, activator, autoscaler, webhook and their ConfigMaps.
3. ``kourier.yaml``: the Kourier Envoy gateway and its controller (KServe's documented Istio-free
   networking layer).

Namespaces: ``knative-serving`` and ``kourier-system`` are Namespace objects inside
``serving-core.yaml`` and ``kourier.yaml``; the manifests create them, so this component does not
(a second Namespace resource would fight over the same object). They carry no Pod Security label:
upstream's objects are applied as shipped.

Configuration (``ConfigMapPatch``, server-side apply of only the keys set here, so the
ConfigFile's copy of the same ConfigMap keeps owning the rest):

- ``config-network``: ``ingress-class: kourier.ingress.networking.knative.dev``, or Knative keeps
  waiting for Istio (its default class) and no Route becomes ready.
- ``config-domain``: ``<kserve.ingressDomain>: ""``, the domain of every Knative route, the same one
  KServe's controller is told (``kserve.controller.gateway.domain``).
- ``config-features``: the Knative podspec fields every InferenceService of this library sets
  (pool ``nodeSelector``/``tolerations``, ``pvc://`` and mounted PVC volumes, the pod
  ``securityContext``) are behind feature flags that are disabled by default; the Knative webhook
  would reject the revision otherwise.

CRD survival: deleting the CRDs deletes every Knative Service, Revision and Route (and with them
every Serverless InferenceService's pods). The CRD ConfigFile is ``protect=True`` and
``retain_on_delete=True``. A ConfigFile is a remote component: its children are registered by the
provider. ``protect`` on a component is passed in the Construct call and children without their
own ``protect`` inherit it, so every CRD is protected: switching back to RawDeployment fails the
update until someone runs ``pulumi state unprotect`` on purpose. ``retain_on_delete`` is not
propagated to a remote component's children (pulumi-kubernetes#3065, won't fix); it is set for
the component itself and as documentation of intent, and ``protect`` is what this relies on.

``Knative(name, KnativeArgs(domain=...), opts)``: every child waits for ``opts.depends_on``. No
``createNamespace`` option: the release manifests own their namespaces. Outputs
(``namespace_name``, ``kourier_namespace_name``, ``domain``, ``ingress_class``) resolve once
Kourier and the ConfigMap patches are applied, so whatever uses them waits for Knative.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from gpu_platform.config import ComponentArgs, component_args
from gpu_platform.core.component import child_options
from gpu_platform.core.names import child_name
from gpu_platform.serving.kserve import DOMAIN_PATTERN
from gpu_platform.versions import KNATIVE_KOURIER_VERSION, KNATIVE_SERVING_VERSION

KNATIVE_TYPE = "gpu-platform:serving:Knative"
# Set by the release manifests (their own Namespace objects); not configurable.
KNATIVE_SERVING_NAMESPACE = "knative-serving"
KOURIER_NAMESPACE = "kourier-system"
KOURIER_INGRESS_CLASS = "kourier.ingress.networking.knative.dev"

_SERVING_RELEASE = "https://github.com/knative/serving/releases/download/knative-v{version}/{file}"
_KOURIER_RELEASE = "https://github.com/knative/net-kourier/releases/download/knative-v{version}/{file}"

# Knative feature flags (config-features) for the podspec fields InferenceServices render.
KNATIVE_FEATURES: dict[str, str] = {
    "kubernetes.podspec-nodeselector": "enabled",
    "kubernetes.podspec-tolerations": "enabled",
    "kubernetes.podspec-persistent-volume-claim": "enabled",
    "kubernetes.podspec-securitycontext": "enabled",
}


def knative_manifests() -> dict[str, str]:
    """Release YAML URLs by role, in install order (pure)."""
    return {
        "crds": _SERVING_RELEASE.format(version=KNATIVE_SERVING_VERSION, file="serving-crds.yaml"),
        "core": _SERVING_RELEASE.format(version=KNATIVE_SERVING_VERSION, file="serving-core.yaml"),
        "kourier": _KOURIER_RELEASE.format(version=KNATIVE_KOURIER_VERSION, file="kourier.yaml"),
    }


def knative_config_patches(domain: str) -> dict[str, dict[str, Any]]:
    """The ConfigMap patches by role, as manifests (pure)."""

    def patch(name: str, data: dict[str, str]) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": KNATIVE_SERVING_NAMESPACE},
            "data": data,
        }

    return {
        "network": patch("config-network", {"ingress-class": KOURIER_INGRESS_CLASS}),
        # a key with an empty value: the default domain of every route
        "domain": patch("config-domain", {domain: ""}),
        "features": patch("config-features", dict(KNATIVE_FEATURES)),
    }


class KnativeArgs(ComponentArgs):
    # the default domain of every Knative route: KServe's kserve.ingressDomain
    domain: str = Field(default="example.com", min_length=1, pattern=DOMAIN_PATTERN)


class Knative(pulumi.ComponentResource):
    """Knative Serving CRDs, core and Kourier, then the ConfigMap patches that wire them."""

    namespace_name: pulumi.Output[str]
    kourier_namespace_name: pulumi.Output[str]
    domain: pulumi.Output[str]
    ingress_class: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: KnativeArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        args = component_args(KnativeArgs, args, component="Knative", name=name)
        super().__init__(KNATIVE_TYPE, name, None, opts)
        urls = knative_manifests()
        self.crds = k8s.yaml.v2.ConfigFile(
            child_name(name, "crds"), file=urls["crds"],
            opts=pulumi.ResourceOptions.merge(
                child_options(self, opts), pulumi.ResourceOptions(protect=True, retain_on_delete=True)),
        )
        self.core = k8s.yaml.v2.ConfigFile(
            child_name(name, "core"), file=urls["core"],
            opts=child_options(self, opts, depends_on=[self.crds]),
        )
        # kourier.yaml also holds config-kourier in knative-serving, created by serving-core
        self.kourier = k8s.yaml.v2.ConfigFile(
            child_name(name, "kourier"), file=urls["kourier"],
            opts=child_options(self, opts, depends_on=[self.core]),
        )
        self.patches: dict[str, k8s.core.v1.ConfigMapPatch] = {}
        for role, manifest in knative_config_patches(args.domain).items():
            self.patches[role] = k8s.core.v1.ConfigMapPatch(
                child_name(name, role), metadata=manifest["metadata"], data=manifest["data"],
                opts=child_options(self, opts, depends_on=[self.core, self.kourier]),
            )
        # constants, carried by an Output of the last step so that users wait for the install
        installed = pulumi.Output.all(*(r.urn for r in self.ready))
        self.namespace_name = installed.apply(lambda _: KNATIVE_SERVING_NAMESPACE)
        self.kourier_namespace_name = installed.apply(lambda _: KOURIER_NAMESPACE)
        self.domain = installed.apply(lambda _: args.domain)
        self.ingress_class = installed.apply(lambda _: KOURIER_INGRESS_CLASS)
        self.register_outputs({"namespace": self.namespace_name,
                               "kourierNamespace": self.kourier_namespace_name,
                               "domain": self.domain, "ingressClass": self.ingress_class})

    @property
    def ready(self) -> list[pulumi.Resource]:
        """What KServe's controller waits for: Knative installed and wired to Kourier."""
        return [self.kourier, *self.patches.values()]


__all__ = [
    "KNATIVE_FEATURES",
    "KNATIVE_SERVING_NAMESPACE",
    "KOURIER_INGRESS_CLASS",
    "KOURIER_NAMESPACE",
    "Knative",
    "KnativeArgs",
    "knative_config_patches",
    "knative_manifests",
]

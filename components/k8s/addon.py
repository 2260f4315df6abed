"""The one shape of every operator install: a namespace and a pinned Helm release.

``helm.v3.Release`` is used rather than ``helm.v4.Chart``: a Release is one custom resource
whose inputs (chart, pinned version, values) the engine and the offline plan both see, and Helm
owns upgrade ordering and CRD installation. ``helm.v4.Chart`` is a remote component whose
children a preview shows only with the provider plugin present.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform.core.names import MANAGED_BY_LABELS, child_name
from gpu_platform.k8s.crds import crd_handling
from gpu_platform.versions import ChartPin

PodSecurityLevel = Literal["privileged", "baseline", "restricted"]


def pod_security_labels(level: PodSecurityLevel) -> dict[str, str]:
    """Pod Security Admission labels: enforce ``level``, and warn/audit at ``restricted``."""
    return {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/warn": "restricted" if level != "privileged" else level,
        "pod-security.kubernetes.io/audit": "restricted" if level != "privileged" else level,
    }


def namespace(
    resource_name: str,
    name: str,
    pod_security: PodSecurityLevel,
    opts: pulumi.ResourceOptions,
    labels: Mapping[str, str] | None = None,
) -> k8s.core.v1.Namespace:
    """A namespace the library owns, always with a Pod Security ``enforce`` label.

    Retained on delete: deleting a namespace deletes everything in it, including volumes and
    workloads users created there, so dropping it from the config only stops managing it.
    """
    return k8s.core.v1.Namespace(
        resource_name,
        metadata={
            "name": name,
            "labels": {**MANAGED_BY_LABELS, **(labels or {}), **pod_security_labels(pod_security)},
        },
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(retain_on_delete=True)),
    )


def helm_release(
    resource_name: str,
    pin: ChartPin,
    *,
    release_name: str,
    namespace: str | pulumi.Output[str],
    values: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
    depends_on: Sequence[pulumi.Resource] = (),
    skip_crds: bool = False,
) -> k8s.helm.v3.Release:
    """A Helm release at the pinned chart version; it waits until its workloads are ready.

    Releases whose CRDs would go with them are guarded (see ``gpu_platform.k8s.crds``).
    """
    oci = pin.repository.startswith("oci://")
    guard = pulumi.ResourceOptions(depends_on=list(depends_on))
    if crd_handling(pin.chart) == "guarded-release":
        guard = pulumi.ResourceOptions(depends_on=list(depends_on), protect=True, retain_on_delete=True)
    return k8s.helm.v3.Release(
        resource_name,
        name=release_name,
        chart=f"{pin.repository.rstrip('/')}/{pin.chart}" if oci else pin.chart,
        version=pin.version,
        repository_opts=None if oci else k8s.helm.v3.RepositoryOptsArgs(repo=pin.repository),
        namespace=namespace,
        values=dict(values),
        skip_crds=skip_crds,
        atomic=False,
        cleanup_on_fail=False,
        opts=pulumi.ResourceOptions.merge(opts, guard),
    )


@dataclass(frozen=True)
class OperatorInstall:
    namespace: k8s.core.v1.Namespace | None  # None: installed into an existing namespace
    release: k8s.helm.v3.Release

    @property
    def namespace_name(self) -> pulumi.Output[str]:
        """The namespace the release runs in (from the release, so it resolves after it)."""
        return self.release.namespace  # type: ignore[return-value]

    @property
    def release_name(self) -> pulumi.Output[str]:
        return self.release.name  # type: ignore[return-value]


def operator_install(
    name: str,
    pin: ChartPin,
    *,
    parent: pulumi.Resource,
    release_name: str,
    namespace_name: str,
    pod_security: PodSecurityLevel,
    values: Mapping[str, Any],
    depends_on: Sequence[pulumi.Resource] = (),
    create_namespace: bool = True,
) -> OperatorInstall:
    """The addon shape: ``<name>-ns`` (Pod Security labelled) and ``<name>-chart`` installed
    into it at the pinned version, after the namespace and ``depends_on``.

    ``create_namespace=False`` installs into an existing namespace (one a platform team
    manages, with its own Pod Security labels): no ``<name>-ns`` is created or deleted."""
    child = pulumi.ResourceOptions(parent=parent)
    ns = namespace(child_name(name, "ns"), namespace_name, pod_security, child) if create_namespace else None
    release = helm_release(
        child_name(name, "chart"),
        pin,
        release_name=release_name,
        namespace=namespace_name,
        values=values,
        opts=child,
        depends_on=[*([ns] if ns is not None else []), *depends_on],
    )
    return OperatorInstall(ns, release)

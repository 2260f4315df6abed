"""EKS add-on and cluster-autoscaler versions that follow the cluster's Kubernetes minor.

Deploy path: ``EksCluster`` asks AWS for each managed add-on's version through the provider's
lookup, ``aws.eks.get_addon_version(addon_name=..., kubernetes_version=<cluster version>)``
(EKS DescribeAddonVersions: the version AWS marks default for that Kubernetes version), so a
``pulumi up`` installs a build that exists for the cluster's minor, and raising the cluster version
moves the add-ons with it. Offline, the plan engine answers that lookup (invoke token
``ADDON_VERSION_INVOKE``) with :func:`answer_addon_version_lookup`, from the per-minor table in
``gpu_platform.versions.EKS_ADDON_VERSIONS``; a minor missing from the table fails the plan loudly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gpu_platform.versions import CLUSTER_AUTOSCALER_IMAGES, EKS_ADDON_VERSIONS, ImagePin

ADDON_VERSION_INVOKE = "aws:eks/getAddonVersion:getAddonVersion"
EBS_CSI_ADDON = "aws-ebs-csi-driver"
EKS_ADDONS: tuple[str, ...] = ("vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", EBS_CSI_ADDON)


def addon_version(kubernetes_version: str, addon: str) -> str:
    """The table's version of ``addon`` for a cluster on ``kubernetes_version``."""
    try:
        minor = EKS_ADDON_VERSIONS[kubernetes_version]
    except KeyError:
        raise LookupError(
            f"no EKS add-on versions for Kubernetes {kubernetes_version} in "
            f"gpu_platform.versions.EKS_ADDON_VERSIONS (minors: {', '.join(EKS_ADDON_VERSIONS)})"
        ) from None
    try:
        return minor[addon]
    except KeyError:
        raise LookupError(f"no version of EKS add-on {addon!r} for Kubernetes {kubernetes_version}") from None


def answer_addon_version_lookup(args: Mapping[str, Any]) -> dict[str, Any]:
    """The offline plan's answer to ``aws.eks.get_addon_version`` (same output shape)."""
    kubernetes_version = str(args.get("kubernetesVersion"))
    addon = str(args.get("addonName"))
    version = addon_version(kubernetes_version, addon)
    return {
        "addonName": addon,
        "kubernetesVersion": kubernetes_version,
        "mostRecent": bool(args.get("mostRecent", False)),
        "version": version,
        "id": addon,
    }


def cluster_autoscaler_image(kubernetes_version: str) -> ImagePin:
    """The cluster-autoscaler image whose minor equals the cluster's (upstream's requirement)."""
    try:
        return CLUSTER_AUTOSCALER_IMAGES[kubernetes_version]
    except KeyError:
        raise LookupError(
            f"no cluster-autoscaler image for Kubernetes {kubernetes_version} in "
            "gpu_platform.versions.CLUSTER_AUTOSCALER_IMAGES"
        ) from None


__all__ = [
    "ADDON_VERSION_INVOKE",
    "EBS_CSI_ADDON",
    "EKS_ADDONS",
    "addon_version",
    "answer_addon_version_lookup",
    "cluster_autoscaler_image",
]

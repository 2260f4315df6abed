"""Kubernetes building blocks every component uses: namespaces, Helm addons, values merging."""

from gpu_platform.k8s.addon import OperatorInstall, helm_release, namespace, operator_install
from gpu_platform.k8s.objects import custom_resource
from gpu_platform.k8s.values import deep_merge

__all__ = [
    "OperatorInstall",
    "custom_resource",
    "deep_merge",
    "helm_release",
    "namespace",
    "operator_install",
]

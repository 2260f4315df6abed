"""Which Kubernetes cluster an environment targets, and the provider that talks to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from gpu_platform.config import ConfigIssue, ConfigModel
from gpu_platform.config.errors import issue


class ExistingStorageClass(ConfigModel):
    """A StorageClass the cluster already has (readiness facts: PVCs may resolve to it)."""

    provisioner: str = Field(min_length=1)  # its CSI driver, e.g. rancher.io/local-path
    default: bool = False  # carries storageclass.kubernetes.io/is-default-class: "true"


class ClusterConfig(ConfigModel):
    """Which cluster the environment runs on.

    ``kind: eks``: the library creates an EKS cluster from the ``aws`` config key and talks to it
    with the kubeconfig it builds. ``kind: existing``: a cluster created elsewhere (on-prem, or
    one another stack owns); ``kubeconfig`` is a path (default ``$KUBECONFIG`` or
    ``~/.kube/config``, as kubectl) and ``context`` picks one of its contexts. A kubeconfig's
    content is never put in the plan.
    """

    kind: Literal["existing", "eks"] = "existing"
    kubeconfig: str | None = Field(default=None, min_length=1)
    context: str | None = Field(default=None, min_length=1)
    # Facts the readiness analysis cannot see in the plan (gpu_platform.readiness): StorageClasses
    # the cluster already has, and whether its CNI enforces NetworkPolicies (Calico, Cilium; on EKS
    # the plan configures the VPC CNI instead).
    storage_classes: dict[str, ExistingStorageClass] = Field(default_factory=dict)
    network_policy_enforced: bool = False

    def issues(self) -> Iterator[ConfigIssue]:
        if self.kind == "eks":
            for key, value in (("kubeconfig", self.kubeconfig), ("context", self.context)):
                if value is not None:
                    yield issue(key, "applies only to kind 'existing'; remove it for 'eks'", value)


def kubernetes_provider(
    name: str,
    cluster: ClusterConfig,
    opts: pulumi.ResourceOptions | None = None,
    *,
    kubeconfig: pulumi.Input[str] | None = None,
) -> k8s.Provider:
    """The provider every component uses; ``kubeconfig`` (content) comes from a created cluster."""
    return k8s.Provider(
        name,
        kubeconfig=kubeconfig if kubeconfig is not None else cluster.kubeconfig,
        context=cluster.context,
        opts=opts,
    )

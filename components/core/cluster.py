"""Which Kubernetes cluster an environment targets, and the provider that talks to it."""

from __future__ import annotations

from typing import Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from components.config import ConfigModel


class ExistingCluster(ConfigModel):
    """A cluster created elsewhere (on-prem, or an EKS cluster another stack owns).

    ``kubeconfig`` is a path; when omitted the provider uses ``$KUBECONFIG`` or
    ``~/.kube/config`` as kubectl does. The kubeconfig's content is never put in the plan.
    """

    kind: Literal["existing"] = "existing"
    kubeconfig: str | None = Field(default=None, min_length=1)
    context: str | None = Field(default=None, min_length=1)


ClusterConfig = ExistingCluster


def kubernetes_provider(
    name: str, cluster: ExistingCluster, opts: pulumi.ResourceOptions | None = None
) -> k8s.Provider:
    return k8s.Provider(
        name,
        kubeconfig=cluster.kubeconfig,
        context=cluster.context,
        opts=opts,
    )

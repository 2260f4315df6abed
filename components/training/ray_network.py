"""NetworkPolicies a RayCluster needs in a namespace that denies by default (a team namespace).

The in-tree autoscaler runs beside the head and scales the cluster through the Kubernetes API
(https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/configuring-autoscaling.html). The
API server's endpoints are outside the pod network and not known to the plan (EKS: its ENIs in
the VPC, or the public endpoint), so the head may reach HTTPS (TCP 443) on any address; nothing
else of the namespace's default-deny changes. KubeRay labels the head pod ``ray.io/cluster:
<name>`` and ``ray.io/node-type: head`` (ray-operator/controllers/ray/utils/constant.go).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform.core.names import MANAGED_BY_LABELS

RAY_CLUSTER_LABEL = "ray.io/cluster"
RAY_NODE_TYPE_LABEL = "ray.io/node-type"


def autoscaler_api_policy(cluster: str, namespace: str) -> dict[str, Any]:
    """Egress from the cluster's head to HTTPS anywhere: the Kubernetes API for the autoscaler."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"{cluster}-autoscaler-api", "namespace": namespace,
                     "labels": dict(MANAGED_BY_LABELS)},
        "spec": {
            "podSelector": {"matchLabels": {RAY_CLUSTER_LABEL: cluster, RAY_NODE_TYPE_LABEL: "head"}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                        "ports": [{"protocol": "TCP", "port": 443}]}],
        },
    }


def autoscaler_api_access(name: str, cluster: str, namespace: str,
                          opts: pulumi.ResourceOptions) -> k8s.networking.v1.NetworkPolicy:
    policy = autoscaler_api_policy(cluster, namespace)
    return k8s.networking.v1.NetworkPolicy(name, metadata=policy["metadata"], spec=policy["spec"],
                                           opts=opts)

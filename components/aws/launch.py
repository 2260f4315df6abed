"""Pure renderers for node launch templates and node-group tags (testable without Pulumi)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gpu_platform.catalog.instances import InstanceType
from gpu_platform.core.pools import GPU_RESOURCE, Taint

if TYPE_CHECKING:  # the provider's argument types, for the type checker only
    from pulumi_aws.ec2 import (
        LaunchTemplateBlockDeviceMappingArgsDict,
        LaunchTemplateMetadataOptionsArgsDict,
        LaunchTemplateNetworkInterfaceArgsDict,
    )
    from pulumi_aws.eks import NodeGroupTaintArgsDict

# EKS spells taint effects differently from Kubernetes.
EKS_TAINT_EFFECTS = {
    "NoSchedule": "NO_SCHEDULE",
    "NoExecute": "NO_EXECUTE",
    "PreferNoSchedule": "PREFER_NO_SCHEDULE",
}
CA_TAG = "k8s.io/cluster-autoscaler"
NODEADM_BOUNDARY = "GPUPLATFORM"


def metadata_options() -> LaunchTemplateMetadataOptionsArgsDict:
    """IMDSv2 only, hop limit 1: containers (one hop further) cannot read node credentials."""
    return {
        "http_endpoint": "enabled",
        "http_tokens": "required",
        "http_put_response_hop_limit": 1,
        "instance_metadata_tags": "disabled",
    }


def root_device_name(ami_type: str) -> str:
    # Bottlerocket boots from a small OS volume (xvda); containers and images live on xvdb.
    return "/dev/xvdb" if ami_type.startswith("BOTTLEROCKET") else "/dev/xvda"


def root_block_device(ami_type: str, size_gib: int) -> LaunchTemplateBlockDeviceMappingArgsDict:
    """The encrypted gp3 volume that holds images and container writable layers."""
    return {
        "device_name": root_device_name(ami_type),
        "ebs": {
            "volume_size": size_gib,
            "volume_type": "gp3",
            "encrypted": "true",
            "delete_on_termination": "true",
        },
    }


def nodeadm_local_storage_config() -> str:
    """AL2023 nodeadm NodeConfig: RAID0 the instance-store NVMe disks and put containerd,
    kubelet and pod logs on them (nodeadm api v1alpha1 ``spec.instance.localStorage``)."""
    return (
        "---\n"
        "apiVersion: node.eks.aws/v1alpha1\n"
        "kind: NodeConfig\n"
        "spec:\n"
        "  instance:\n"
        "    localStorage:\n"
        "      strategy: RAID0\n"
    )


def nodeadm_user_data(node_config: str) -> str:
    """MIME multi-part user data (what managed node groups merge their own NodeConfig into)."""
    return (
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{NODEADM_BOUNDARY}"\n'
        "\n"
        f"--{NODEADM_BOUNDARY}\n"
        "Content-Type: application/node.eks.aws\n"
        "\n"
        f"{node_config}"
        "\n"
        f"--{NODEADM_BOUNDARY}--\n"
    )


def user_data(ami_type: str, instance: InstanceType) -> str | None:
    """Base64 user data for the launch template, or None when the defaults are right."""
    if ami_type == "AL2023_x86_64_NVIDIA" and instance.has_local_nvme:
        text = nodeadm_user_data(nodeadm_local_storage_config())
        return base64.b64encode(text.encode()).decode()
    return None


def efa_network_interfaces(
    instance: InstanceType, primary_groups: Sequence[Any], efa_groups: Sequence[Any]
) -> list[LaunchTemplateNetworkInterfaceArgsDict]:
    """One EFA interface per network card: card 0 is the primary interface (device 0, which also
    carries the cluster security group); every other card gets its EFA at device index 1."""
    return [
        {
            "network_card_index": card,
            "device_index": 0 if card == 0 else 1,
            "interface_type": "efa",
            "delete_on_termination": "true",
            "security_groups": list(primary_groups if card == 0 else efa_groups),
        }
        for card in range(instance.max_efa_interfaces)
    ]


def eks_taints(taints: Sequence[Taint]) -> list[NodeGroupTaintArgsDict]:
    return [
        {"key": t.key, "value": t.value, "effect": EKS_TAINT_EFFECTS[t.effect]} for t in taints
    ]


def autoscaler_tags(
    cluster_name: str,
    labels: Mapping[str, str],
    taints: Sequence[Taint],
    gpu_count: int,
) -> dict[str, str]:
    """Cluster-autoscaler auto-discovery and node-template tags, so a pool at zero nodes can be
    scaled up for a pending pod that selects its labels, tolerates its taints and asks for GPUs."""
    tags = {
        f"{CA_TAG}/enabled": "true",
        f"{CA_TAG}/{cluster_name}": "owned",
    }
    for key, value in labels.items():
        tags[f"{CA_TAG}/node-template/label/{key}"] = value
    for taint in taints:
        tags[f"{CA_TAG}/node-template/taint/{taint.key}"] = f"{taint.value}:{taint.effect}"
    tags[f"{CA_TAG}/node-template/resources/{GPU_RESOURCE}"] = str(gpu_count)
    return tags

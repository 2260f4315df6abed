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
# cluster-autoscaler's AWS provider label for GPU nodes (aws_cloud_provider.go ``GPULabel``):
# a node carrying it counts as a GPU node even before the device plugin advertises the GPUs,
# so the autoscaler neither scales up again for the same pods nor scales it down as empty.
ACCELERATOR_LABEL = "k8s.amazonaws.com/accelerator"
# RDMA (EFA, GPUDirect) registers pinned memory; the container runtime's default
# ``ulimit -l`` (64 KiB) makes ibv_reg_mr / fi_mr_reg fail. Containers inherit containerd's
# limit, so EFA nodes raise it on the containerd service itself.
CONTAINERD_MEMLOCK_DROPIN = "/etc/systemd/system/containerd.service.d/90-memlock.conf"


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


def memlock_script() -> str:
    """AL2023 shell part: containerd (and so every container) gets ``LimitMEMLOCK=infinity``.

    AL2023 runs user-data scripts (cloud-init's final stage) after nodeadm's config phase and
    before its run phase starts containerd and the kubelet: awslabs/amazon-eks-ami
    templates/al2023/runtime/rootfs/etc/systemd/system/nodeadm-config.service
    (``Before=cloud-init.service``) and nodeadm-run.service
    (``After=nodeadm-config.service cloud-final.service``). The drop-in is thus in place when
    containerd starts; ``daemon-reload`` makes systemd read it.
    """
    return (
        "#!/bin/bash\n"
        "set -euo pipefail\n"
        f"mkdir -p {CONTAINERD_MEMLOCK_DROPIN.rsplit('/', 1)[0]}\n"
        f"cat > {CONTAINERD_MEMLOCK_DROPIN} <<'EOF'\n"
        "[Service]\n"
        "LimitMEMLOCK=infinity\n"
        "EOF\n"
        "systemctl daemon-reload\n"
    )


def bottlerocket_memlock_settings() -> str:
    """Bottlerocket TOML: unlimited locked memory in the OCI defaults every container gets
    (``settings.oci-defaults.resource-limits.max-locked-memory``)."""
    return (
        '[settings.oci-defaults.resource-limits.max-locked-memory]\n'
        'soft-limit = "unlimited"\n'
        'hard-limit = "unlimited"\n'
    )


def nodeadm_user_data(node_config: str | None, script: str | None = None) -> str:
    """MIME multi-part user data (what managed node groups merge their own NodeConfig into):
    the NodeConfig part and/or a shell-script part."""
    parts = []
    if node_config is not None:
        parts.append(("application/node.eks.aws", node_config))
    if script is not None:
        parts.append(('text/x-shellscript; charset="us-ascii"', script))
    text = f'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{NODEADM_BOUNDARY}"\n\n'
    for content_type, body in parts:
        text += f"--{NODEADM_BOUNDARY}\nContent-Type: {content_type}\n\n{body}\n"
    return text + f"--{NODEADM_BOUNDARY}--\n"


def user_data(ami_type: str, instance: InstanceType, *, efa: bool = False) -> str | None:
    """Base64 user data for the launch template, or None when the defaults are right.

    AL2023: RAID0 instance-store NVMe for containerd/kubelet when the type has NVMe disks; on EFA
    pools containerd's memlock limit raised to infinity (``memlock_script``). Bottlerocket: the
    memlock limit through its settings on EFA pools (local disks are Bottlerocket's own business).
    """
    if ami_type.startswith("BOTTLEROCKET"):
        text = bottlerocket_memlock_settings() if efa else None
    else:
        config = nodeadm_local_storage_config() if instance.has_local_nvme else None
        script = memlock_script() if efa else None
        text = None if config is None and script is None else nodeadm_user_data(config, script)
    return None if text is None else base64.b64encode(text.encode()).decode()


def efa_network_interfaces(
    instance: InstanceType, primary_groups: Sequence[Any], efa_groups: Sequence[Any]
) -> list[LaunchTemplateNetworkInterfaceArgsDict]:
    """One EFA interface per EFA network card: card 0 is the primary interface (device 0, which
    also carries the cluster security group); every other card gets its EFA at device index 1.
    On types whose card 0 has no EFA (p6-b300) the primary interface is a plain ENA one."""
    interfaces: list[LaunchTemplateNetworkInterfaceArgsDict] = []
    if not instance.primary_card_efa:
        interfaces.append({
            "network_card_index": 0,
            "device_index": 0,
            "interface_type": "interface",
            "delete_on_termination": "true",
            "security_groups": list(primary_groups),
        })
    for card in instance.efa_cards:
        interfaces.append({
            "network_card_index": card,
            "device_index": 0 if card == 0 else 1,
            "interface_type": "efa",
            "delete_on_termination": "true",
            "security_groups": list(primary_groups if card == 0 else efa_groups),
        })
    return interfaces


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

"""``GpuNodePool``: one EKS managed node group for one ``gpuPools`` entry.

A launch template carries what the node group API cannot: IMDSv2 with hop limit 1, the
encrypted gp3 root volume, instance-store setup, and for EFA pools the placement group, one
EFA interface per EFA network card (with the security group EFA needs: all traffic to and from
itself) and an unlimited memlock for containers (RDMA pins memory). Every node carries
cluster-autoscaler's GPU label ``k8s.amazonaws.com/accelerator`` and the group the matching
node-template tag. The node group name is generated from a prefix, so changes that replace the node
group can create the new one before deleting the old.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import Field

from gpu_platform.aws.config import AwsNodePool, driver_mismatch, gpu_mismatch
from gpu_platform.aws.launch import (
    ACCELERATOR_LABEL,
    autoscaler_tags,
    efa_network_interfaces,
    eks_taints,
    metadata_options,
    root_block_device,
    user_data,
)
from gpu_platform.catalog.gpus import get_gpu_model
from gpu_platform.catalog.instances import INSTANCE_TYPES
from gpu_platform.config import ComponentArgs, ConfigIssue, component_args
from gpu_platform.config.args import InputStr
from gpu_platform.config.errors import issue
from gpu_platform.core.component import child_options
from gpu_platform.core.names import DnsLabel, child_name
from gpu_platform.core.pools import GpuPool, node_labels

POOL_TYPE = "gpu-platform:aws:GpuNodePool"


class NodePoolCluster(ComponentArgs):
    """The EKS cluster a node pool joins: ``EksCluster.node_pool_cluster`` gives it for a cluster
    the library creates; describe any other EKS cluster with the same fields.

    ``name`` may be an Output (the cluster resource's name, so the node group waits for the
    cluster); ``nodeRoleArn`` should resolve only once the role's policies are attached
    (``EksCluster.node_role_arn`` does), or nodes fail to join.
    """

    name: InputStr
    node_role_arn: InputStr
    # availability zone -> private subnet ID; the pool spans them (EFA pools use one zone)
    private_subnet_ids: dict[str, InputStr] = Field(min_length=1)
    vpc_id: InputStr  # the EFA security group lives in it
    security_group_id: InputStr  # the cluster security group (control plane <-> kubelet)


class GpuNodePoolArgs(ComponentArgs):
    """One ``gpuPools`` entry (``pool``, named ``poolName``), how it is built on EKS
    (``nodePool``, i.e. ``aws.nodePools.<poolName>``) and the cluster it joins."""

    pool_name: DnsLabel
    pool: GpuPool
    node_pool: AwsNodePool
    cluster: NodePoolCluster

    def issues(self) -> Iterator[ConfigIssue]:
        mismatch = gpu_mismatch(self.pool, self.node_pool, "pool")
        if mismatch is not None:
            yield issue("nodePool.instanceType", mismatch, self.node_pool.instance_type)
        driver = driver_mismatch(self.pool, self.node_pool, "nodePool")
        if driver is not None:
            yield issue("pool.driver", driver, self.pool.driver)
        zones = list(self.cluster.private_subnet_ids)
        zone = self.node_pool.efa.availability_zone
        if self.node_pool.efa.enabled and zone is not None and zone not in zones:
            yield issue("nodePool.efa.availabilityZone",
                        f"must be one of the cluster's zones ({', '.join(zones)})", zone)


class GpuNodePool(pulumi.ComponentResource):
    """The launch template (and, with EFA, placement group and security group) and the managed
    node group of one GPU pool."""

    node_group_name: pulumi.Output[str]
    instance_type: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: GpuNodePoolArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        args = component_args(GpuNodePoolArgs, args, component="GpuNodePool", name=name)
        super().__init__(POOL_TYPE, name, None, opts)
        child = child_options(self, opts)
        pool, aws_pool, cluster, pool_name = args.pool, args.node_pool, args.cluster, args.pool_name
        spec = INSTANCE_TYPES[aws_pool.instance_type]
        efa = aws_pool.efa.enabled
        # the autoscaler's GPU label rides on the node (kubelet labels) and, through
        # autoscaler_tags, on the node-template tag it reads while the group is at zero
        labels = {**node_labels(pool_name, pool),
                  ACCELERATOR_LABEL: get_gpu_model(pool.gpu.model).autoscaler_accelerator}

        template_args: dict[str, Any] = {
            "metadata_options": metadata_options(),
            "block_device_mappings": [root_block_device(aws_pool.ami_type, aws_pool.root_volume_gib)],
            "user_data": user_data(aws_pool.ami_type, spec, efa=efa),
            "update_default_version": True,
        }
        subnet_ids = list(cluster.private_subnet_ids.values())
        self.security_group: aws.ec2.SecurityGroup | None = None
        self.placement_group: aws.ec2.PlacementGroup | None = None
        if efa:
            zone = aws_pool.efa.availability_zone or ""
            subnet_ids = [cluster.private_subnet_ids[zone]]
            self.security_group = aws.ec2.SecurityGroup(
                child_name(name, "efa-sg"), vpc_id=cluster.vpc_id,
                description=f"EFA traffic between {pool_name} nodes", opts=child)
            # EFA's OS-bypass traffic needs every protocol to and from the group itself.
            aws.vpc.SecurityGroupIngressRule(
                child_name(name, "efa-in"), security_group_id=self.security_group.id,
                referenced_security_group_id=self.security_group.id, ip_protocol="-1", opts=child)
            aws.vpc.SecurityGroupEgressRule(
                child_name(name, "efa-out"), security_group_id=self.security_group.id,
                referenced_security_group_id=self.security_group.id, ip_protocol="-1", opts=child)
            self.placement_group = aws.ec2.PlacementGroup(
                child_name(name, "pg"), strategy="cluster", opts=child)
            # the zone comes from the subnet; the template names only the group
            template_args["placement"] = {"group_name": self.placement_group.name}
            # Interfaces in a template replace the node group's default security groups, so the
            # primary one carries the cluster security group (control plane <-> kubelet) too.
            template_args["network_interfaces"] = efa_network_interfaces(
                spec, [cluster.security_group_id, self.security_group.id],
                [self.security_group.id])

        self.launch_template = aws.ec2.LaunchTemplate(
            child_name(name, "lt"), **template_args, opts=child)
        # the autoscaler's tag keys name the cluster, so they wait for its name
        self.tags: pulumi.Output[dict[str, str]] = pulumi.Output.from_input(cluster.name).apply(
            lambda cluster_name: autoscaler_tags(cluster_name, labels, pool.taints, pool.gpu.count))
        self.node_group = aws.eks.NodeGroup(
            child_name(name, "ng"),
            cluster_name=cluster.name,
            node_group_name_prefix=f"{pool_name}-",
            node_role_arn=cluster.node_role_arn,
            subnet_ids=subnet_ids,
            instance_types=[spec.name],
            ami_type=aws_pool.ami_type,
            capacity_type=aws_pool.capacity_type,
            scaling_config={"min_size": pool.min_size, "max_size": pool.max_size,
                            "desired_size": pool.min_size},
            update_config={"max_unavailable": 1},
            labels=labels,
            taints=eks_taints(pool.taints),
            launch_template={"id": self.launch_template.id,
                             "version": self.launch_template.latest_version.apply(str)},
            tags=self.tags,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                # the cluster-autoscaler owns the desired size once the group exists
                ignore_changes=["scalingConfig.desiredSize"])))
        self.node_group_name = self.node_group.node_group_name
        self.instance_type = pulumi.Output.from_input(spec.name)
        self.register_outputs({
            "nodeGroupName": self.node_group_name,
            "instanceType": self.instance_type,
        })

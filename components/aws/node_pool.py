"""``GpuNodePool``: one EKS managed node group for one ``gpuPools`` entry.

A launch template carries what the node group API cannot: IMDSv2 with hop limit 1, the
encrypted gp3 root volume, instance-store setup, and for EFA pools the placement group and one
EFA interface per network card (with the security group EFA needs: all traffic to and from
itself). The node group name is generated from a prefix, so changes that replace the node
group can create the new one before deleting the old.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from gpu_platform.aws.config import AwsNodePool
from gpu_platform.aws.eks_cluster import EksCluster
from gpu_platform.aws.launch import (
    autoscaler_tags,
    efa_network_interfaces,
    eks_taints,
    metadata_options,
    root_block_device,
    user_data,
)
from gpu_platform.catalog.instances import INSTANCE_TYPES
from gpu_platform.config import ConfigError
from gpu_platform.config.errors import issue
from gpu_platform.core.names import child_name
from gpu_platform.core.pools import GpuPool, node_labels

POOL_TYPE = "gpu-platform:aws:GpuNodePool"


def check_node_pool(pool_name: str, pool: GpuPool, aws_pool: AwsNodePool, zones: list[str]) -> None:
    """Raise one ConfigError (paths under ``aws.nodePools.<pool>``) before anything registers."""
    base = f"aws.nodePools.{pool_name}"
    problems = [found.prefixed(base) for found in aws_pool.issues()]
    spec = INSTANCE_TYPES.get(aws_pool.instance_type)
    if spec is not None and (spec.gpu_model, spec.gpu_count) != (pool.gpu.model, pool.gpu.count):
        problems.append(issue(
            f"{base}.instanceType",
            f"{spec.name} has {spec.gpu_count}x {spec.gpu_model} but the pool asks for "
            f"{pool.gpu.count}x {pool.gpu.model}", aws_pool.instance_type))
    zone = aws_pool.efa.availability_zone
    if aws_pool.efa.enabled and zone is not None and zone not in zones:
        problems.append(issue(f"{base}.efa.availabilityZone",
                              f"must be one of the cluster's zones ({', '.join(zones)})", zone))
    if problems:
        raise ConfigError(problems, source=f"AWS node pool '{pool_name}'")


class GpuNodePool(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        pool_name: str,
        pool: GpuPool,
        aws_pool: AwsNodePool,
        cluster: EksCluster,
        opts: pulumi.ResourceOptions | None = None,
    ):
        check_node_pool(pool_name, pool, aws_pool, cluster.config.vpc.zones)
        super().__init__(POOL_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec = INSTANCE_TYPES[aws_pool.instance_type]
        efa = aws_pool.efa.enabled
        labels = node_labels(pool_name, pool)

        template_args: dict = {
            "metadata_options": metadata_options(),
            "block_device_mappings": [root_block_device(aws_pool.ami_type, aws_pool.root_volume_gib)],
            "user_data": user_data(aws_pool.ami_type, spec),
            "update_default_version": True,
        }
        subnet_ids = list(cluster.private_subnet_ids.values())
        self.security_group = self.placement_group = None
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
                spec, [cluster.cluster_security_group_id, self.security_group.id],
                [self.security_group.id])

        self.launch_template = aws.ec2.LaunchTemplate(
            child_name(name, "lt"), **template_args, opts=child)
        self.tags = autoscaler_tags(cluster.cluster_name, labels, pool.taints, pool.gpu.count)
        self.node_group = aws.eks.NodeGroup(
            child_name(name, "ng"),
            cluster_name=cluster.cluster.name,
            node_group_name_prefix=f"{pool_name}-",
            node_role_arn=cluster.node_role.arn,
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
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=cluster.node_role_attachments,
                # the cluster-autoscaler owns the desired size once the group exists
                ignore_changes=["scalingConfig.desiredSize"]))
        self.register_outputs({"nodeGroupName": self.node_group.node_group_name})

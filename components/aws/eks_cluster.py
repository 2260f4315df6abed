"""``EksCluster``: VPC (or given subnets), the EKS control plane, IRSA and a CPU system pool."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import Field

from gpu_platform.aws.cidrs import zone_subnets
from gpu_platform.aws.config import CONTROL_PLANE_LOGS, EksClusterConfig
from gpu_platform.aws.launch import metadata_options, root_block_device
from gpu_platform.aws.node_pool import NodePoolCluster
from gpu_platform.aws.workload_identity import AWS_MANAGED_POLICY, workload_role
from gpu_platform.catalog.addon_versions import EBS_CSI_ADDON, EKS_ADDONS
from gpu_platform.catalog.eks_versions import support_warnings
from gpu_platform.config import ComponentArgs, ConfigError, component_args
from gpu_platform.config.errors import PATTERN_HINTS, issue
from gpu_platform.core.component import child_options
from gpu_platform.core.names import SYSTEM_LABEL, child_name

CLUSTER_TYPE = "gpu-platform:aws:EksCluster"
# Managed add-on configuration (JSON, the add-on's configuration schema). The VPC CNI enforces
# NetworkPolicies only when asked (v1.14+): "Configure your cluster for Kubernetes network
# policies", https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy-configure.html
EKS_ADDON_CONFIGURATION: dict[str, str] = {
    "vpc-cni": json.dumps({"enableNetworkPolicy": "true"}),
}
MANAGED_POLICY = AWS_MANAGED_POLICY
# The EBS CSI driver's controller calls EC2 (CreateVolume, AttachVolume...) as its own IRSA role
# with the policy AWS maintains for it: "Store Kubernetes volumes with Amazon EBS",
# https://docs.aws.amazon.com/eks/latest/userguide/ebs-csi.html (read 2026-11-26).
EBS_CSI_NAMESPACE = "kube-system"
EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"
EBS_CSI_POLICY = MANAGED_POLICY + "service-role/AmazonEBSCSIDriverPolicy"
# add-ons whose pods must find a node before EKS reports them ACTIVE
NEEDS_NODES = frozenset({"coredns", EBS_CSI_ADDON})
CLUSTER_POLICIES = ("AmazonEKSClusterPolicy",)
NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEKS_CNI_Policy",
)


AWS_REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"
PATTERN_HINTS[AWS_REGION_PATTERN] = "must be an AWS region such as us-east-1"


class EksClusterArgs(EksClusterConfig, ComponentArgs):
    """The ``aws.cluster`` config, plus the region (default: the stack's ``aws:region``), which
    the kubeconfig names."""

    region: str | None = Field(default=None, pattern=AWS_REGION_PATTERN)

    @classmethod
    def of(cls, config: EksClusterConfig, *, region: str | None = None) -> EksClusterArgs:
        """The args for an environment's ``aws.cluster``."""
        fields = {key: getattr(config, key) for key in type(config).model_fields}
        return cls(**fields, region=region)


def assume_role_policy(service: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": ["sts:AssumeRole", "sts:TagSession"] if service.startswith("eks") else
            "sts:AssumeRole",
        }],
    })


def render_kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig that authenticates with ``aws eks get-token`` (no long-lived credentials)."""
    return json.dumps({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {
            "server": endpoint, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "users": [{"name": cluster_name, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region],
        }}}],
    })


def _cluster_security_group(vpc_config: Any) -> str:
    if isinstance(vpc_config, dict):
        return str(vpc_config.get("cluster_security_group_id") or "")
    return str(getattr(vpc_config, "cluster_security_group_id", None) or "")


def _ca_data(ca: Any) -> str | None:
    if not ca:
        return None
    return ca.get("data") if isinstance(ca, dict) else getattr(ca, "data", None)


def _issuer(identities: Any) -> str | None:
    # cluster.identities[0].oidcs[0].issuer once the cluster exists
    try:
        return identities[0]["oidcs"][0]["issuer"]
    except (TypeError, KeyError, IndexError):
        try:
            return identities[0].oidcs[0].issuer
        except (TypeError, AttributeError, IndexError):
            return None


class EksCluster(pulumi.ComponentResource):
    """The network, the protected control plane with encrypted Secrets, IRSA, the CPU system
    pool and the pinned EKS add-ons."""

    cluster_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_provider_url: pulumi.Output[str]  # the issuer without https:// (IAM condition keys)
    kubeconfig: pulumi.Output[str]  # secret
    cluster_security_group_id: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]  # resolves once the node policies are attached
    ebs_csi_role_arn: pulumi.Output[str]  # the EBS CSI driver's IRSA role

    def __init__(
        self,
        name: str,
        args: EksClusterArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        args = component_args(EksClusterArgs, args, component="EksCluster", name=name)
        region = args.region or pulumi.Config("aws").get("region")
        if not region:
            raise ConfigError(
                [issue("region", "is required: pass it, or set the stack's aws:region")],
                source=f"args of EksCluster '{name}'")
        super().__init__(CLUSTER_TYPE, name, None, opts)
        child = child_options(self, opts)
        config = args
        self.config = config
        self.region = region
        self._network(name, config, child)

        self.cluster_role = aws.iam.Role(
            child_name(name, "cluster-role"),
            assume_role_policy=assume_role_policy("eks.amazonaws.com"), opts=child)
        cluster_attachments = [
            aws.iam.RolePolicyAttachment(
                child_name(name, f"cluster-{policy}"), role=self.cluster_role.name,
                policy_arn=MANAGED_POLICY + policy, opts=child)
            for policy in CLUSTER_POLICIES
        ]
        self.node_role = aws.iam.Role(
            child_name(name, "node-role"),
            assume_role_policy=assume_role_policy("ec2.amazonaws.com"), opts=child)
        self.node_role_attachments = [
            aws.iam.RolePolicyAttachment(
                child_name(name, f"node-{policy}"), role=self.node_role.name,
                policy_arn=MANAGED_POLICY + policy, opts=child)
            for policy in NODE_POLICIES
        ]
        # Envelope encryption of Secrets: losing this key makes every Secret unreadable.
        self.secrets_key = aws.kms.Key(
            child_name(name, "secrets-key"),
            description=f"EKS {config.name} Secrets envelope encryption",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(protect=True, retain_on_delete=True)))

        vpc_config: aws.eks.ClusterVpcConfigArgsDict = {
            "subnet_ids": list(self.private_subnet_ids.values()),
            "endpoint_private_access": config.endpoint_private_access,
            "endpoint_public_access": config.endpoint_public_access,
        }
        if config.public_access_cidrs:
            vpc_config["public_access_cidrs"] = config.public_access_cidrs
        self.cluster = aws.eks.Cluster(
            child_name(name, "cluster"),
            name=config.name,
            version=config.version,
            upgrade_policy={"support_type": config.support_type},
            role_arn=self.cluster_role.arn,
            vpc_config=vpc_config,
            encryption_config={"provider": {"key_arn": self.secrets_key.arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=list(CONTROL_PLANE_LOGS),
            access_config={"authentication_mode": "API",
                           "bootstrap_cluster_creator_admin_permissions": True},
            # etcd holds every workload teams created: replacing or deleting the cluster needs a
            # deliberate `pulumi state unprotect`
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(protect=True, depends_on=cluster_attachments)))

        issuer = self.cluster.identities.apply(_issuer)
        self.oidc_provider = aws.iam.OpenIdConnectProvider(
            child_name(name, "oidc"), url=issuer, client_id_lists=["sts.amazonaws.com"], opts=child)
        self.oidc_provider_arn = self.oidc_provider.arn
        # IAM condition keys use the issuer without its scheme
        self.oidc_provider_url = issuer.apply(lambda url: (url or "").removeprefix("https://"))
        self.cluster_security_group_id = self.cluster.vpc_config.apply(_cluster_security_group)
        self.cluster_name = self.cluster.name
        self.endpoint = self.cluster.endpoint
        # node groups take the role only once its policies are attached (nodes cannot join before)
        self.node_role_arn = pulumi.Output.all(
            self.node_role.arn, *(a.id for a in self.node_role_attachments)
        ).apply(lambda resolved: str(resolved[0]))

        for warning in support_warnings(config.version, config.support_type, date.today()):
            pulumi.log.warn(warning, resource=self)
        self.system_pool = self._system_pool(name, config, child)
        self.ebs_csi_role = workload_role(
            child_name(name, "ebs-csi-role"),
            oidc_provider_arn=self.oidc_provider_arn, oidc_provider_url=self.oidc_provider_url,
            namespace=EBS_CSI_NAMESPACE, service_account=EBS_CSI_SERVICE_ACCOUNT,
            managed_policies=[EBS_CSI_POLICY], opts=child)
        self.ebs_csi_role_arn = self.ebs_csi_role.arn
        self.addons = {
            addon: aws.eks.Addon(
                child_name(name, f"addon-{addon}"),
                cluster_name=self.cluster.name,
                addon_name=addon,
                # the add-on's default build for the cluster's Kubernetes version, asked of AWS;
                # the offline plan answers from versions.EKS_ADDON_VERSIONS (catalog.addon_versions)
                addon_version=aws.eks.get_addon_version_output(
                    addon_name=addon, kubernetes_version=config.version).version,
                configuration_values=EKS_ADDON_CONFIGURATION.get(addon),
                service_account_role_arn=self.ebs_csi_role.arn if addon == EBS_CSI_ADDON else None,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                # CoreDNS and the EBS CSI controller need a node to become ready on
                opts=child_options(
                    self, opts, depends_on=[self.system_pool] if addon in NEEDS_NODES else []))
            for addon in EKS_ADDONS
        }
        rendered: pulumi.Output[str] = pulumi.Output.all(
            self.cluster.name, self.cluster.endpoint,
            self.cluster.certificate_authority.apply(_ca_data),
        ).apply(lambda parts: render_kubeconfig(parts[0], parts[1], parts[2], region))
        self.kubeconfig = pulumi.Output.secret(rendered)
        self.register_outputs({
            "clusterName": self.cluster_name,
            "endpoint": self.endpoint,
            "oidcProviderArn": self.oidc_provider_arn,
            "oidcProviderUrl": self.oidc_provider_url,
            "kubeconfig": self.kubeconfig,
            "clusterSecurityGroupId": self.cluster_security_group_id,
            "ebsCsiRoleArn": self.ebs_csi_role_arn,
        })

    @property
    def node_pool_cluster(self) -> NodePoolCluster:
        """What a ``GpuNodePool`` needs of this cluster."""
        return NodePoolCluster(
            name=self.cluster_name, node_role_arn=self.node_role_arn,
            private_subnet_ids=self.private_subnet_ids, vpc_id=self.vpc_id,
            security_group_id=self.cluster_security_group_id)

    def _network(self, name: str, config: EksClusterConfig, child: pulumi.ResourceOptions) -> None:
        vpc = config.vpc
        if vpc.subnet_ids:
            self.vpc_id: pulumi.Input[str] = vpc.vpc_id or ""
            self.private_subnet_ids: dict[str, pulumi.Input[str]] = dict(vpc.subnet_ids)
            return
        cluster_tag = {f"kubernetes.io/cluster/{config.name}": "shared"}
        self.vpc = aws.ec2.Vpc(
            child_name(name, "vpc"), cidr_block=vpc.cidr, enable_dns_hostnames=True,
            enable_dns_support=True, tags={"Name": config.name}, opts=child)
        self.vpc_id = self.vpc.id
        igw = aws.ec2.InternetGateway(child_name(name, "igw"), vpc_id=self.vpc.id, opts=child)
        public_rt = aws.ec2.RouteTable(
            child_name(name, "public-rt"), vpc_id=self.vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}], opts=child)
        self.private_subnet_ids = {}
        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        for zone in zone_subnets(vpc.cidr, vpc.availability_zones):
            public = aws.ec2.Subnet(
                child_name(name, f"public-{zone.availability_zone}"), vpc_id=self.vpc.id,
                cidr_block=zone.public, availability_zone=zone.availability_zone,
                tags={**cluster_tag, "kubernetes.io/role/elb": "1"}, opts=child)
            private = aws.ec2.Subnet(
                child_name(name, f"private-{zone.availability_zone}"), vpc_id=self.vpc.id,
                cidr_block=zone.private, availability_zone=zone.availability_zone,
                tags={**cluster_tag, "kubernetes.io/role/internal-elb": "1"}, opts=child)
            aws.ec2.RouteTableAssociation(
                child_name(name, f"public-{zone.availability_zone}"), subnet_id=public.id,
                route_table_id=public_rt.id, opts=child)
            public_subnets.append(public)
            private_subnets.append(private)
            self.private_subnet_ids[zone.availability_zone] = private.id
        # One NAT gateway: nodes pull images and reach AWS APIs; add one per zone for zone HA.
        eip = aws.ec2.Eip(child_name(name, "nat-ip"), domain="vpc", opts=child)
        nat = aws.ec2.NatGateway(
            child_name(name, "nat"), allocation_id=eip.allocation_id,
            subnet_id=public_subnets[0].id,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[igw])))
        private_rt = aws.ec2.RouteTable(
            child_name(name, "private-rt"), vpc_id=self.vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.id}], opts=child)
        for zone_name, subnet in zip(vpc.availability_zones, private_subnets, strict=True):
            aws.ec2.RouteTableAssociation(
                child_name(name, f"private-{zone_name}"), subnet_id=subnet.id,
                route_table_id=private_rt.id, opts=child)

    def _system_pool(self, name: str, config: EksClusterConfig,
                     child: pulumi.ResourceOptions) -> aws.eks.NodeGroup:
        pool = config.system_pool
        template = aws.ec2.LaunchTemplate(
            child_name(name, "system-lt"),
            metadata_options=metadata_options(),
            block_device_mappings=[root_block_device("AL2023_x86_64_STANDARD", 50)],
            update_default_version=True, opts=child)
        return aws.eks.NodeGroup(
            child_name(name, "system"),
            cluster_name=self.cluster.name,
            node_group_name_prefix="system-",
            node_role_arn=self.node_role.arn,
            subnet_ids=list(self.private_subnet_ids.values()),
            instance_types=[pool.instance_type],
            ami_type="AL2023_x86_64_STANDARD",
            capacity_type="ON_DEMAND",
            scaling_config={"min_size": pool.min_size, "max_size": pool.max_size,
                            "desired_size": pool.min_size},
            update_config={"max_unavailable": 1},
            labels={SYSTEM_LABEL: "system"},
            launch_template={"id": template.id,
                             "version": template.latest_version.apply(str)},
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                depends_on=self.node_role_attachments,
                ignore_changes=["scalingConfig.desiredSize"])))

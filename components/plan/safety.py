"""Data safety: which resource types hold data, and the guards each must carry.

Every resource type a plan contains must be classified here, either as stateful (with the
guards it needs) or as stateless, so that a new stateful type cannot slip in unguarded: an
unclassified type is itself a problem. No stateful resource may be delete-before-replace, which
would delete the data before its replacement exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from gpu_platform.k8s.crds import crd_handling
from gpu_platform.plan.capture import Registration
from gpu_platform.plan.model import HELM_RELEASE_TYPE, Plan
from gpu_platform.testing.conformance import BUILTIN_API_GROUPS


@dataclass(frozen=True)
class Guard:
    protect: bool
    retain_on_delete: bool
    why: str


STATEFUL: dict[str, Guard] = {
    "aws:s3/bucket:Bucket": Guard(True, True, "models, datasets, file system chunks"),
    "aws:kms/key:Key": Guard(True, True, "without the key, encrypted secrets and volumes are lost"),
    "aws:eks/cluster:Cluster": Guard(True, False, "etcd holds every workload teams created"),
    "aws:elasticache/replicationGroup:ReplicationGroup": Guard(True, True, "JuiceFS metadata"),
    "aws:elasticache/cluster:Cluster": Guard(True, True, "JuiceFS metadata"),
    "aws:rds/instance:Instance": Guard(True, True, "JuiceFS metadata"),
    "aws:ebs/volume:Volume": Guard(True, True, "block data"),
    "aws:efs/fileSystem:FileSystem": Guard(True, True, "file data"),
    "kubernetes:core/v1:PersistentVolumeClaim": Guard(True, True, "datasets, checkpoints, models"),
    "kubernetes:core/v1:PersistentVolume": Guard(True, True, "datasets, checkpoints, models"),
    "kubernetes:core/v1:Namespace": Guard(False, True, "deleting it deletes all it contains"),
    "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition": Guard(
        True, True, "deleting it deletes every custom resource of its kind"
    ),
}

# Types whose loss costs only re-creation time; listed so unknown types stand out.
STATELESS: frozenset[str] = frozenset({
    "pulumi:providers:kubernetes",
    "pulumi:providers:aws",
    "aws:ec2/eip:Eip",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/placementGroup:PlacementGroup",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/vpc:Vpc",
    "aws:eks/addon:Addon",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:eks/accessEntry:AccessEntry",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    "aws:iam/role:Role",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:elasticache/subnetGroup:SubnetGroup",
    "aws:elasticache/parameterGroup:ParameterGroup",
    "aws:rds/subnetGroup:SubnetGroup",
    "aws:rds/parameterGroup:ParameterGroup",
    "aws:cloudwatch/logGroup:LogGroup",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:ConfigMapPatch",
    "kubernetes:core/v1:LimitRange",
    "kubernetes:core/v1:ResourceQuota",
    "kubernetes:core/v1:Secret",
    "kubernetes:core/v1:ServiceAccount",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:scheduling.k8s.io/v1:PriorityClass",
    "kubernetes:storage.k8s.io/v1:StorageClass",
    # Helm releases are checked by their chart's CRD handling (gpu_platform.k8s.crds)
    HELM_RELEASE_TYPE,
})


def is_custom_resource(type_: str) -> bool:
    """RayCluster, InferenceService and the like: desired state this program re-creates; what
    must survive is their CRDs (see ``gpu_platform.k8s.crds``)."""
    package, _, rest = type_.partition(":")
    group_version = rest.rpartition(":")[0]
    group = group_version.rpartition("/")[0]
    return package == "kubernetes" and "." in group and group not in BUILTIN_API_GROUPS


def _chart(resource: Registration) -> str:
    return str(resource.inputs.get("chart", "")).rsplit("/", 1)[-1]


def required_guard(resource: Registration) -> Guard | None:
    """The guard a resource needs, or None when it holds no data."""
    if resource.type == HELM_RELEASE_TYPE:
        if crd_handling(_chart(resource)) == "guarded-release":
            return Guard(True, True, "its CRDs are chart templates that go with the release")
        return None
    return STATEFUL.get(resource.type)


def guard_problems(plan: Plan) -> list[str]:
    """Every stateful resource lacking its guard, and every unclassified resource type."""
    problems = []
    for resource in plan.resources:
        if not resource.custom:
            continue  # components hold nothing themselves
        known = resource.type in STATEFUL or resource.type in STATELESS
        if not known and not is_custom_resource(resource.type):
            problems.append(f"{resource.type}: not classified in gpu_platform.plan.safety")
            continue
        guard = required_guard(resource)
        if guard is None:
            continue
        where = f"{resource.type} {resource.name}"
        if guard.protect and not resource.protect:
            problems.append(f"{where}: must be protected ({guard.why})")
        if guard.retain_on_delete and not resource.retain_on_delete:
            problems.append(f"{where}: must be retained on delete ({guard.why})")
        if resource.delete_before_replace:
            problems.append(f"{where}: must not be delete-before-replace ({guard.why})")
    return problems

"""This library's plan policy: what its resources cost, how long they take, which hold data.

The plan engine (``gpu_platform.plan``) is generic; it is given this knowledge as a
``PlanPolicy`` (see ``gpu_platform.plan.policy``). ``POLICY`` is registered under the entry-point
group ``gpu_platform.plan_policy`` (pyproject.toml), so ``gpu-platform plan`` and the test
harness use it by default; a program built on other libraries can merge its own
(``POLICY.merged(mine)``) and pass that explicitly.

Sources: prices of GPU instance types from ``gpu_platform.catalog.instances`` (dated, with
sources); Helm releases' data guards from ``gpu_platform.k8s.crds`` (how each chart's CRDs
survive its removal).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gpu_platform import versions
from gpu_platform.catalog.addon_versions import ADDON_VERSION_INVOKE, answer_addon_version_lookup
from gpu_platform.catalog.instances import INSTANCE_TYPES
from gpu_platform.k8s.crds import crd_handling
from gpu_platform.plan.capture import Registration
from gpu_platform.plan.model import HELM_RELEASE_TYPE
from gpu_platform.plan.policy import Duration, Guard, PlanPolicy, Price
from gpu_platform.plan.upstream import CrdSource
from gpu_platform.readiness.costs import BLOCK_PROVISIONERS, STORAGE_PRICES, fixed_cost_rule
from gpu_platform.readiness.stack import stack_readiness
from gpu_platform.readiness.summary import stack_summary_facts
from gpu_platform.versions import ChartPin
from gpu_platform.versions_report import format_report

# --- cost ---------------------------------------------------------------------------------

_M6I_SOURCE = (
    "https://aws.amazon.com/ec2/pricing/on-demand/ (Linux, us-east-1); m6i list price unchanged "
    "since launch (2021), not re-read on 2026-11-25"
)
# On-demand $/h of the non-GPU types system pools use (the GPU catalog holds only GPU types).
GENERAL_PURPOSE_PRICES: dict[str, Price] = {
    "m6i.large": Price(0.096, _M6I_SOURCE),
    "m6i.xlarge": Price(0.192, _M6I_SOURCE),
    "m6i.2xlarge": Price(0.384, _M6I_SOURCE),
    "m6i.4xlarge": Price(0.768, _M6I_SOURCE),
}
PRICES: dict[str, Price] = {
    **GENERAL_PURPOSE_PRICES,
    **{
        name: Price(t.price_usd_hour, "gpu_platform.catalog.instances")
        for name, t in INSTANCE_TYPES.items()
    },
}
# The node labels the compute layer sets (gpu_platform.core.pools): GPU pools, then the system pool.
POOL_LABELS = ("gpu-platform.io/pool", "gpu-platform.io/node-class")

# --- deploy durations -----------------------------------------------------------------------

_EKS_DOCS = "https://docs.aws.amazon.com/eks/latest/userguide/create-cluster.html"
_API_CALL = "one synchronous API call; seconds in practice"

DURATIONS: tuple[Duration, ...] = (
    Duration("aws:eks/cluster:Cluster", 600,
             f"control plane: 'several minutes' ({_EKS_DOCS}); 9-12 min observed with pulumi-eks"),
    Duration("aws:eks/nodeGroup:NodeGroup", 240,
             "managed node group create waits for nodes Ready: 3-5 min (GPU AMIs the upper end)"),
    Duration("aws:eks/addon:Addon", 60, "EKS add-on create waits for ACTIVE (coredns needs nodes)"),
    Duration("aws:ec2/natGateway:NatGateway", 120,
             "NAT gateway pending -> available: 1-2 min (terraform-provider-aws waiter, 10 min cap)"),
    Duration("aws:iam/openIdConnectProvider:OpenIdConnectProvider", 2, _API_CALL),
    Duration("aws:iam/role:Role", 3, "IAM create plus the provider's propagation retry"),
    Duration("aws:kms/key:Key", 5, "KMS CreateKey: seconds"),
    Duration("aws:ec2/vpc:Vpc", 3, "VPC create waits for 'available': seconds"),
    Duration("aws:ec2/subnet:Subnet", 2, _API_CALL),
    Duration("aws:ec2/securityGroup:SecurityGroup", 3, _API_CALL),
    Duration("aws:s3/bucket:Bucket", 3, _API_CALL),
    Duration("aws:rds/instance:Instance", 600,
             "RDS create waits for 'available': 5-15 min for a Multi-AZ PostgreSQL instance "
             "(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CreateDBInstance.html)"),
    Duration("aws:*", 2, _API_CALL),
    Duration(HELM_RELEASE_TYPE, 120,
             "helm install with wait: 1-3 min per chart (images pulled, pods Ready)"),
    Duration("pulumi:providers:*", 0, "provider configuration: no cloud call"),
    Duration("kubernetes:*", 1, "one API-server create; pulumi-kubernetes awaits are short for these"),
)

# Charts whose install waits much longer or shorter than a typical release.
CHART_DURATIONS: dict[str, Duration] = {
    "gpu-operator": Duration("gpu-operator", 300,
                             "operator, toolkit, device plugin and validator pods Ready: ~5 min"),
    "gpu-operator+driver": Duration("gpu-operator+driver", 600,
                                    "plus the driver container compiling/loading the kernel module: ~10 min"),
    "kserve-crd": Duration("kserve-crd", 20, "CRDs only: no pods to wait for"),
    "aws-efa-k8s-device-plugin": Duration("aws-efa-k8s-device-plugin", 30, "one DaemonSet, no GPU nodes yet"),
    "spark-operator": Duration("spark-operator", 60, "controller and webhook Deployments Ready: ~1 min"),
    "mlflow": Duration("mlflow", 180, "init containers wait for PostgreSQL and migrate its schema, then "
                       "the server starts: 2-3 min"),
    "keda": Duration("keda", 60, "operator, metrics API server and admission webhook Deployments "
                     "(one small pod each, no CRD-dependent hooks): about a minute"),
}


def chart_name(resource: Registration) -> str:
    return str(resource.inputs.get("chart", "")).rsplit("/", 1)[-1]


def _driver_enabled(inputs: Mapping[str, Any]) -> bool:
    driver = (inputs.get("values") or {}).get("driver") or {}
    return driver.get("enabled", True) is not False  # the chart's default installs the driver


def chart_duration(resource: Registration) -> Duration | None:
    """Helm releases of the charts in ``CHART_DURATIONS`` (the GPU Operator: with or without driver)."""
    if resource.type != HELM_RELEASE_TYPE:
        return None
    chart = chart_name(resource)
    if chart == "gpu-operator" and _driver_enabled(resource.inputs):
        chart = "gpu-operator+driver"
    return CHART_DURATIONS.get(chart)


# --- data safety ----------------------------------------------------------------------------

STATEFUL: dict[str, Guard] = {
    "aws:s3/bucket:Bucket": Guard(True, True, "models, datasets, file system chunks"),
    "aws:kms/key:Key": Guard(True, True, "without the key, encrypted secrets and volumes are lost"),
    "aws:eks/cluster:Cluster": Guard(True, False, "etcd holds every workload teams created"),
    "aws:elasticache/replicationGroup:ReplicationGroup": Guard(True, True, "JuiceFS metadata"),
    "aws:elasticache/cluster:Cluster": Guard(True, True, "JuiceFS metadata"),
    "aws:rds/instance:Instance": Guard(True, True, "JuiceFS metadata, MLflow experiments"),
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
})

_RELEASE_GUARD = Guard(True, True, "its CRDs are chart templates that go with the release")


def release_guard(resource: Registration) -> Guard | None:
    """A Helm release is guarded when removing it would remove its chart's CRDs
    (``gpu_platform.k8s.crds``; a chart missing there is a KeyError naming it)."""
    if resource.type == HELM_RELEASE_TYPE and crd_handling(chart_name(resource)) == "guarded-release":
        return _RELEASE_GUARD
    return None


# --- upstream truth ------------------------------------------------------------------------

def chart_pins() -> list[ChartPin]:
    """Every pinned Helm chart, in declaration order."""
    return [value for value in vars(versions).values() if isinstance(value, ChartPin)]


def _tag(pin: ChartPin) -> str:
    """The git tag a pin's ``source`` (a GitHub blob URL at a tag) names."""
    match = re.match(r"https://github\.com/[^/]+/[^/]+/blob/([^/]+)/", pin.source)
    if not match:
        raise ValueError(f"{pin.chart}: source {pin.source} names no git ref")
    return match.group(1)


def crd_sources() -> list[CrdSource]:
    """Operators whose CRDs are not (all) in their chart's ``crds/`` folder, at the pinned tags.

    Paths as in the shared upstream folder's SOURCES.md; the charts' own ``crds/`` folders
    (GPU Operator, Network Operator, KubeRay, Whereabouts, kube-prometheus-stack) add the rest.
    """
    v = versions
    return [
        CrdSource("ray-project/kuberay", _tag(v.KUBERAY_OPERATOR), tuple(
            f"ray-operator/config/crd/bases/ray.io_{kind}.yaml"
            for kind in ("rayclusters", "rayjobs", "rayservices"))),
        CrdSource("volcano-sh/volcano", _tag(v.VOLCANO), (
            "config/crd/volcano/bases/batch.volcano.sh_jobs.yaml",
            "config/crd/volcano/bases/scheduling.volcano.sh_podgroups.yaml",
            "config/crd/volcano/bases/scheduling.volcano.sh_queues.yaml")),
        CrdSource("fluid-cloudnative/fluid", _tag(v.FLUID), tuple(
            f"config/crd/bases/data.fluid.io_{kind}.yaml"
            for kind in ("alluxioruntimes", "dataloads", "datasets", "juicefsruntimes"))),
        CrdSource("kubeflow/trainer", v.KUBEFLOW_TRAINING_OPERATOR_REF, tuple(
            f"manifests/base/crds/kubeflow.org_{kind}.yaml" for kind in ("mpijobs", "pytorchjobs"))),
        CrdSource("kubeflow/trainer", _tag(v.KUBEFLOW_TRAINER), tuple(
            f"manifests/base/crds/trainer.kubeflow.org_{kind}.yaml"
            for kind in ("clustertrainingruntimes", "trainingruntimes", "trainjobs"))),
        CrdSource("kubernetes-sigs/kueue", _tag(v.KUEUE), tuple(
            f"config/components/crd/bases/kueue.x-k8s.io_{kind}.yaml"
            for kind in ("clusterqueues", "localqueues", "resourceflavors"))),
        CrdSource("kserve/kserve", _tag(v.KSERVE_CRD), (
            *(f"config/crd/full/serving.kserve.io_{kind}.yaml"
              for kind in ("clusterservingruntimes", "inferenceservices", "servingruntimes")),
            *(f"config/crd/full/llmisvc/serving.kserve.io_{kind}.yaml"
              for kind in ("llminferenceserviceconfigs", "llminferenceservices")))),
    ]


POLICY = PlanPolicy(
    name="gpu-platform",
    prices=PRICES,
    pool_labels=POOL_LABELS,
    durations=DURATIONS,
    duration_rules=(chart_duration,),
    stateful=STATEFUL,
    stateless=STATELESS,
    guard_rules=(release_guard,),
    classified_by_rules=frozenset({HELM_RELEASE_TYPE}),
    upstream_charts=tuple(chart_pins()),
    upstream_crds=tuple(crd_sources()),
    # EKS add-on versions for the cluster's Kubernetes version, from the dated per-minor table
    invokes={ADDON_VERSION_INVOKE: answer_addon_version_lookup},
    readiness=stack_readiness,
    pins_report=format_report,
    # the plan summary: fixed costs, volume prices, and the stack's held pods, capacity, quotas,
    # prerequisites and node setup (gpu_platform.readiness.costs / .summary)
    cost_rules=(fixed_cost_rule,),
    storage_prices=STORAGE_PRICES,
    block_provisioners=BLOCK_PROVISIONERS,
    summary_facts=stack_summary_facts,
)

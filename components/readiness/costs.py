"""Fixed costs of this library's AWS resources, as plan-summary cost rules (``PlanPolicy.cost_rules``).

Each rule reads one resource's inputs as the plan records them and prices it from dated tables:
the EKS control plane at the support tier its version and ``upgradePolicy`` bill on the day of
the plan (``catalog.eks_versions.control_plane_hourly``); NAT gateways, ElastiCache nodes and RDS
instances (with their allocated storage) from ``catalog.service_prices``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from gpu_platform.catalog.eks_versions import CONTROL_PLANE_PRICING_SOURCE, control_plane_hourly
from gpu_platform.catalog.service_prices import (
    EBS_GB_MONTH,
    ELASTICACHE_NODE_HOUR,
    HOURS_PER_MONTH,
    NAT_GATEWAY_HOUR,
    RDS_INSTANCE_HOUR,
    RDS_STORAGE_GB_MONTH,
)
from gpu_platform.plan.capture import Registration
from gpu_platform.plan.policy import UnitPrice
from gpu_platform.plan.summary import FixedCost

EKS_CLUSTER_TYPE = "aws:eks/cluster:Cluster"
NAT_TYPE = "aws:ec2/natGateway:NatGateway"
CACHE_GROUP_TYPE = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_CLUSTER_TYPE = "aws:elasticache/cluster:Cluster"
RDS_TYPE = "aws:rds/instance:Instance"

# $/GB-month by EBS volume type, for the summary's root volumes and block claims
STORAGE_PRICES: dict[str, UnitPrice] = {
    name: UnitPrice(price.usd, "GB-month", price.note()) for name, price in EBS_GB_MONTH.items()
}
# provisioners whose claims are EBS volumes, with the type their class defaults to
# (aws-ebs-csi-driver: parameters.type defaults to gp3)
BLOCK_PROVISIONERS: dict[str, str] = {"ebs.csi.aws.com": "gp3"}


def _cache_nodes(resource: Registration) -> int:
    inputs = resource.inputs
    if resource.type == CACHE_CLUSTER_TYPE:
        return int(inputs.get("numCacheNodes") or 1)
    if inputs.get("numCacheClusters"):
        return int(inputs["numCacheClusters"])
    groups = int(inputs.get("numNodeGroups") or 1)
    return groups * (1 + int(inputs.get("replicasPerNodeGroup") or 0))


def fixed_cost_rule(resource: Registration) -> Iterator[FixedCost]:
    inputs = resource.inputs
    if resource.type == EKS_CLUSTER_TYPE:
        rate, tier = control_plane_hourly(inputs, date.today())
        yield FixedCost(f"EKS control plane {resource.name}",
                        f"1 cluster, {tier} support (Kubernetes {inputs.get('version')})", rate,
                        CONTROL_PLANE_PRICING_SOURCE)
    elif resource.type == NAT_TYPE:
        yield FixedCost(f"NAT gateway {resource.name}", "1 gateway (data processed not counted)",
                        NAT_GATEWAY_HOUR.usd, NAT_GATEWAY_HOUR.note())
    elif resource.type in (CACHE_GROUP_TYPE, CACHE_CLUSTER_TYPE):
        node_type, nodes = str(inputs.get("nodeType")), _cache_nodes(resource)
        price = ELASTICACHE_NODE_HOUR.get(node_type)
        yield FixedCost(f"ElastiCache {resource.name}", f"{nodes} x {node_type}",
                        None if price is None else price.usd * nodes,
                        "no list price for this node type" if price is None else price.note())
    elif resource.type == RDS_TYPE:
        instance_class = str(inputs.get("instanceClass"))
        price = RDS_INSTANCE_HOUR.get(instance_class)
        yield FixedCost(f"RDS {resource.name}", f"1 x {instance_class}",
                        None if price is None else price.usd,
                        "no list price for this class" if price is None else price.note())
        storage = RDS_STORAGE_GB_MONTH.get(str(inputs.get("storageType") or "gp3"))
        gb = float(inputs.get("allocatedStorage") or 0)
        if gb and storage is not None:
            yield FixedCost(f"RDS {resource.name} storage", f"{gb:,.0f} GB",
                            gb * storage.usd / HOURS_PER_MONTH, storage.note())


__all__ = ["BLOCK_PROVISIONERS", "STORAGE_PRICES", "fixed_cost_rule"]

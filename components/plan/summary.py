"""The plan summary an operator decides on: what the stack costs at rest and at most, what it can
run against what teams were promised, and what must exist or be done by hand before ``pulumi up``.

Generic: it reads the plan (node groups, their launch templates, claims, secrets and namespaces
referenced) and is told the domain through the ``PlanPolicy`` (``cost_rules`` price resources
such as control planes, NAT gateways and data stores; ``storage_prices`` price block volumes;
``summary_facts`` places the pods that workloads keep running, describes pools, quotas,
prerequisites and node setup of the environment; ``pins_report`` lists the pins).

Steady-state minimum ("floor"): each pool runs max(its minimum size, the nodes the pods it
holds need). Those pods are the domain's: workloads' minimum replicas placed on pools by its
scheduling model. Nodes are counted by first-fit decreasing bin-packing of the pods' requests
(GPUs, then CPU, then memory) against one node's allocatable, the pool's minimum nodes filled
first; a workload marked one-per-node (host-network cache workers) never puts two pods on a
node. Fixed costs run every hour. Monthly figures are 730 hours.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from gpu_platform.config.yamlio import safe_load
from gpu_platform.plan.capture import Registration
from gpu_platform.plan.cost import NODE_GROUP_TYPE, PoolCost, environment_cost
from gpu_platform.plan.model import Plan, helm_release_manifest
from gpu_platform.plan.policy import PlanPolicy, resolve
from gpu_platform.plan.readiness import Allocatable
from gpu_platform.plan.readiness.k8s import quantity
from gpu_platform.plan.summary_checks import placeholders, prerequisites

HOURS_PER_MONTH = 730
LAUNCH_TEMPLATE_TYPE = "aws:ec2/launchTemplate:LaunchTemplate"
GIB = 2**30


@dataclass(frozen=True)
class HeldPod:
    """``replicas`` pods of one workload that stay running, placed on ``pool``."""

    workload: str
    pool: str
    replicas: int
    cpu_millis: int
    memory_bytes: int
    gpus: int
    one_per_node: bool = False


@dataclass(frozen=True)
class CapacityRow:
    """One GPU pool: what a node schedules and what teams may use of it."""

    pool: str
    gpus: str  # "8x H100-80GB"
    sharing: str  # "whole GPUs", "time-slicing x4", "MIG 3g.40gb x2"
    units_per_node: int  # nvidia.com/gpu a node advertises
    min_nodes: int
    max_nodes: int
    quotas: Mapping[str, int] = field(default_factory=dict)  # team -> GPUs of this pool

    @property
    def units_at_max(self) -> int:
        return self.units_per_node * self.max_nodes


@dataclass(frozen=True)
class NodeSetup:
    """Labels and taints to put on an existing cluster's nodes of one pool, by hand."""

    pool: str
    labels: Mapping[str, str]
    taints: Sequence[str]  # key=value:Effect


@dataclass(frozen=True)
class SummaryFacts:
    """What the domain tells the summary about one stack (``PlanPolicy.summary_facts``)."""

    held: Sequence[HeldPod] = ()
    shapes: Mapping[str, Allocatable | None] = field(default_factory=dict)  # pool -> one node
    capacity: Sequence[CapacityRow] = ()
    team_quotas: Mapping[str, int] = field(default_factory=dict)  # team -> GPUs, all pools
    prerequisites: Sequence[str] = ()
    node_setup: Sequence[NodeSetup] = ()
    default_storage_class: str | None = None  # a declared default class the plan does not create


@dataclass(frozen=True)
class FixedCost:
    """A cost that runs every hour whatever the load: ``usd_hour`` for the whole line."""

    item: str
    quantity: str  # "1 cluster", "3 nodes x cache.r7g.xlarge", "550 GB gp3"
    usd_hour: float | None
    source: str


@dataclass(frozen=True)
class PoolFloor:
    pool: str
    instance_type: str
    min_size: int
    max_size: int
    floor_nodes: int
    price: float | None
    spot: bool
    holders: tuple[str, ...]  # workloads whose pods keep nodes of this pool
    over_max: bool  # the held pods need more nodes than maxSize

    @property
    def hourly_floor(self) -> float | None:
        return None if self.price is None else self.price * self.floor_nodes

    @property
    def hourly_max(self) -> float | None:
        return None if self.price is None else self.price * self.max_size


@dataclass
class Summary:
    pools: list[PoolFloor]
    fixed: list[FixedCost]
    capacity: list[CapacityRow]
    team_quotas: dict[str, int]
    prerequisites: list[str]
    node_setup: list[NodeSetup]
    pins: list[str]
    placeholders: list[str]

    @property
    def fixed_hourly(self) -> float:
        return sum(f.usd_hour or 0.0 for f in self.fixed)

    @property
    def floor_hourly(self) -> float:
        return sum(p.hourly_floor or 0.0 for p in self.pools) + self.fixed_hourly

    @property
    def max_hourly(self) -> float:
        return sum(p.hourly_max or 0.0 for p in self.pools) + self.fixed_hourly

    def to_dict(self) -> dict[str, Any]:
        return {
            "cost": {
                "floorUsdHour": round(self.floor_hourly, 4),
                "floorUsdMonth": round(self.floor_hourly * HOURS_PER_MONTH, 2),
                "maxUsdHour": round(self.max_hourly, 4),
                "maxUsdMonth": round(self.max_hourly * HOURS_PER_MONTH, 2),
                "fixedUsdHour": round(self.fixed_hourly, 4),
                "hoursPerMonth": HOURS_PER_MONTH,
                "pools": [{"pool": p.pool, "instanceType": p.instance_type, "minSize": p.min_size,
                           "maxSize": p.max_size, "floorNodes": p.floor_nodes, "usdHourPerNode": p.price,
                           "spot": p.spot, "heldBy": list(p.holders), "overMax": p.over_max}
                          for p in self.pools],
                "fixed": [{"item": f.item, "quantity": f.quantity, "usdHour": f.usd_hour,
                           "source": f.source} for f in self.fixed],
            },
            "capacity": [{"pool": c.pool, "gpus": c.gpus, "sharing": c.sharing,
                          "unitsPerNode": c.units_per_node, "minNodes": c.min_nodes,
                          "maxNodes": c.max_nodes, "unitsAtMax": c.units_at_max,
                          "quotas": dict(c.quotas)} for c in self.capacity],
            "teamQuotas": dict(self.team_quotas),
            "prerequisites": list(self.prerequisites),
            "nodeSetup": [{"pool": n.pool, "labels": dict(n.labels), "taints": list(n.taints)}
                          for n in self.node_setup],
            "pins": list(self.pins),
            "placeholders": list(self.placeholders),
        }


# --- node floors --------------------------------------------------------------------------------

def nodes_needed(pods: Sequence[HeldPod], shape: Allocatable | None, existing: int = 0) -> int:
    """Nodes of one shape the pods need (first-fit decreasing), ``existing`` empty nodes first."""
    singles = [p for p in pods for _ in range(p.replicas)]
    if not singles:
        return existing
    if shape is None or shape.cpu_millis is None or shape.memory_bytes is None:
        spread = max((p.replicas for p in pods if p.one_per_node), default=1)
        return max(existing, spread)
    singles.sort(key=lambda p: (p.gpus, p.cpu_millis, p.memory_bytes), reverse=True)
    nodes: list[list[Any]] = [[shape.gpus, shape.cpu_millis, shape.memory_bytes, set()]
                              for _ in range(existing)]
    for pod in singles:
        for node in nodes:
            fits = node[0] >= pod.gpus and node[1] >= pod.cpu_millis and node[2] >= pod.memory_bytes
            if fits and not (pod.one_per_node and pod.workload in node[3]):
                break
        else:
            node = [shape.gpus, shape.cpu_millis, shape.memory_bytes, set()]
            nodes.append(node)
        node[0] -= pod.gpus
        node[1] -= pod.cpu_millis
        node[2] -= pod.memory_bytes
        node[3].add(pod.workload)
    return len(nodes)


def pool_floors(plan: Plan, facts: SummaryFacts, policy: PlanPolicy) -> list[PoolFloor]:
    floors = []
    for pool in environment_cost(plan, policy).pools:
        held = [p for p in facts.held if p.pool == pool.pool]
        needed = nodes_needed(held, facts.shapes.get(pool.pool), pool.min_size)
        floors.append(PoolFloor(
            pool.pool, pool.instance_type, pool.min_size, pool.max_size,
            min(needed, pool.max_size), pool.price_usd_hour, pool.spot,
            tuple(dict.fromkeys(p.workload for p in held)), needed > pool.max_size))
    return floors


# --- fixed costs --------------------------------------------------------------------------------

def _launch_template(plan: Plan, node_group: Registration) -> Registration | None:
    templates = {r.urn: r for r in plan.find(LAUNCH_TEMPLATE_TYPE)}
    return next((templates[d] for d in node_group.dependencies if d in templates), None)


def _gb_month(policy: PlanPolicy, volume_type: str, gb: float, what: str) -> FixedCost:
    price = policy.storage_prices.get(volume_type)
    if price is None:
        return FixedCost(what, f"{gb:,.0f} GB {volume_type}", None, "no price for this volume type")
    return FixedCost(what, f"{gb:,.0f} GB {volume_type}", gb * price.usd / HOURS_PER_MONTH,
                     f"${price.usd}/GB-month: {price.source}")


def root_volumes(plan: Plan, floors: Sequence[PoolFloor], policy: PlanPolicy) -> Iterator[FixedCost]:
    """Each node's root volume (its launch template's block devices, else the node group's
    ``diskSize``), for the nodes of the floor."""
    by_group = {p.node_group: p for p in environment_cost(plan, policy).pools}
    nodes = {f.pool: f.floor_nodes for f in floors}
    sizes: dict[str, float] = {}
    for group in plan.find(NODE_GROUP_TYPE):
        pool: PoolCost = by_group[group.name]
        count = nodes.get(pool.pool, pool.min_size)
        template = _launch_template(plan, group)
        devices = (template.inputs.get("blockDeviceMappings") or []) if template else []
        found = [(str((d.get("ebs") or {}).get("volumeType") or "gp3"),
                  float((d.get("ebs") or {}).get("volumeSize") or 0)) for d in devices]
        if not found and group.inputs.get("diskSize"):
            found = [("gp3", float(group.inputs["diskSize"]))]
        for volume_type, gb in found:
            sizes[volume_type] = sizes.get(volume_type, 0.0) + gb * count
    for volume_type, gb in sorted(sizes.items()):
        if gb:
            yield _gb_month(policy, volume_type, gb, "node root volumes (floor nodes)")


def _walk_claims(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == "volumeClaimTemplate" and isinstance(item, Mapping):
                yield item
            elif key == "volumeClaimTemplates" and isinstance(item, list):
                yield from (t for t in item if isinstance(t, Mapping))
            else:
                yield from _walk_claims(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_claims(item)


def claim_volumes(plan: Plan, facts: SummaryFacts, policy: PlanPolicy) -> Iterator[FixedCost]:
    """Claims (PersistentVolumeClaims, claim templates in objects and Helm values) whose
    StorageClass provisions block volumes the policy prices (``block_provisioners``)."""
    objects = plan.kubernetes_objects()
    classes: dict[str, Mapping[str, Any]] = {}
    default = facts.default_storage_class
    for obj in objects:
        if obj.get("kind") == "StorageClass":
            meta = obj.get("metadata") or {}
            classes[meta.get("name", "")] = obj
            if str((meta.get("annotations") or {}).get(
                    "storageclass.kubernetes.io/is-default-class")) == "true":
                default = meta.get("name")
    claims: list[Mapping[str, Any]] = [o for o in objects if o.get("kind") == "PersistentVolumeClaim"]
    for obj in objects:
        if obj.get("kind") != "PersistentVolumeClaim":
            claims.extend(_walk_claims(obj.get("spec") or {}))
    for release in plan.helm_releases():
        claims.extend(_walk_claims(helm_release_manifest(release).get("values") or {}))
    sizes: dict[str, float] = {}
    for claim in claims:
        spec = claim.get("spec") or {}
        name = spec.get("storageClassName", default)
        storage_class = classes.get(str(name)) if name else None
        if storage_class is None:
            continue
        default_type = policy.block_provisioners.get(str(storage_class.get("provisioner")))
        if default_type is None:
            continue  # file systems and object storage: billed by use, not by claim
        volume_type = str((storage_class.get("parameters") or {}).get("type") or default_type)
        size = quantity(((spec.get("resources") or {}).get("requests") or {}).get("storage"))
        if size is not None:
            sizes[volume_type] = sizes.get(volume_type, 0.0) + float(size) / GIB
    for volume_type, gb in sorted(sizes.items()):
        yield _gb_month(policy, volume_type, gb, "persistent volume claims (block)")


def fixed_costs(plan: Plan, floors: Sequence[PoolFloor], facts: SummaryFacts,
                policy: PlanPolicy) -> list[FixedCost]:
    found: list[FixedCost] = []
    for resource in plan.resources:
        for rule in policy.cost_rules:
            found.extend(rule(resource))
    found.extend(root_volumes(plan, floors, policy))
    found.extend(claim_volumes(plan, facts, policy))
    return found


# --- the summary --------------------------------------------------------------------------------

def build_summary(plan: Plan, facts: SummaryFacts | None = None, policy: PlanPolicy | None = None,
                  *, config_document: Mapping[str, Any] | None = None,
                  pins: Sequence[str] = ()) -> Summary:
    rules = resolve(policy)
    facts = facts or SummaryFacts()
    floors = pool_floors(plan, facts, rules)
    return Summary(
        pools=floors,
        fixed=fixed_costs(plan, floors, facts, rules),
        capacity=list(facts.capacity),
        team_quotas=dict(facts.team_quotas),
        prerequisites=[*prerequisites(plan), *facts.prerequisites],
        node_setup=list(facts.node_setup),
        pins=list(pins),
        placeholders=placeholders(config_document or {}),
    )


def compact_pins(report: str) -> list[str]:
    """One line per pin from a pins report (its pin lines; sources and flags folded in)."""
    pins: list[str] = []
    for line in report.splitlines()[1:]:
        if line.startswith("      FLAG:") and pins:
            pins[-1] += f" [{line.strip()}]"
        elif line.startswith(("  ", "! ")) and not line.startswith("      "):
            pins.append(line.strip().removeprefix("! "))
    return pins


def stack_summary(plan: Plan, *, project_dir: Path, stack: str, config_path: Path,
                  policy: PlanPolicy | None = None, today: date | None = None) -> Summary:
    """The summary of one stack: the policy's facts for it, its stack file's placeholders, pins."""
    rules = resolve(policy)
    facts = None
    if rules.summary_facts is not None:
        facts = rules.summary_facts(plan, project_dir=project_dir, stack=stack, config_path=config_path)
    document = safe_load(config_path.read_text()) if config_path.is_file() else None
    pins = compact_pins(rules.pins_report(today or date.today())[0]) if rules.pins_report else []
    return build_summary(plan, facts, rules,
                         config_document=document if isinstance(document, Mapping) else None,
                         pins=pins)


__all__ = [
    "HOURS_PER_MONTH", "CapacityRow", "FixedCost", "HeldPod", "NodeSetup", "PoolFloor", "Summary",
    "SummaryFacts", "build_summary", "claim_volumes", "compact_pins", "fixed_costs", "nodes_needed",
    "pool_floors", "root_volumes", "stack_summary",
]

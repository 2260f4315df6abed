"""The plan summary: cost floor with held nodes and fixed costs, capacity against quotas,
prerequisites, node setup, pins and placeholders (gpu_platform.plan.summary, the domain's facts
from gpu_platform.readiness.summary and .costs)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gpu_platform.catalog.instances import INSTANCE_TYPES
from gpu_platform.plan.cli import main
from gpu_platform.plan.model import Plan
from gpu_platform.plan.readiness import Allocatable
from gpu_platform.plan.summary import (
    HOURS_PER_MONTH,
    HeldPod,
    Summary,
    build_summary,
    compact_pins,
    nodes_needed,
    stack_summary,
)
from gpu_platform.plan.summary_checks import placeholders, prerequisites
from gpu_platform.plan.summary_text import format_summary
from gpu_platform.policy import POLICY

ROOT = Path(__file__).resolve().parents[1]
GIB = 2**30
NODE = Allocatable(cpu_millis=190_000, memory_bytes=2000 * GIB, gpus=8)


def pod(workload: str, replicas: int, *, cpu: int = 1000, memory: int = GIB, gpus: int = 0,
        one_per_node: bool = False) -> HeldPod:
    return HeldPod(workload, "p", replicas, cpu, memory, gpus, one_per_node)


# --- bin-packing ---------------------------------------------------------------------------------

def test_whole_node_pods_hold_one_node_each():
    assert nodes_needed([pod("ray#h100", 2, cpu=180_000, memory=1800 * GIB, gpus=8)], NODE) == 2


def test_small_pods_pack_onto_the_pools_minimum_nodes_first():
    pods = [pod("ray#h100", 2, cpu=180_000, memory=1800 * GIB, gpus=8), pod("small", 3, cpu=2000)]
    assert nodes_needed(pods, NODE) == 2  # the small ones fit beside the big ones
    assert nodes_needed(pods, NODE, existing=3) == 3  # minSize nodes exist anyway
    assert nodes_needed([], NODE, existing=1) == 1


def test_cpu_and_memory_limit_a_node_as_well_as_gpus():
    assert nodes_needed([pod("cpu-heavy", 3, cpu=100_000)], NODE) == 3
    assert nodes_needed([pod("mem-heavy", 3, memory=1500 * GIB)], NODE) == 3


def test_one_per_node_workloads_spread_but_share_nodes_with_others():
    cache = pod("fluid#worker", 4, cpu=0, memory=0, one_per_node=True)
    ray = pod("ray#h100", 2, cpu=180_000, memory=1800 * GIB, gpus=8)
    assert nodes_needed([cache], NODE) == 4
    assert nodes_needed([cache, ray], NODE) == 4
    assert nodes_needed([cache], None) == 4  # unknown node size: the spread still holds


# --- generic checks ------------------------------------------------------------------------------

def test_placeholders_flag_test_nets_and_secure_values_that_are_not_ciphertext():
    document = {"config": {
        "app:net": {"cidrs": ["203.0.113.0/24", "10.0.0.0/8"], "peer": "198.51.100.7"},
        "app:token": {"secure": "set-with-pulumi-config-set-secret"},
        "app:real": {"secure": "v1:4x5Hk1TLCnQ=:AbCdEfGh1234567890+/=="},
        "app:kms": {"secure": "AAABAHZ1bHRrZXlJZDEyMzQ1Njc4OTAxMjM0NTY3ODk="},
    }}
    assert placeholders(document) == [
        "app:net.cidrs[0]: 203.0.113.0/24 is a documentation range (RFC 5737 TEST-NET) that routes "
        "nowhere: replace it",
        "app:net.peer: 198.51.100.7 is a documentation range (RFC 5737 TEST-NET) that routes nowhere: "
        "replace it",
        "app:token: secure value 'set-with-pulumi-config-set-secret' is not ciphertext: set it with "
        "`pulumi config set --secret`",
    ]


def test_pins_report_is_compacted_to_one_line_per_pin():
    report = ("Pinned versions on 2026-11-26 (2 pins; flags: ...)\n"
              "  A: a @ repo 1.0 (released 2026-01-01)\n      source: https://x\n"
              "! B: b @ repo 0.1 (released 2024-01-01)\n      source: https://y\n"
              "      FLAG: older than a year (2024-01-01)\n1 of 2 pins flagged\n")
    assert compact_pins(report) == [
        "A: a @ repo 1.0 (released 2026-01-01)",
        "B: b @ repo 0.1 (released 2024-01-01) [FLAG: older than a year (2024-01-01)]",
    ]


# --- environments --------------------------------------------------------------------------------

def summary_of(plan_env, stack: str) -> Summary:
    return stack_summary(plan_env(stack), project_dir=ROOT, stack=stack,
                         config_path=ROOT / "stacks" / f"Pulumi.{stack}.yaml", policy=POLICY)


def test_prod_floor_includes_the_p5_nodes_ray_holds_and_fixed_costs(plan_env):
    summary = summary_of(plan_env, "prod")
    p5 = INSTANCE_TYPES["p5.48xlarge"].price_usd_hour
    assert p5 is not None
    train = next(p for p in summary.pools if p.pool == "train")
    assert train.min_size == 0 and train.floor_nodes >= 2  # minReplicas 2 of 8-GPU workers
    assert "RayCluster/llm/llm#h100" in train.holders
    assert summary.floor_hourly > 2 * p5  # above the held p5 nodes alone
    fixed = {f.item.split(" platform")[0]: f for f in summary.fixed}
    assert fixed["EKS control plane"].usd_hour == 0.10  # STANDARD support tier
    assert fixed["NAT gateway"].usd_hour == 0.045
    assert fixed["ElastiCache"].quantity == "3 x cache.r7g.xlarge" and fixed["ElastiCache"].usd_hour
    assert any(f.item.startswith("node root volumes") and f.usd_hour for f in summary.fixed)
    assert summary.floor_hourly >= sum(p.hourly_floor or 0 for p in summary.pools) + 0.10 + 0.045
    cost = summary.to_dict()["cost"]
    assert cost["floorUsdMonth"] == round(summary.floor_hourly * HOURS_PER_MONTH, 2)
    assert cost["maxUsdHour"] >= cost["floorUsdHour"]
    text = format_summary(summary)
    assert "total $/month (730 h)" in text and "RayCluster/llm/llm#h100" in text


def test_prod_capacity_prerequisites_and_placeholders(plan_env):
    summary = summary_of(plan_env, "prod")
    rows = {c.pool: c for c in summary.capacity}
    assert (rows["infer"].sharing, rows["infer"].units_per_node) == ("whole GPUs", 8)
    assert (rows["notebooks"].sharing, rows["notebooks"].units_at_max) == ("time-slicing x2", 8)
    assert dict(rows["train"].quotas) == {"llm": 24, "research": 8}
    assert summary.team_quotas == {"llm": 32, "research": 16}
    assert any(p.startswith("Secret llm/ray-redis (referenced by RayCluster/llm/llm")
               for p in summary.prerequisites)
    assert any("redis.llm.svc:6379" in p for p in summary.prerequisites)
    assert any(p.startswith("gpu-platform:aws.cluster.publicAccessCidrs[0]: 203.0.113.0/24")
               for p in summary.placeholders)
    assert any(".authToken: secure value" in p for p in summary.placeholders)
    assert summary.node_setup == []  # EKS: the compute layer labels and taints nodes
    assert len(summary.pins) > 20 and any(p.startswith("GPU_OPERATOR: gpu-operator") for p in summary.pins)


def test_dev_idles_with_the_fluid_worker_node_and_the_readme_says_so(plan_env):
    summary = summary_of(plan_env, "dev")
    a10g = next(p for p in summary.pools if p.pool == "a10g")
    assert (a10g.min_size, a10g.floor_nodes) == (0, 1)
    assert a10g.holders == ("JuiceFSRuntime/datasets/sample#worker",)
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Deploy time and cost in the plan summary", 1)[1].split("\n### ", 1)[0]
    claim = re.search(r"`dev` idles at \$([0-9.]+)/h \(\$([0-9,.]+)/month\)", section)
    assert claim, "the README section states dev's idle cost"
    hourly, monthly = float(claim.group(1)), float(claim.group(2).replace(",", ""))
    assert hourly == pytest.approx(summary.floor_hourly, rel=0.05), (
        f"README says dev idles at ${hourly}/h; the plan says ${summary.floor_hourly:.2f}/h")
    assert monthly == pytest.approx(summary.floor_hourly * HOURS_PER_MONTH, rel=0.05)


def test_onprem_lists_node_labels_and_taints_to_apply_by_hand(plan_env):
    summary = summary_of(plan_env, "onprem")
    assert summary.pools == [] and summary.fixed == []
    [setup] = summary.node_setup
    assert setup.pool == "a100"
    assert setup.labels["gpu-platform.io/pool"] == "a100"
    assert setup.labels["gpu-platform.io/role"] == "training"
    assert list(setup.taints) == ["nvidia.com/gpu=true:NoSchedule"]
    assert plan_env("onprem").outputs["gpuPools"]["a100"]["nodeLabels"] == dict(setup.labels)
    assert any("kubeconfig ~/.kube/onprem.yaml" in p for p in summary.prerequisites)
    assert "kubectl label/taint" in format_summary(summary)


def test_generic_prerequisites_skip_what_the_plan_creates():
    def obj(kind: str, ns: str | None, name: str, spec: dict | None = None) -> dict:
        meta = {"name": name, **({"namespace": ns} if ns else {})}
        return {"apiVersion": "v1", "kind": kind, "metadata": meta, **({"spec": spec} if spec else {})}
    from gpu_platform.plan.capture import Registration

    def reg(i: int, o: dict) -> Registration:
        return Registration(
            urn=f"urn:pulumi:t::p::kubernetes:x::r{i}", type=f"kubernetes:core/v1:{o['kind']}", name=f"r{i}",
            custom=True, parent=None, provider=None, dependencies=[], property_dependencies={}, inputs=o,
            secret_paths=[], protect=False, retain_on_delete=False, delete_before_replace=False,
            ignore_changes=[], replace_on_changes=[], aliases=[], remote=False)
    env = [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "made", "key": "k"}}},
           {"name": "B", "valueFrom": {"secretKeyRef": {"name": "missing", "key": "k"}}}]
    objects = [obj("Namespace", None, "app"), obj("Secret", "app", "made"),
               obj("Pod", "app", "web", {"containers": [{"name": "c", "env": env}]}),
               obj("ConfigMap", "elsewhere", "cfg")]
    plan = Plan("p", "t", [reg(i, o) for i, o in enumerate(objects)], {}, [])
    assert prerequisites(plan) == [
        "Secret app/missing (referenced by Pod/app/web; not created by the plan)",
        "Namespace elsewhere (referenced by ConfigMap/elsewhere/cfg; not created by the plan)",
    ]
    assert build_summary(plan).pools == []


def test_plan_command_prints_the_summary_and_writes_it_to_plan_json(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    main(["plan", "prod", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    for heading in ("Steady-state cost", "GPU capacity per pool", "Prerequisites", "Pins (",
                    "Placeholders in the stack file"):
        assert heading in out
    summary = json.loads((tmp_path / "plan.json").read_text())["summary"]
    assert set(summary) == {"cost", "capacity", "teamQuotas", "prerequisites", "nodeSetup", "pins",
                            "placeholders"}
    assert summary["cost"]["floorUsdHour"] > 2 * 55.0
    train = next(p for p in summary["cost"]["pools"] if p["pool"] == "train")
    assert "RayCluster/llm/llm#h100" in train["heldBy"]


# --- floors and fixed costs from a hand-made plan ------------------------------------------------

def _reg(name: str, type_: str, inputs: dict, dependencies: list[str] | None = None):
    from gpu_platform.plan.capture import Registration

    return Registration(
        urn=f"urn:pulumi:t::p::{type_}::{name}", type=type_, name=name, custom=True, parent=None,
        provider=None, dependencies=dependencies or [], property_dependencies={}, inputs=inputs,
        secret_paths=[], protect=False, retain_on_delete=False, delete_before_replace=False,
        ignore_changes=[], replace_on_changes=[], aliases=[], remote=False)


def test_floor_caps_at_max_size_and_prices_root_volumes_claims_and_data_stores():
    from gpu_platform.plan.summary import SummaryFacts

    template = _reg("lt", "aws:ec2/launchTemplate:LaunchTemplate", {"blockDeviceMappings": [
        {"deviceName": "/dev/xvda", "ebs": {"volumeSize": 500, "volumeType": "gp3"}}]})
    group = _reg("train-ng", "aws:eks/nodeGroup:NodeGroup", {
        "instanceTypes": ["p5.48xlarge"], "labels": {"gpu-platform.io/pool": "train"},
        "scalingConfig": {"minSize": 0, "maxSize": 2}}, [template.urn])
    storage_class = _reg("sc", "kubernetes:storage.k8s.io/v1:StorageClass", {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "provisioner": "ebs.csi.aws.com",
        "metadata": {"name": "gp3", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}})
    claim = _reg("pvc", "kubernetes:core/v1:PersistentVolumeClaim", {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "default"},
        "spec": {"resources": {"requests": {"storage": "100Gi"}}}})
    cache = _reg("meta", "aws:elasticache/cluster:Cluster",
                 {"nodeType": "cache.t4g.small", "numCacheNodes": 2})
    rds = _reg("db", "aws:rds/instance:Instance", {"instanceClass": "db.t4g.medium", "allocatedStorage": 20})
    plan = Plan("p", "t", [template, group, storage_class, claim, cache, rds], {}, [])
    held = [HeldPod("ray#h100", "train", 3, 180_000, 1800 * GIB, 8)]
    summary = build_summary(plan, SummaryFacts(held=held, shapes={"train": NODE}), POLICY)
    [train] = summary.pools
    assert (train.floor_nodes, train.over_max, train.holders) == (2, True, ("ray#h100",))
    fixed = {f.item: f for f in summary.fixed}
    assert fixed["node root volumes (floor nodes)"].quantity == "1,000 GB gp3"
    assert fixed["node root volumes (floor nodes)"].usd_hour == pytest.approx(1000 * 0.08 / 730)
    assert fixed["persistent volume claims (block)"].quantity == "100 GB gp3"
    assert fixed["ElastiCache meta"].usd_hour == pytest.approx(2 * 0.032)
    assert fixed["RDS db"].usd_hour == pytest.approx(0.065)
    assert fixed["RDS db storage"].usd_hour == pytest.approx(20 * 0.115 / 730)
    assert "held pods need more than maxSize 2" in format_summary(summary)


def test_fluid_workers_spread_unless_they_use_the_container_network():
    from gpu_platform.plan.readiness import NodePool
    from gpu_platform.readiness.summary import held_pods

    pool = NodePool("train", {"gpu-platform.io/pool": "train"}, [], NODE, gpu=True)
    dataset = {"kind": "Dataset", "metadata": {"name": "d", "namespace": "ds"}, "spec": {}}

    def runtime(worker: dict) -> dict:
        return {"kind": "JuiceFSRuntime", "metadata": {"name": "d", "namespace": "ds"},
                "spec": {"replicas": 3, "worker": worker}}

    [host] = held_pods([dataset, runtime({})], [pool])
    [container] = held_pods([dataset, runtime({"networkMode": "ContainerNetwork"})], [pool])
    assert (host.replicas, host.one_per_node, container.one_per_node) == (3, True, False)
    assert nodes_needed([host], NODE) == 3 and nodes_needed([container], NODE) == 1

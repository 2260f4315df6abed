"""The EC2 instance catalog: a pool of every type plans (node group, EFA interfaces, the
autoscaler's GPU label, memlock on EFA pools) and is priced or named as unpriced; EFA support
agrees with the AWS EFA device plugin's instance list."""

from __future__ import annotations

import base64

import pytest
import yaml

from gpu_platform.aws import GpuNodePool, GpuNodePoolArgs
from gpu_platform.aws.launch import CONTAINERD_MEMLOCK_DROPIN
from gpu_platform.catalog.gpus import GPU_MODELS
from gpu_platform.catalog.instances import INSTANCE_TYPES
from gpu_platform.core.pools import GpuPool
from gpu_platform.plan.cost import environment_cost
from gpu_platform.testing.conformance import upstream_root

CLUSTER = {"name": "gpu-dev", "nodeRoleArn": "arn:aws:iam::1:role/nodes",
           "privateSubnetIds": {"us-east-1a": "subnet-a", "us-east-1b": "subnet-b"},
           "vpcId": "vpc-1", "securityGroupId": "sg-1"}
LT = "aws:ec2/launchTemplate:LaunchTemplate"
NG = "aws:eks/nodeGroup:NodeGroup"
ACCELERATOR = "k8s.amazonaws.com/accelerator"


def test_catalog_covers_every_current_nvidia_family() -> None:
    families = {name.split(".")[0] for name in INSTANCE_TYPES}
    assert families == {"g4dn", "g5", "g6", "gr6", "g6e", "g7", "g7e", "p4d", "p4de", "p5",
                        "p5e", "p5en", "p6-b200", "p6-b300"}
    assert len(INSTANCE_TYPES) == 53
    assert {t.gpu_model for t in INSTANCE_TYPES.values()} <= set(GPU_MODELS)


def test_gpu_memory_per_node() -> None:
    memory = {n: INSTANCE_TYPES[n].gpu_memory_gib for n in (
        "g4dn.xlarge", "g5.48xlarge", "g6e.48xlarge", "g7.48xlarge", "g7e.48xlarge", "p4d.24xlarge",
        "p5.48xlarge", "p5en.48xlarge", "p6-b200.48xlarge", "p6-b300.48xlarge")}
    assert memory == {"g4dn.xlarge": 16, "g5.48xlarge": 192, "g6e.48xlarge": 384, "g7.48xlarge": 256,
                      "g7e.48xlarge": 768, "p4d.24xlarge": 320, "p5.48xlarge": 640,
                      "p5en.48xlarge": 1128, "p6-b200.48xlarge": 1440, "p6-b300.48xlarge": 2304}


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_every_gpu_node_group_of_the_environments_carries_the_autoscaler_gpu_label(plan_env, env) -> None:
    groups = [g for g in plan_env(env).find(NG) if g.inputs["labels"].get("gpu-platform.io/pool")]
    assert groups
    for group in groups:
        value = group.inputs["labels"][ACCELERATOR]
        assert value.startswith("nvidia-")
        assert group.inputs["tags"][f"k8s.io/cluster-autoscaler/node-template/label/{ACCELERATOR}"] == value
    system = [g for g in plan_env(env).find(NG) if not g.inputs["labels"].get("gpu-platform.io/pool")]
    assert all(ACCELERATOR not in g.inputs["labels"] for g in system)  # CPU nodes are not GPU nodes


def test_every_entry_has_a_dated_price_or_the_reason_it_has_none() -> None:
    for t in INSTANCE_TYPES.values():
        assert t.price_date[:4] in ("2025", "2026"), t.name
        assert t.price_source.strip(), t.name
        if t.price_usd_hour is None:
            assert any(word in t.price_source for word in ("capacity blocks", "no us-east-1")), t.name
    unpriced = sorted(n for n, t in INSTANCE_TYPES.items() if t.price_usd_hour is None)
    assert unpriced == ["g7.12xlarge", "g7.24xlarge", "g7.2xlarge", "g7.48xlarge", "g7.4xlarge",
                        "g7.8xlarge", "p5e.48xlarge", "p6-b300.48xlarge"]


def test_network_cards_and_efa_interfaces() -> None:
    cards = {n: (t.network_cards, t.max_efa_interfaces, t.efa_cards[:1])
             for n, t in INSTANCE_TYPES.items() if t.network_cards > 1}
    assert cards == {
        "g6e.24xlarge": (2, 2, (0,)), "g6e.48xlarge": (4, 4, (0,)),
        "g7.48xlarge": (2, 2, (0,)), "g7e.24xlarge": (2, 2, (0,)), "g7e.48xlarge": (4, 4, (0,)),
        "p4d.24xlarge": (4, 4, (0,)), "p4de.24xlarge": (4, 4, (0,)),
        "p5.48xlarge": (32, 32, (0,)), "p5e.48xlarge": (32, 32, (0,)),
        "p5en.48xlarge": (16, 16, (0,)), "p6-b200.48xlarge": (8, 8, (0,)),
        "p6-b300.48xlarge": (17, 16, (1,)),  # card 0: the primary ENA interface only
    }
    for t in INSTANCE_TYPES.values():
        assert (t.max_efa_interfaces > 0) is t.efa, t.name
        assert max(t.efa_cards, default=0) < t.network_cards, t.name


def test_efa_types_are_exactly_those_the_efa_device_plugin_supports() -> None:
    root = upstream_root()
    if root is None:
        pytest.skip("no shared/upstream folder: the EFA device plugin's values are unavailable")
    values = yaml.safe_load((root / "charts" / "aws-efa-k8s-device-plugin" / "values.yaml").read_text())
    supported = set(values["supportedInstanceLabels"]["values"])
    assert {n for n, t in INSTANCE_TYPES.items() if t.efa} == supported & set(INSTANCE_TYPES)


@pytest.mark.parametrize("name", sorted(INSTANCE_TYPES))
def test_a_pool_of_each_type_plans(run_component, name: str) -> None:
    spec = INSTANCE_TYPES[name]
    pool = GpuPool.model_validate({"role": "training", "gpu": {"model": spec.gpu_model,
                                   "count": spec.gpu_count}, "maxSize": 2, "driver": "preinstalled"})
    efa = {"enabled": True, "availabilityZone": "us-east-1a"} if spec.efa else {}

    def program() -> None:
        GpuNodePool("pool", GpuNodePoolArgs(
            pool_name="gpus", pool=pool, cluster=CLUSTER,
            node_pool={"instanceType": name, "efa": efa}))

    plan = run_component(program)
    ng = plan.one(NG, "pool-ng").inputs
    assert ng["instanceTypes"] == [name]
    accelerator = GPU_MODELS[spec.gpu_model].autoscaler_accelerator
    assert ng["labels"][ACCELERATOR] == accelerator
    assert ng["tags"][f"k8s.io/cluster-autoscaler/node-template/label/{ACCELERATOR}"] == accelerator
    assert ng["tags"]["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"] == str(
        spec.gpu_count)

    lt = plan.one(LT, "pool-lt").inputs
    interfaces = lt.get("networkInterfaces", [])
    user_data = base64.b64decode(lt["userData"]).decode() if "userData" in lt else ""
    if spec.efa:
        efa_cards = [i["networkCardIndex"] for i in interfaces if i["interfaceType"] == "efa"]
        assert efa_cards == list(spec.efa_cards)
        assert interfaces[0]["networkCardIndex"] == 0 and interfaces[0]["deviceIndex"] == 0
        assert f"cat > {CONTAINERD_MEMLOCK_DROPIN}" in user_data
        assert "LimitMEMLOCK=infinity" in user_data
    else:
        assert interfaces == []
        assert "LimitMEMLOCK" not in user_data

    [cost] = environment_cost(plan).pools
    assert (cost.instance_type, cost.price_usd_hour) == (name, spec.price_usd_hour)
    if spec.price_usd_hour is None:
        assert environment_cost(plan).unpriced == ("gpus",)
    else:
        assert cost.hourly_max == pytest.approx(2 * spec.price_usd_hour)

"""AWS compute config: instance catalog, CIDR maths, exact errors, cross-checks with gpuPools."""

import pytest

from gpu_platform.aws import AwsConfig, check_aws_pools, driver_preinstalled
from gpu_platform.aws.cidrs import zone_subnets
from gpu_platform.catalog.gpus import GPU_MODELS
from gpu_platform.catalog.instances import INSTANCE_TYPES
from gpu_platform.config import ConfigError, validate_model
from gpu_platform.core.pools import GpuPool

ZONES = {"availabilityZones": ["us-east-1a", "us-east-1b"]}


def aws(node_pools, vpc=ZONES):
    return {"cluster": {"name": "gpu-prod", "vpc": vpc}, "nodePools": node_pools}


def errors(data):
    with pytest.raises(ConfigError) as info:
        validate_model(AwsConfig, data)
    return [str(i) for i in info.value.issues]


def pool(model, count, **extra):
    return GpuPool.model_validate({"role": "training", "gpu": {"model": model, "count": count}, **extra})


def test_catalog_names_known_gpus_and_the_efa_layout_of_p_instances():
    assert {t.gpu_model for t in INSTANCE_TYPES.values()} <= set(GPU_MODELS)
    p5 = INSTANCE_TYPES["p5.48xlarge"]
    assert (p5.gpu_model, p5.gpu_count, p5.network_cards, p5.max_efa_interfaces) == ("H100-80GB", 8, 32, 32)
    assert (INSTANCE_TYPES["p4d.24xlarge"].gpu_model, INSTANCE_TYPES["p4d.24xlarge"].max_efa_interfaces) == (
        "A100-40GB", 4)
    assert INSTANCE_TYPES["p4de.24xlarge"].gpu_model == "A100-80GB"
    assert not INSTANCE_TYPES["g5.xlarge"].efa


def test_subnets_split_the_vpc_private_first():
    subnets = zone_subnets("10.0.0.0/16", ["a", "b", "c"])
    assert [(z.availability_zone, z.private, z.public) for z in subnets] == [
        ("a", "10.0.0.0/19", "10.0.96.0/19"),
        ("b", "10.0.32.0/19", "10.0.128.0/19"),
        ("c", "10.0.64.0/19", "10.0.160.0/19"),
    ]


def test_efa_on_an_instance_without_efa_names_the_pool():
    assert errors(aws({"dev": {"instanceType": "g5.xlarge",
                               "efa": {"enabled": True, "availabilityZone": "us-east-1a"}}})) == [
        "nodePools.dev.efa.enabled: g5.xlarge does not support EFA; set efa.enabled: false; "
        "A10G types with EFA: g5.8xlarge, g5.12xlarge, g5.16xlarge, g5.24xlarge, g5.48xlarge "
        "(got true)"
    ]


def test_efa_needs_an_explicit_zone_of_the_cluster():
    assert errors(aws({"train": {"instanceType": "p5.48xlarge", "efa": {"enabled": True}}})) == [
        "nodePools.train.efa.availabilityZone: is required when efa.enabled is true: EFA nodes share "
        "a cluster placement group in one zone; name one of the cluster's zones, e.g. us-east-1a"
    ]
    assert errors(aws({"train": {"instanceType": "p5.48xlarge",
                                 "efa": {"enabled": True, "availabilityZone": "us-east-1f"}}})) == [
        "nodePools.train.efa.availabilityZone: must be one of the cluster's zones "
        "(us-east-1a, us-east-1b) (got \"us-east-1f\")"
    ]


def test_unknown_instance_type_lists_close_matches():
    [message] = errors(aws({"train": {"instanceType": "p5.48xlarg"}}))
    assert message.startswith(
        "nodePools.train.instanceType: unknown instance type; did you mean p5.48xlarge, p5e.48xlarge")
    assert message.endswith('(components/catalog/instances.py) (got "p5.48xlarg")')


def test_vpc_needs_two_zones_and_room():
    assert errors(aws({}, {"availabilityZones": ["us-east-1a"], "cidr": "10.0.0.0/28"})) == [
        "cluster.vpc.availabilityZones: EKS needs subnets in at least 2 availability zones "
        '(got ["us-east-1a"])',
        'cluster.vpc.cidr: is too small for 2 subnets (a private and a public one per zone) '
        '(got "10.0.0.0/28")',
    ]
    assert errors(aws({}, {"subnetIds": {"us-east-1a": "subnet-1", "us-east-1b": "subnet-2"}})) == [
        "cluster.vpc.vpcId: is required with subnetIds (the node security groups live in it)"
    ]


def test_cross_check_with_gpu_pools():
    config = validate_model(AwsConfig, aws({
        "train": {"instanceType": "p4d.24xlarge"},
        "ghost": {"instanceType": "g5.xlarge"},
    }))
    pools = {"train": pool("H100-80GB", 8), "infer": pool("L4", 1)}
    assert [str(i) for i in check_aws_pools(pools, config)] == [
        "aws.nodePools.ghost: names no pool in gpuPools (pools: train, infer)",
        "gpuPools.infer: has no AWS node pool; add aws.nodePools.infer with its instanceType",
        "aws.nodePools.train.instanceType: p4d.24xlarge has 8x A100-40GB but gpuPools.train.gpu is "
        "8x H100-80GB; use p5.48xlarge or change gpuPools.train.gpu (got \"p4d.24xlarge\")",
        # the same check GpuNodePool runs: the AL2023 NVIDIA image already ships the driver
        "gpuPools.train.driver: must be 'preinstalled': aws.nodePools.train.amiType "
        'AL2023_x86_64_NVIDIA ships the NVIDIA driver (got "operator")',
    ]


def test_min_above_max_is_the_pools_error():
    with pytest.raises(ConfigError, match=r"minSize: must be <= maxSize \(1\) \(got 2\)"):
        validate_model(GpuPool, {"role": "training", "gpu": {"model": "A10G", "count": 1},
                                 "minSize": 2, "maxSize": 1})


def test_driver_ownership_follows_the_ami():
    assert driver_preinstalled("AL2023_x86_64_NVIDIA")
    assert driver_preinstalled("BOTTLEROCKET_x86_64_NVIDIA")
    assert not driver_preinstalled("AL2023_x86_64_STANDARD")

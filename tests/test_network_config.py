"""Network config: CIDR parsing and overlaps, unknown RDMA resources, NAD CNI JSON."""

import json

import pytest

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.network import NetworkConfig, network_issues
from gpu_platform.network.cidrs import overlap_issues, parse_cidr
from gpu_platform.network.networks import network_attachment, render_cni_config

RDMA = {"rdma_shared_device_a": {"vendors": ["15b3"]}}


def net(range_="192.168.100.0/24", **extra):
    return {"type": "host-device", "namespace": "ml-training", "device": "ens1f0np0",
            "rdmaResource": "rdma_shared_device_a", "range": range_, **extra}


def errors(data):
    with pytest.raises(ConfigError) as caught:
        validate_model(NetworkConfig, data, prefix="network")
    return [str(i) for i in caught.value.issues]


def test_parse_cidr_accepts_host_bits_and_rejects_plain_addresses():
    assert str(parse_cidr("192.168.2.225/28")) == "192.168.2.224/28"
    assert parse_cidr("192.168.100.0") is None
    assert parse_cidr("192.168.300.0/24") is None


def test_malformed_range_names_the_path_and_value():
    assert errors({"rdmaResources": RDMA, "networks": {"rdma-net": net("192.168.100.0")}}) == [
        'network.networks.rdma-net.range: must be a CIDR such as 192.168.100.0/24 (got "192.168.100.0")'
    ]


def test_overlapping_ranges_name_both_paths_and_values():
    data = {"rdmaResources": RDMA,
            "networks": {"a": net("192.168.0.0/16"), "b": net("192.168.100.0/24")}}
    assert errors(data) == [
        "network.networks.b.range: overlaps network.networks.a.range (192.168.0.0/16) "
        '(got "192.168.100.0/24")'
    ]


def test_overlap_with_pod_and_service_cidrs():
    data = {"rdmaResources": RDMA,
            "clusterCidrs": {"pods": "10.0.0.0/16", "services": "172.20.0.0/16"},
            "networks": {"a": net("10.0.128.0/24"), "b": net("172.20.5.0/24")}}
    assert errors(data) == [
        'network.networks.a.range: overlaps network.clusterCidrs.pods (10.0.0.0/16) (got "10.0.128.0/24")',
        "network.networks.b.range: overlaps network.clusterCidrs.services (172.20.0.0/16) "
        '(got "172.20.5.0/24")',
    ]


def test_default_cluster_cidrs_are_documented_values():
    config = validate_model(NetworkConfig, {})
    assert (config.cluster_cidrs.pods, config.cluster_cidrs.services) == ("10.244.0.0/16", "10.96.0.0/12")
    assert overlap_issues({"x": "10.100.0.0/16"}, {"services": "10.96.0.0/12"})[0].path == "x"


def test_unknown_rdma_resource_is_an_error():
    data = {"rdmaResources": RDMA, "networks": {"rdma-net": net(rdmaResource="rdma_b")}}
    assert errors(data) == [
        "network.networks.rdma-net.rdmaResource: unknown RDMA resource; "
        'rdmaResources: rdma_shared_device_a (got "rdma_b")'
    ]


def test_exclude_and_gateway_must_lie_in_the_range_and_types_need_their_interface():
    data = {"rdmaResources": RDMA, "networks": {
        "a": net(exclude=["10.1.0.0/24"], gateway="192.168.101.1"),
        "b": {"type": "macvlan", "namespace": "ml", "range": "192.168.50.0/24"},
    }}
    assert errors(data) == [
        "network.networks.a.exclude.0: must lie inside range (192.168.100.0/24) (got \"10.1.0.0/24\")",
        'network.networks.a.gateway: must lie inside range (192.168.100.0/24) (got "192.168.101.1")',
        "network.networks.b.master: is required for type macvlan (the parent interface)",
    ]


def test_rdma_resource_needs_a_selector_and_hex_ids():
    data = {"rdmaResources": {"r": {}, "s": {"vendors": ["15B3"]}}}
    assert errors(data) == [
        "network.rdmaResources.r: needs at least one selector: vendors, deviceIds or ifNames",
        'network.rdmaResources.s.vendors.0: must be a 4-digit lowercase hex PCI id such as 15b3 (got "15B3")',
    ]


def test_network_issues_gives_full_paths_for_the_builder():
    config = NetworkConfig.model_validate({"networks": {"a": net()}})  # structural checks only
    assert [str(i) for i in network_issues(config)] == [
        "network.networks.a.rdmaResource: unknown RDMA resource; rdmaResources: none "
        '(got "rdma_shared_device_a")'
    ]


def test_host_device_nad_renders_the_seed_shape_from_typed_data():
    config = validate_model(NetworkConfig, {"rdmaResources": RDMA, "networks": {
        "rdma-net": net(exclude=["192.168.100.0/28"], gateway="192.168.100.1")}})
    spec = config.networks["rdma-net"]
    assert json.loads(render_cni_config("rdma-net", spec)) == {
        "cniVersion": "0.3.1", "name": "rdma-net", "type": "host-device", "device": "ens1f0np0",
        "ipam": {"type": "whereabouts", "range": "192.168.100.0/24",
                 "exclude": ["192.168.100.0/28"], "gateway": "192.168.100.1"},
    }
    obj = network_attachment("rdma-net", spec)
    assert (obj["apiVersion"], obj["kind"], obj["metadata"]["name"], obj["metadata"]["namespace"]) == (
        "k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition", "rdma-net", "ml-training")


def test_macvlan_and_ipoib_render_master_and_mode():
    config = validate_model(NetworkConfig, {"networks": {
        "roce": {"type": "macvlan", "namespace": "ml", "master": "ens1f0np0", "mtu": 9000,
                 "range": "192.168.1.0/24"},
        "ib": {"type": "ipoib", "namespace": "ml", "master": "ib0", "range": "192.168.2.0/24"},
    }})
    assert render_cni_config("roce", config.networks["roce"]) == json.dumps({
        "cniVersion": "0.3.1", "name": "roce", "type": "macvlan", "master": "ens1f0np0",
        "mode": "bridge", "mtu": 9000, "ipam": {"type": "whereabouts", "range": "192.168.1.0/24"},
    }, indent=2)
    assert json.loads(render_cni_config("ib", config.networks["ib"])) == {
        "cniVersion": "0.3.1", "name": "ib", "type": "ipoib", "master": "ib0",
        "ipam": {"type": "whereabouts", "range": "192.168.2.0/24"},
    }

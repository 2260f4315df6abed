"""Network Operator: chart values (NFD off), NicClusterPolicy spec, NADs, conformance."""

import json

import pulumi
import pulumi_kubernetes as k8s
import pytest
from component_outputs import resolved_outputs

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.core.pools import GpuPool, all_pool_tolerations
from gpu_platform.network import (
    NetworkAttachments,
    NetworkAttachmentsArgs,
    NetworkConfig,
    NetworkOperator,
    NetworkOperatorArgs,
    build_network,
)
from gpu_platform.network.operator import network_operator_values, nic_cluster_policy_spec, taint_tolerations
from gpu_platform.plan.model import helm_release_manifest

RELEASE = "kubernetes:helm.sh/v3:Release"
NCP = "kubernetes:mellanox.com/v1alpha1:NicClusterPolicy"
NAD = "kubernetes:k8s.cni.cncf.io/v1:NetworkAttachmentDefinition"
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}
IMAGES = {"repository": "nvcr.io/nvidia/mellanox", "version": "network-operator-v26.4.1"}
ONPREM = {
    "enabled": True,
    "operator": {"mofed": "operator"},
    "rdmaResources": {"rdma_shared_device_a": {"vendors": ["15b3"], "deviceIds": ["101b"]}},
    "networks": {"rdma-net": {"type": "host-device", "namespace": "ml-training", "device": "ens1f0np0",
                              "rdmaResource": "rdma_shared_device_a", "range": "192.168.100.0/24"}},
}


@pytest.fixture
def pools():
    return {"a100": validate_model(GpuPool, {"role": "training", "gpu": {"model": "A100-80GB", "count": 8}})}


def config(data=None):
    return validate_model(NetworkConfig, data if data is not None else ONPREM, prefix="network")


def test_chart_values_turn_off_the_charts_nfd_and_tolerate_pools(pools):
    values = network_operator_values(config().operator, all_pool_tolerations(pools))
    assert values == {
        "nfd": {"enabled": False},
        "operator": {"tolerations": [
            {"key": "node-role.kubernetes.io/master", "operator": "Equal", "value": "",
             "effect": "NoSchedule"},
            {"key": "node-role.kubernetes.io/control-plane", "operator": "Equal", "value": "",
             "effect": "NoSchedule"},
            GPU_TOLERATION,
        ]},
    }
    on = validate_model(NetworkConfig, {"operator": {"nodeFeatureDiscovery": True,
                                                      "valuesOverrides": {"upgradeCRDs": False}}})
    assert network_operator_values(on.operator, {})["nfd"] == {"enabled": True}
    assert network_operator_values(on.operator, {})["upgradeCRDs"] is False


def test_nic_cluster_policy_with_operator_mofed(pools):
    cfg = config()
    spec = nic_cluster_policy_spec(cfg.operator, cfg.rdma_resources, all_pool_tolerations(pools))
    assert spec == {
        "tolerations": [GPU_TOLERATION],
        "ofedDriver": {
            "image": "doca-driver", "repository": "nvcr.io/nvidia/mellanox",
            "version": "doca3.4.1-26.04-1.1.0.0-1",
            "startupProbe": {"initialDelaySeconds": 10, "periodSeconds": 10},
            "livenessProbe": {"initialDelaySeconds": 30, "periodSeconds": 30},
            "readinessProbe": {"initialDelaySeconds": 10, "periodSeconds": 30},
        },
        "rdmaSharedDevicePlugin": {
            "image": "k8s-rdma-shared-dev-plugin", **IMAGES,
            "config": json.dumps({"configList": [{
                "resourceName": "rdma_shared_device_a", "rdmaHcaMax": 63,
                "selectors": {"vendors": ["15b3"], "deviceIDs": ["101b"]},
            }]}, indent=2),
        },
        "secondaryNetwork": {
            "multus": {"image": "multus-cni", **IMAGES},
            "cniPlugins": {"image": "plugins", **IMAGES},
        },
    }


def test_host_mofed_and_existing_multus_leave_those_parts_out():
    cfg = config({"operator": {"mofed": "host", "clusterHasMultus": True},
                  "rdmaResources": {"rdma_a": {"ifNames": ["ib0"]}}})
    spec = nic_cluster_policy_spec(cfg.operator, cfg.rdma_resources, {}, ipoib=True)
    assert set(spec) == {"rdmaSharedDevicePlugin", "secondaryNetwork"}
    assert spec["secondaryNetwork"] == {"ipoib": {"image": "ipoib-cni", **IMAGES}}
    assert json.loads(spec["rdmaSharedDevicePlugin"]["config"])["configList"][0]["selectors"] == {
        "ifNames": ["ib0"]}


def test_build_network_registers_release_policy_and_nad_in_order(run_component, pools, conformance):
    built = {}

    def program():
        built["p"] = build_network("net", config(), pools, pulumi.ResourceOptions())

    plan = run_component(program)
    release = plan.one(RELEASE, "net-network-operator-chart")
    manifest = helm_release_manifest(release)
    assert (manifest["repository"], manifest["chart"], manifest["version"], manifest["namespace"]) == (
        "https://helm.ngc.nvidia.com/nvidia", "network-operator", "26.4.1", "nvidia-network-operator")
    ns = plan.one("kubernetes:core/v1:Namespace", "net-network-operator-ns")
    assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    whereabouts = helm_release_manifest(plan.one(RELEASE, "net-network-operator-whereabouts"))
    assert (whereabouts["chart"], whereabouts["version"]) == ("whereabouts-chart", "0.9.4")
    policy = plan.one(NCP, "net-network-operator-nic-cluster-policy")
    assert release.urn in policy.dependencies
    assert policy.inputs["metadata"]["name"] == "nic-cluster-policy"
    nad = plan.one(NAD, "net-networks-rdma-net")
    assert policy.urn in nad.dependencies
    assert json.loads(nad.inputs["spec"]["config"])["device"] == "ens1f0np0"
    objects = [
        {"apiVersion": "mellanox.com/v1alpha1", "kind": "NicClusterPolicy",
         "metadata": policy.inputs["metadata"], "spec": policy.inputs["spec"]},
        {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
         "metadata": nad.inputs["metadata"], "spec": nad.inputs["spec"]},
        ns.inputs | {"apiVersion": "v1", "kind": "Namespace"},
    ]
    conformance.assert_conformant(conformance.validate_all(objects))
    # upstream's values.yaml shows tolerations without `value` for some entries
    conformance.assert_conformant(conformance.validate_helm_values(
        "network-operator", manifest["values"], free_form=["operator.tolerations"]))
    conformance.assert_conformant(conformance.validate_helm_values("whereabouts", whereabouts["values"]))


def test_full_policy_conforms_with_every_part(conformance, pools):
    resources = {"rdma_shared_device_a": {"vendors": ["15b3"], "ifNames": ["ib0"]}}
    cfg = config({**ONPREM, "rdmaResources": resources})
    spec = nic_cluster_policy_spec(cfg.operator, cfg.rdma_resources, all_pool_tolerations(pools), ipoib=True)
    obj = {"apiVersion": "mellanox.com/v1alpha1", "kind": "NicClusterPolicy",
           "metadata": {"name": "nic-cluster-policy"}, "spec": spec}
    conformance.assert_conformant(conformance.validate_object(obj))


def test_disabled_network_registers_nothing_and_bad_config_raises_first(run_component, pools):
    assert build_network("net", config({}), pools, pulumi.ResourceOptions()).operator is None
    bad = NetworkConfig.model_validate({**ONPREM, "networks": {"x": {
        **ONPREM["networks"]["rdma-net"], "range": "10.244.1.0/24"}}})
    plan_holder = {}

    def program():
        with pytest.raises(ConfigError) as caught:
            build_network("net", bad, pools, pulumi.ResourceOptions())
        plan_holder["err"] = str(caught.value.issues[0])

    plan = run_component(program)
    assert plan_holder["err"] == (
        'network.networks.x.range: overlaps network.clusterCidrs.pods (10.244.0.0/16) (got "10.244.1.0/24")')
    assert plan.find(NCP) == [] and plan.find(RELEASE) == []


def test_operator_tolerates_each_node_taint_once_as_pools_would(pools):
    two = {**pools, "l4": validate_model(GpuPool, {"role": "inference", "gpu": {"model": "L4", "count": 1},
                                                    "taints": [{"key": "nvidia.com/gpu", "value": "true"},
                                                               {"key": "nvidia.com/gpu", "value": "true",
                                                                "effect": "NoExecute"}]})}
    args = NetworkOperatorArgs.of(config().operator, {}, two)
    assert taint_tolerations(args.node_taints) == all_pool_tolerations(two)
    assert [t["effect"] for t in taint_tolerations(args.node_taints)] == ["NoSchedule", "NoExecute"]


def test_operator_outputs_and_an_existing_namespace(run_component):
    got = resolved_outputs(run_component, lambda: NetworkOperator("netop", {}),
                     "namespace", "release_name", "nic_cluster_policy_name")
    assert got == {"namespace": "nvidia-network-operator", "release_name": "network-operator",
                   "nic_cluster_policy_name": "nic-cluster-policy"}

    def program():
        ns = k8s.core.v1.Namespace("nics", metadata={"name": "nics"})
        NetworkOperator("netop", {"namespace": "nics", "createNamespace": False},
                        pulumi.ResourceOptions(depends_on=[ns]))

    plan = run_component(program)
    ns = plan.one("kubernetes:core/v1:Namespace", "nics").urn
    assert [r.name for r in plan.find("kubernetes:core/v1:Namespace")] == ["nics"]
    assert plan.one(RELEASE, "netop-chart").dependencies == [ns]
    assert plan.one(RELEASE, "netop-whereabouts").dependencies == [ns]
    policy = plan.one(NCP, "netop-nic-cluster-policy")
    assert set(policy.dependencies) == {ns, plan.one(RELEASE, "netop-chart").urn}


def test_operator_refuses_bad_args(refused):
    err = refused(lambda: NetworkOperator("netop", {"rdmaResources": {"rdma-a": {"vendors": ["15b3"]}},
                                                     "nodeTaints": [{"effect": "Never"}]}))
    assert str(err) == (
        "invalid args of NetworkOperator 'netop' (2 errors):\n"
        "  - rdmaResources.rdma-a: must be letters, digits and '_' (e.g. rdma_shared_device_a) "
        '(got "rdma-a")\n'
        "  - nodeTaints.0.effect: must be one of 'NoSchedule', 'PreferNoSchedule' or 'NoExecute' "
        '(got "Never")')
    err = refused(lambda: NetworkOperator("netop", {"rdmaResources": {"rdma_a": {"vendors": ["15B3"]}}}))
    assert str(err) == (
        "invalid args of NetworkOperator 'netop' (1 error):\n"
        "  - rdmaResources.rdma_a.vendors.0: must be a 4-digit lowercase hex PCI id such as 15b3 "
        '(got "15B3")')


def test_attachments_outputs_name_each_network(run_component):
    args = NetworkAttachmentsArgs(networks=config().networks)
    got = resolved_outputs(run_component, lambda: NetworkAttachments("nets", args), "network_names")
    assert got == {"network_names": {"rdma-net": "ml-training/rdma-net"}}


def test_attachments_refuse_overlapping_ranges(refused):
    net = ONPREM["networks"]["rdma-net"]
    args = {"networks": {"a": net, "b": {**net, "range": "192.168.100.128/25"},
                         "c": {**net, "range": "10.96.1.0/24"}}}
    err = refused(lambda: NetworkAttachments("nets", args))
    assert str(err) == (
        "invalid args of NetworkAttachments 'nets' (2 errors):\n"
        "  - networks.b.range: overlaps networks.a.range (192.168.100.0/24) (got \"192.168.100.128/25\")\n"
        "  - networks.c.range: overlaps clusterCidrs.services (10.96.0.0/12) (got \"10.96.1.0/24\")")

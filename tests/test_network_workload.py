"""Attaching a worker to an RDMA network or EFA: annotation, resources, NCCL env, IPC_LOCK."""

import pytest

from gpu_platform.config import validate_model
from gpu_platform.gpu.operator import GpuDirectRdma
from gpu_platform.network import NetworkConfig
from gpu_platform.network.workload import efa_networking, gpudirect_rdma, rdma_networking

CONFIG = {
    "enabled": True,
    "rdmaResources": {"rdma_shared_device_a": {"vendors": ["15b3"]},
                      "rdma_b": {"ifNames": ["ens2f0"], "ncclIbHca": "mlx5_2"}},
    "networks": {
        "rdma-net": {"type": "host-device", "namespace": "ml-training", "device": "ens1f0np0",
                     "rdmaResource": "rdma_shared_device_a", "range": "192.168.100.0/24"},
        "rail-b": {"type": "macvlan", "namespace": "ml-training", "master": "ens2f0",
                   "rdmaResource": "rdma_b", "range": "192.168.101.0/24"},
    },
}
WORKER = {
    "metadata": {"labels": {"app": "trainer"}},
    "spec": {"containers": [
        {"name": "trainer", "image": "nvcr.io/nvidia/pytorch:24.01-py3",
         "resources": {"limits": {"nvidia.com/gpu": 8}},
         "env": [{"name": "NCCL_DEBUG", "value": "INFO"}, {"name": "WORLD_SIZE", "value": "4"}]},
        {"name": "sidecar", "image": "busybox"},
    ]},
}


def config(**overrides):
    return validate_model(NetworkConfig, {**CONFIG, **overrides})


def test_rendered_worker_container_gets_everything_for_the_seed_network():
    pod = rdma_networking(config(), "rdma-net").apply(WORKER, "trainer")
    assert pod["metadata"] == {"labels": {"app": "trainer"},
                               "annotations": {"k8s.v1.cni.cncf.io/networks": "ml-training/rdma-net"}}
    trainer, sidecar = pod["spec"]["containers"]
    assert trainer == {
        "name": "trainer", "image": "nvcr.io/nvidia/pytorch:24.01-py3",
        "resources": {"limits": {"nvidia.com/gpu": 8, "rdma/rdma_shared_device_a": "1"},
                      "requests": {"rdma/rdma_shared_device_a": "1"}},
        "env": [
            {"name": "WORLD_SIZE", "value": "4"},
            {"name": "NCCL_IB_DISABLE", "value": "0"},
            {"name": "NCCL_IB_HCA", "value": "mlx5"},
            {"name": "NCCL_NET_GDR_LEVEL", "value": "PHB"},
            {"name": "NCCL_SOCKET_IFNAME", "value": "eth0"},
            {"name": "NCCL_DEBUG", "value": "WARN"},
        ],
        "securityContext": {"capabilities": {"add": ["IPC_LOCK"]}},
    }
    assert sidecar == {"name": "sidecar", "image": "busybox"}
    assert WORKER["spec"]["containers"][0]["env"][0]["value"] == "INFO"  # input untouched


def test_two_rails_and_typed_nccl_settings():
    cfg = config(nccl={"netGdrLevel": "SYS", "socketIfname": "net0", "ibGidIndex": 3, "debug": "INFO"})
    wn = rdma_networking(cfg, "rdma-net", "rail-b")
    assert wn.annotations == {"k8s.v1.cni.cncf.io/networks": "ml-training/rdma-net,ml-training/rail-b"}
    assert wn.resources == {"rdma/rdma_shared_device_a": "1", "rdma/rdma_b": "1"}
    assert wn.env == {"NCCL_IB_DISABLE": "0", "NCCL_IB_HCA": "mlx5,mlx5_2", "NCCL_IB_GID_INDEX": "3",
                      "NCCL_NET_GDR_LEVEL": "SYS", "NCCL_SOCKET_IFNAME": "net0", "NCCL_DEBUG": "INFO"}


def test_existing_annotation_and_capabilities_are_extended_not_replaced():
    pod = {"metadata": {"annotations": {"k8s.v1.cni.cncf.io/networks": "other/net"}},
           "spec": {"containers": [
               {"name": "c", "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}}}]}}
    out = rdma_networking(config(), "rdma-net").apply(pod)
    annotations = out["metadata"]["annotations"]
    assert annotations["k8s.v1.cni.cncf.io/networks"] == "other/net,ml-training/rdma-net"
    assert out["spec"]["containers"][0]["securityContext"] == {
        "capabilities": {"add": ["SYS_PTRACE", "IPC_LOCK"]}}


def test_unknown_network_or_container_is_an_error():
    with pytest.raises(ValueError, match=r"^unknown network\(s\) nope; networks: rail-b, rdma-net$"):
        rdma_networking(config(), "nope")
    message = r"^no container named 'x' in the pod \(containers: trainer, sidecar\)$"
    with pytest.raises(ValueError, match=message):
        rdma_networking(config(), "rdma-net").apply(WORKER, "x")


def test_efa_pool_env_and_resources():
    wn = efa_networking(32)
    assert wn.annotations == {}
    assert wn.resources == {"vpc.amazonaws.com/efa": "32"}
    assert wn.env == {"FI_PROVIDER": "efa", "FI_EFA_USE_DEVICE_RDMA": "1",
                      "NCCL_SOCKET_IFNAME": "eth0", "NCCL_DEBUG": "WARN"}
    assert "NCCL_PROTO" not in wn.env and wn.capabilities == ("IPC_LOCK",)
    pod = wn.apply({"spec": {"containers": [{"name": "w"}]}})
    assert pod["spec"]["containers"][0]["resources"] == {
        "requests": {"vpc.amazonaws.com/efa": "32"}, "limits": {"vpc.amazonaws.com/efa": "32"}}
    with pytest.raises(ValueError, match=r"efa_interfaces must be >= 1 \(got 0\)"):
        efa_networking(0)


def test_gpudirect_signal_follows_rdma_networks_and_mofed_owner():
    assert gpudirect_rdma(config()) == GpuDirectRdma(use_host_mofed=True)
    assert gpudirect_rdma(config(operator={"mofed": "operator"})) == GpuDirectRdma(use_host_mofed=False)
    assert gpudirect_rdma(config(enabled=False)) is None
    assert gpudirect_rdma(config(networks={})) is None


def test_rendered_worker_pod_conforms(conformance):
    pod = rdma_networking(config(), "rdma-net").apply(WORKER, "trainer")
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "w", "namespace": "ml-training",
                                                          **pod["metadata"]}, "spec": pod["spec"]}
    conformance.assert_conformant(conformance.validate_object(obj))

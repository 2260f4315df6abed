"""The one place that turns "attach this pod to network X" (or "use EFA") into pod settings.

An RDMA network needs four things on the pod at once, and forgetting one silently turns
multi-node training into TCP (the seed's troubleshooting guide: NCCL falls back to sockets when
RDMA is blocked): the Multus annotation, the RDMA device resource, NCCL's environment, and
``IPC_LOCK`` (RDMA pins memory). ``WorkloadNetworking`` carries them together.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gpu_platform.gpu.operator import GpuDirectRdma
from gpu_platform.network.config import NcclSettings, NetworkConfig
from gpu_platform.network.operator import MELLANOX_VENDOR, RDMA_RESOURCE_PREFIX, RdmaResource

NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
EFA_RESOURCE = "vpc.amazonaws.com/efa"
IPC_LOCK = "IPC_LOCK"
# ConnectX NICs (vendor 15b3) are all driven by mlx5; NCCL_IB_HCA matches HCA names by prefix.
MLX5_HCA_PREFIX = "mlx5"


@dataclass(frozen=True)
class WorkloadNetworking:
    """Pod annotations, container resources (request = limit), env and capabilities."""

    annotations: Mapping[str, str] = field(default_factory=dict)
    resources: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    capabilities: tuple[str, ...] = ()

    def env_list(self) -> list[dict[str, str]]:
        return [{"name": name, "value": value} for name, value in self.env.items()]

    def apply(self, pod_template: Mapping[str, Any], container: str | None = None) -> dict[str, Any]:
        """A copy of ``pod_template`` (``{metadata, spec}``) with these settings merged in.

        Applies to the container named ``container`` (every container when None). Existing
        env entries of the same name are replaced, a Multus annotation already present is
        extended, and capabilities are added to those already there.
        """
        pod = copy.deepcopy(dict(pod_template))
        annotations = pod.setdefault("metadata", {}).setdefault("annotations", {})
        for key, value in self.annotations.items():
            current = annotations.get(key)
            if key == NETWORKS_ANNOTATION and current:
                listed = [item.strip() for item in current.split(",")]
                extra = [item for item in value.split(",") if item not in listed]
                annotations[key] = ",".join([*listed, *extra])
            else:
                annotations[key] = value
        containers = pod.setdefault("spec", {}).get("containers", [])
        targets = [c for c in containers if container is None or c.get("name") == container]
        if container is not None and not targets:
            names = ", ".join(str(c.get("name")) for c in containers) or "none"
            raise ValueError(f"no container named {container!r} in the pod (containers: {names})")
        for target in targets:
            self._apply_container(target)
        return pod

    def _apply_container(self, container: dict[str, Any]) -> None:
        resources = container.setdefault("resources", {})
        for kind in ("requests", "limits"):
            resources.setdefault(kind, {}).update(self.resources)
        env = [e for e in container.get("env", []) if e.get("name") not in self.env]
        container["env"] = [*env, *self.env_list()]
        if self.capabilities:
            caps = container.setdefault("securityContext", {}).setdefault("capabilities", {})
            added = list(caps.get("add", []))
            caps["add"] = [*added, *(c for c in self.capabilities if c not in added)]


def nccl_ib_hca(resource: RdmaResource) -> str | None:
    """NCCL_IB_HCA for a resource: the typed value, else ``mlx5`` for ConnectX-only selectors.

    Interface names (``ifNames``) are netdevs, not HCA names, so they cannot be turned into
    NCCL_IB_HCA; without a typed value NCCL picks the HCAs itself.
    """
    if resource.nccl_ib_hca is not None:
        return resource.nccl_ib_hca
    if resource.vendors and set(resource.vendors) == {MELLANOX_VENDOR}:
        return MLX5_HCA_PREFIX
    return None


def _base_nccl_env(nccl: NcclSettings) -> dict[str, str]:
    return {"NCCL_SOCKET_IFNAME": nccl.socket_ifname, "NCCL_DEBUG": nccl.debug}


def rdma_networking(config: NetworkConfig, *networks: str) -> WorkloadNetworking:
    """Everything a pod needs to use the RDMA networks ``networks`` (names of ``networks``)."""
    if not networks:
        raise ValueError("name at least one network")
    unknown = [n for n in networks if n not in config.networks]
    if unknown:
        known = ", ".join(sorted(config.networks)) or "none"
        raise ValueError(f"unknown network(s) {', '.join(unknown)}; networks: {known}")
    specs = [config.networks[n] for n in networks]
    annotation = ",".join(f"{spec.namespace}/{name}" for name, spec in zip(networks, specs, strict=True))
    resource_names = list(dict.fromkeys(s.rdma_resource for s in specs if s.rdma_resource is not None))
    resources = {f"{RDMA_RESOURCE_PREFIX}/{name}": "1" for name in resource_names}
    hcas = [h for h in (nccl_ib_hca(config.rdma_resources[r]) for r in resource_names) if h]
    env = {"NCCL_IB_DISABLE": "0"}
    if hcas:
        env["NCCL_IB_HCA"] = ",".join(dict.fromkeys(hcas))
    if config.nccl.ib_gid_index is not None:
        env["NCCL_IB_GID_INDEX"] = str(config.nccl.ib_gid_index)
    env["NCCL_NET_GDR_LEVEL"] = config.nccl.net_gdr_level
    env.update(_base_nccl_env(config.nccl))
    return WorkloadNetworking(
        annotations={NETWORKS_ANNOTATION: annotation},
        resources=resources,
        env=env,
        capabilities=(IPC_LOCK,),
    )


def efa_networking(efa_interfaces: int, nccl: NcclSettings | None = None) -> WorkloadNetworking:
    """EFA for one pod taking ``efa_interfaces`` EFA devices (the instance type's count).

    The aws-ofi-nccl plugin routes NCCL over libfabric's EFA provider; ``FI_EFA_USE_DEVICE_RDMA``
    turns on GPUDirect RDMA on instances that support it (p4d, p5). ``NCCL_PROTO=simple`` is
    not set: aws-ofi-nccl no longer needs it, and it costs small-message latency.
    """
    if efa_interfaces < 1:
        raise ValueError(f"efa_interfaces must be >= 1 (got {efa_interfaces})")
    nccl = nccl or NcclSettings()
    env = {"FI_PROVIDER": "efa", "FI_EFA_USE_DEVICE_RDMA": "1", **_base_nccl_env(nccl)}
    return WorkloadNetworking(
        resources={EFA_RESOURCE: str(efa_interfaces)},
        env=env,
        capabilities=(IPC_LOCK,),
    )


def gpudirect_rdma(config: NetworkConfig) -> GpuDirectRdma | None:
    """What the GPU Operator needs for GPUDirect RDMA: set when any RDMA network exists."""
    if not config.enabled or not any(s.rdma_resource for s in config.networks.values()):
        return None
    return GpuDirectRdma(use_host_mofed=config.operator.mofed == "host")

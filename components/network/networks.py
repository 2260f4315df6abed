"""Secondary (RDMA) networks: one Multus NetworkAttachmentDefinition per entry of ``networks``.

The CNI config is JSON inside the object (``spec.config``), so it is rendered here from typed
fields rather than written by hand: ``host-device`` moves a whole NIC into the pod (one pod per
NIC per node), ``macvlan`` and ``ipoib`` give each pod a child of a parent interface (Ethernet /
RoCE and InfiniBand), so many pods share the NIC and its RDMA device. Addresses come from
whereabouts (cluster-wide IPAM, no per-node ranges).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from gpu_platform.config import ConfigIssue, ConfigModel
from gpu_platform.config.errors import issue
from gpu_platform.core.names import MANAGED_BY_LABELS, DnsLabel, child_name
from gpu_platform.k8s.objects import custom_resource
from gpu_platform.network.cidrs import cidr_format_issues, within_issues

NETWORK_ATTACHMENTS_TYPE = "gpu-platform:network:NetworkAttachments"
NAD_API_VERSION = "k8s.cni.cncf.io/v1"
NAD_KIND = "NetworkAttachmentDefinition"

NetworkType = Literal["host-device", "macvlan", "ipoib"]


class NetworkSpec(ConfigModel):
    """One secondary network: a CNI type on a node interface, with whereabouts addresses."""

    type: NetworkType
    # the namespace the NetworkAttachmentDefinition lives in (pods there reference it by name)
    namespace: DnsLabel
    # host-device: the netdev to move into the pod (e.g. ens1f0np0; not the RDMA name mlx5_0)
    device: str | None = Field(default=None, min_length=1)
    # macvlan / ipoib: the parent interface on the node (e.g. ens1f0np0, ib0)
    master: str | None = Field(default=None, min_length=1)
    macvlan_mode: Literal["bridge", "private", "vepa", "passthru"] = "bridge"
    mtu: int | None = Field(default=None, ge=576, le=65520)
    # key of `rdmaResources`: the RDMA device pods on this network request
    rdma_resource: str | None = None
    range: str
    exclude: list[str] = Field(default_factory=list)
    gateway: str | None = None
    cni_version: Literal["0.3.1", "0.4.0", "1.0.0"] = "0.3.1"

    def issues(self) -> Iterator[ConfigIssue]:
        if self.type == "host-device":
            if self.device is None:
                yield issue("device", "is required for type host-device (the node's netdev name)")
            if self.master is not None:
                yield issue("master", "is for macvlan and ipoib; host-device takes `device`", self.master)
        else:
            if self.master is None:
                yield issue("master", f"is required for type {self.type} (the parent interface)")
            if self.device is not None:
                yield issue("device", f"is for host-device; {self.type} takes `master`", self.device)
        if self.type != "macvlan" and "macvlan_mode" in self.model_fields_set:
            yield issue("macvlanMode", "is only for type macvlan", self.macvlan_mode)
        yield from cidr_format_issues({"range": self.range})
        for index, excluded in enumerate(self.exclude):
            yield from within_issues(f"exclude.{index}", excluded, "range", self.range)
        if self.gateway is not None:
            if "/" in self.gateway:
                yield issue("gateway", "must be an IP address such as 192.168.100.1", self.gateway)
            else:
                yield from within_issues("gateway", self.gateway, "range", self.range)


def cni_config(name: str, spec: NetworkSpec) -> dict[str, Any]:
    """The CNI network config (as data) for one network."""
    ipam: dict[str, Any] = {"type": "whereabouts", "range": spec.range}
    if spec.exclude:
        ipam["exclude"] = list(spec.exclude)
    if spec.gateway is not None:
        ipam["gateway"] = spec.gateway
    config: dict[str, Any] = {"cniVersion": spec.cni_version, "name": name, "type": spec.type}
    if spec.type == "host-device":
        config["device"] = spec.device
    else:
        config["master"] = spec.master
    if spec.type == "macvlan":
        config["mode"] = spec.macvlan_mode
    if spec.mtu is not None:
        config["mtu"] = spec.mtu
    config["ipam"] = ipam
    return config


def render_cni_config(name: str, spec: NetworkSpec) -> str:
    """``spec.config`` of the NetworkAttachmentDefinition: the CNI config as stable JSON."""
    return json.dumps(cni_config(name, spec), indent=2)


def network_attachment(name: str, spec: NetworkSpec) -> dict[str, Any]:
    """The whole NetworkAttachmentDefinition object for one network."""
    return {
        "apiVersion": NAD_API_VERSION,
        "kind": NAD_KIND,
        "metadata": {
            "name": name,
            "namespace": spec.namespace,
            "labels": {**MANAGED_BY_LABELS, "app.kubernetes.io/component": "secondary-network"},
        },
        "spec": {"config": render_cni_config(name, spec)},
    }


class NetworkAttachments(pulumi.ComponentResource):
    """One NetworkAttachmentDefinition per network, after the CNI stack that serves them."""

    def __init__(
        self,
        name: str,
        networks: Mapping[str, NetworkSpec],
        opts: pulumi.ResourceOptions | None = None,
        *,
        depends_on: Sequence[pulumi.Resource] = (),
    ):
        super().__init__(NETWORK_ATTACHMENTS_TYPE, name, None, opts)
        after = pulumi.ResourceOptions(parent=self, depends_on=list(depends_on))
        self.attachments: dict[str, k8s.apiextensions.CustomResource] = {}
        for net_name, spec in networks.items():
            obj = network_attachment(net_name, spec)
            self.attachments[net_name] = custom_resource(child_name(name, net_name), obj, after)
        self.register_outputs({"networks": {n: f"{s.namespace}/{n}" for n, s in networks.items()}})

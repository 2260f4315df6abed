"""Secondary (RDMA) networks: one Multus NetworkAttachmentDefinition per entry of ``networks``.

The CNI config is JSON inside the object (``spec.config``), so it is rendered here from typed
fields rather than written by hand: ``host-device`` moves a whole NIC into the pod (one pod per
NIC per node), ``macvlan`` and ``ipoib`` give each pod a child of a parent interface (Ethernet /
RoCE and InfiniBand), so many pods share the NIC and its RDMA device. Addresses come from
whereabouts (cluster-wide IPAM, no per-node ranges).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigIssue, ConfigModel, component_args
from gpu_platform.config.errors import issue
from gpu_platform.core.component import child_options
from gpu_platform.core.names import MANAGED_BY_LABELS, DnsLabel, child_name
from gpu_platform.k8s.objects import custom_resource
from gpu_platform.network.cidrs import cidr_format_issues, overlap_issues, within_issues

NETWORK_ATTACHMENTS_TYPE = "gpu-platform:network:NetworkAttachments"
NAD_API_VERSION = "k8s.cni.cncf.io/v1"
NAD_KIND = "NetworkAttachmentDefinition"

NetworkType = Literal["host-device", "macvlan", "ipoib"]

# kubeadm's service CIDR default, and the pod CIDR most kubeadm CNIs (flannel, calico manifests)
# default to. EKS differs (pods share the VPC CIDR, services 10.100.0.0/16 or 172.20.0.0/16):
# set both to the cluster's real values.
DEFAULT_POD_CIDR = "10.244.0.0/16"
DEFAULT_SERVICE_CIDR = "10.96.0.0/12"


class ClusterCidrs(ConfigModel):
    """The cluster's own address ranges, which no secondary network may reuse."""

    pods: str = DEFAULT_POD_CIDR
    services: str = DEFAULT_SERVICE_CIDR

    def issues(self) -> Iterator[ConfigIssue]:
        yield from cidr_format_issues({"pods": self.pods, "services": self.services})


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


def network_range_issues(
    networks: Mapping[str, NetworkSpec], cluster_cidrs: ClusterCidrs, message_prefix: str = ""
) -> list[ConfigIssue]:
    """Network ranges overlapping each other or the cluster's pod and service CIDRs (paths
    relative to the model holding ``networks`` and ``clusterCidrs``; ``message_prefix`` goes
    before the other path named in a message)."""
    ranges = {f"networks.{name}.range": spec.range for name, spec in networks.items()}
    reserved = {"clusterCidrs.pods": cluster_cidrs.pods, "clusterCidrs.services": cluster_cidrs.services}
    return overlap_issues(ranges, reserved, message_prefix=message_prefix)


class NetworkAttachmentsArgs(ComponentArgs):
    """Args of ``NetworkAttachments``: the networks, and the cluster's CIDRs they must avoid."""

    networks: dict[DnsLabel, NetworkSpec] = Field(default_factory=dict)
    cluster_cidrs: ClusterCidrs = Field(default_factory=ClusterCidrs)

    def issues(self) -> Iterator[ConfigIssue]:
        yield from network_range_issues(self.networks, self.cluster_cidrs)


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
    """One NetworkAttachmentDefinition per network, after the CNI stack that serves them (order
    it with ``opts.depends_on``: the Network Operator's policy, the namespaces they live in)."""

    network_names: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        name: str,
        args: NetworkAttachmentsArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        args = component_args(NetworkAttachmentsArgs, args, component="NetworkAttachments", name=name)
        super().__init__(NETWORK_ATTACHMENTS_TYPE, name, None, opts)
        after = child_options(self, opts)
        self.attachments: dict[str, k8s.apiextensions.CustomResource] = {}
        for net_name, spec in args.networks.items():
            obj = network_attachment(net_name, spec)
            self.attachments[net_name] = custom_resource(child_name(name, net_name), obj, after)
        # "<namespace>/<name>", as a pod's k8s.v1.cni.cncf.io/networks annotation names it;
        # from the objects, so a consumer waits for them
        keys = list(self.attachments)
        refs = [object_metadata(self.attachments[key]).apply(_reference) for key in keys]
        self.network_names = pulumi.Output.all(*refs).apply(
            lambda values: dict(zip(keys, values, strict=True)))
        self.register_outputs({"networks": self.network_names})


def object_metadata(resource: pulumi.CustomResource) -> pulumi.Output[Any]:
    """The ``metadata`` output of a Kubernetes object (typed resources resolve it to an
    ObjectMeta output type, ``CustomResource`` to a dict; neither declares it to mypy)."""
    metadata: pulumi.Output[Any] = resource.metadata  # type: ignore[attr-defined]
    return metadata


def _reference(metadata: Any) -> str:
    if isinstance(metadata, Mapping):
        return f"{metadata['namespace']}/{metadata['name']}"
    return f"{metadata.namespace}/{metadata.name}"

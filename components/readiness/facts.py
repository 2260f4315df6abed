"""The cluster facts of one environment, derived from its validated config.

Node pools: every GPU pool (its node labels and taints, as ``gpu_platform.core.pools`` sets them)
and the nodes that run everything else: the EKS system node group, or, on an existing cluster,
untainted general nodes of unknown size (the cluster's owner runs its add-ons somewhere).

Allocatable = instance capacity (``gpu_platform.catalog.instances``; general-purpose types below)
minus the reserve the EKS AMIs give kubelet and the system (awslabs/amazon-eks-ami, nodeadm
``kube-reserved``, read 2026-11-26): CPU 6% of the first core, 1% of the second, 0.5% of the
third and fourth, 0.25% of every further core; memory 255 MiB + 11 MiB per pod at 110 pods
(the kubelet's default pod limit, a conservative bound) plus the 100 MiB hard eviction threshold.
The DaemonSets on a node take their share too; pods that only fit to the last core are caught
by the scheduler, not here.

GPUs: ``count`` per node, times the time-slicing replicas, or the MIG instances per GPU when
the ``single`` strategy exposes them as ``nvidia.com/gpu``.
"""

from __future__ import annotations

import re

from gpu_platform.catalog.instances import INSTANCE_TYPES
from gpu_platform.core.names import SYSTEM_LABEL
from gpu_platform.core.pools import GpuPool, node_labels
from gpu_platform.environment import EnvironmentConfig
from gpu_platform.plan.readiness import Allocatable, ClusterFacts, NodePool, StorageClassFact

MIB = 2**20
GIB = 2**30
MAX_PODS = 110
EVICTION_HARD_MIB = 100

# General-purpose families with 4 GiB per vCPU (the EKS system pool's usual types); sizes
# large=2, xlarge=4, Nxlarge=4N vCPUs. Source: "Amazon EC2 general purpose instance
# specifications", https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html (read 2026-11-26).
_GENERAL_PURPOSE = re.compile(r"^(m5|m5a|m6i|m6a|m6g|m7i|m7a|m7g|m8g)\.(large|xlarge|(\d+)xlarge)$")


def reserved_cpu_millis(vcpus: int) -> int:
    steps = ((1, 60), (1, 10), (2, 5))
    left, total = vcpus, 0.0
    for cores, per_mille in steps:
        used = min(left, cores)
        total += used * per_mille
        left -= used
    total += left * 2.5
    return int(round(total))


def reserved_memory_bytes() -> int:
    return (255 + 11 * MAX_PODS + EVICTION_HARD_MIB) * MIB


def instance_capacity(instance_type: str) -> tuple[int, int, int] | None:
    """(vCPUs, memory GiB, GPUs) of an instance type, None when not known."""
    gpu_type = INSTANCE_TYPES.get(instance_type)
    if gpu_type is not None:
        return gpu_type.vcpus, gpu_type.memory_gib, gpu_type.gpu_count
    match = _GENERAL_PURPOSE.match(instance_type)
    if match is None:
        return None
    size = match.group(2)
    vcpus = 2 if size == "large" else 4 if size == "xlarge" else 4 * int(match.group(3))
    return vcpus, 4 * vcpus, 0


def allocatable(instance_type: str | None, gpus: int) -> Allocatable | None:
    capacity = instance_capacity(instance_type) if instance_type else None
    if capacity is None:
        return Allocatable(None, None, gpus) if gpus else None
    vcpus, memory_gib, _ = capacity
    return Allocatable(vcpus * 1000 - reserved_cpu_millis(vcpus),
                       memory_gib * GIB - reserved_memory_bytes(), gpus)


def advertised_gpus(pool: GpuPool) -> int:
    sharing = pool.sharing
    if sharing.time_slicing is not None:
        return pool.gpu.count * sharing.time_slicing.replicas
    if sharing.mig is not None and sharing.mig.effective_strategy == "single":
        layouts = sharing.mig.device_layouts
        if sharing.mig.profiles is not None:
            return pool.gpu.count * sum(layouts[0].values())
        return sum(sum(layout.values()) or 1 for layout in layouts)
    return pool.gpu.count


def well_known_labels(instance_type: str | None) -> dict[str, str]:
    """The kubelet's own node labels (https://kubernetes.io/docs/reference/labels-annotations-taints/);
    Graviton families (a ``g`` after the generation digit, e.g. m7g) are arm64."""
    labels = {"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
    if instance_type:
        labels["node.kubernetes.io/instance-type"] = instance_type
        if re.match(r"^[a-z]+\d+g[a-z]*\.", instance_type) and instance_type not in INSTANCE_TYPES:
            labels["kubernetes.io/arch"] = "arm64"
    return labels


def environment_facts(env: EnvironmentConfig) -> ClusterFacts:
    pools: list[NodePool] = []
    for name, pool in env.gpu_pools.items():
        aws_pool = env.aws.node_pools.get(name) if env.aws else None
        instance_type = aws_pool.instance_type if aws_pool else None
        taints = [{"key": t.key, "value": t.value, "effect": t.effect} for t in pool.taints]
        labels = {**well_known_labels(instance_type), **node_labels(name, pool)}
        pools.append(NodePool(name, labels, taints,
                              allocatable(instance_type, advertised_gpus(pool)), gpu=True))
    if env.aws is not None:
        system = env.aws.cluster.system_pool
        labels = {**well_known_labels(system.instance_type), SYSTEM_LABEL: "system"}
        pools.append(NodePool("system", labels, [],
                              allocatable(system.instance_type, 0)))
    else:
        pools.append(NodePool("general", well_known_labels(None), []))
    classes = [StorageClassFact(n, c.provisioner, c.default)
               for n, c in env.cluster.storage_classes.items()]
    return ClusterFacts(
        pools=tuple(pools),
        storage_classes=tuple(classes),
        csi_drivers=frozenset(c.provisioner for c in classes),
        network_policy_enforced=env.cluster.network_policy_enforced,
    )

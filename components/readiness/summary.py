"""The platform's facts for the plan summary (``gpu_platform.plan.summary``), from the same
scheduling model as the readiness rules: the environment's pools and allocatable
(``facts.environment_facts``), the plan's pod templates (``pods.pod_templates``) and the fit test
of the ``scheduling`` rule.

Pods that stay running (steady state, no load), per workload kind (upstream API defaults):
Deployments, StatefulSets and ReplicaSets ``spec.replicas`` (default 1); KubeRay RayCluster one
head and each worker group's ``minReplicas`` (ray.io/v1); KServe InferenceService
``predictor.minReplicas`` (default 1, serving.kserve.io/v1beta1); Fluid runtimes
``spec.replicas`` cache workers (default 1), one per node unless ``spec.worker.networkMode`` is
``ContainerNetwork``: the CRD's modes are HostNetwork, "" and ContainerNetwork
(data.fluid.io_juicefsruntimes.yaml at the pinned Fluid), and Fluid's documentation describes
the empty default as the host network (not re-read offline, 2026-11-26), where two workers of one
runtime would claim the same node ports. Jobs, CronJobs, training runtimes and JobSets run on
demand: none. DaemonSets run on nodes that exist for other reasons: none. Each pod goes to the
first pool it fits, pools without GPUs first (a pod that fits the system pool does not hold a
GPU node); pods that fit no pool are the scheduling rule's finding, not counted here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from gpu_platform.core.pools import GpuPool, node_labels
from gpu_platform.environment import EnvironmentConfig
from gpu_platform.plan.model import Plan
from gpu_platform.plan.readiness import NodePool
from gpu_platform.plan.readiness.k8s import pod_requests
from gpu_platform.plan.runner import load_project, load_stack_config, stack_config_path
from gpu_platform.plan.summary import CapacityRow, HeldPod, NodeSetup, SummaryFacts
from gpu_platform.readiness import environment_facts, environment_from_config
from gpu_platform.readiness.facts import advertised_gpus
from gpu_platform.readiness.pods import FLUID_RUNTIMES, PodTemplate, pod_templates
from gpu_platform.readiness.scheduling import GPU_RESOURCE
from gpu_platform.readiness.scheduling import _fits as fits

ON_DEMAND = ("Job", "CronJob", "TrainingRuntime", "ClusterTrainingRuntime", "JobSet", "DaemonSet")


def minimum_replicas(pod: PodTemplate, obj: Mapping[str, Any]) -> int:
    """Pods of one template that run with no load (see the module docstring)."""
    spec = obj.get("spec") or {}
    role = pod.resource.partition("#")[2]
    if pod.kind in ON_DEMAND:
        return 0
    if pod.kind == "RayCluster":
        if role == "head":
            return 1
        groups: list[Mapping[str, Any]] = spec.get("workerGroupSpecs") or []
        group = next((g for g in groups if g.get("groupName") == role), {})
        return int(group.get("minReplicas", group.get("replicas", 0)) or 0)
    if pod.kind == "InferenceService":
        return int((spec.get("predictor") or {}).get("minReplicas", 1))
    if pod.kind == "Pod":
        return 1
    return int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)


def _host_network_worker(kind: str, obj: Mapping[str, Any]) -> bool:
    if kind not in FLUID_RUNTIMES:
        return False
    worker = (obj.get("spec") or {}).get("worker") or {}
    return worker.get("networkMode") != "ContainerNetwork"


def held_pods(objects: list[dict[str, Any]], pools: list[NodePool]) -> Iterator[HeldPod]:
    ordered = sorted(pools, key=lambda p: p.gpu)  # pools without GPUs first
    for pod in pod_templates(objects):
        replicas = minimum_replicas(pod, objects[pod.index])
        if replicas <= 0:
            continue
        requests = pod_requests(pod.spec)
        pool = next((p for p in ordered if fits(pod, p, requests) is None), None)
        if pool is None:
            continue
        yield HeldPod(
            workload=pod.resource, pool=pool.name, replicas=replicas,
            cpu_millis=int(requests.get("cpu", Decimal(0)) * 1000),
            memory_bytes=int(requests.get("memory", Decimal(0))),
            gpus=int(requests.get(GPU_RESOURCE, Decimal(0))),
            one_per_node=_host_network_worker(pod.kind, objects[pod.index]),
        )


def _sharing(pool: GpuPool) -> str:
    if pool.sharing.time_slicing is not None:
        return f"time-slicing x{pool.sharing.time_slicing.replicas}"
    if pool.sharing.mig is not None:
        profiles = pool.sharing.mig.profiles
        if profiles:
            return "MIG " + ", ".join(f"{name} x{count}" for name, count in profiles.items())
        return "MIG (per-device layouts)"
    return "whole GPUs"


def capacity_rows(env: EnvironmentConfig) -> list[CapacityRow]:
    teams = env.training.teams if env.training.enabled else {}
    return [
        CapacityRow(name, f"{pool.gpu.count}x {pool.gpu.model}", _sharing(pool), advertised_gpus(pool),
                    pool.min_size, pool.max_size,
                    {team: t.gpu_pools[name] for team, t in teams.items() if name in t.gpu_pools})
        for name, pool in env.gpu_pools.items()
    ]


def environment_prerequisites(env: EnvironmentConfig, objects: list[dict[str, Any]]) -> list[str]:
    found = []
    for obj in objects:
        if obj.get("kind") == "RayCluster":
            address = ((obj.get("spec") or {}).get("gcsFaultToleranceOptions") or {}).get("redisAddress")
            if address:
                meta = obj.get("metadata") or {}
                found.append(f"Redis reachable at {address} (GCS fault tolerance of RayCluster "
                             f"{meta.get('namespace')}/{meta.get('name')}; not created by the plan)")
    cluster = env.cluster
    if env.aws is None:
        found.append(f"an existing cluster reachable with kubeconfig {cluster.kubeconfig or '$KUBECONFIG'}"
                     + (f", context {cluster.context}" if cluster.context else ""))
        for name, storage_class in cluster.storage_classes.items():
            found.append(f"StorageClass {name} ({storage_class.provisioner}; declared in "
                         "cluster.storageClasses)")
        if cluster.network_policy_enforced:
            found.append("a CNI that enforces NetworkPolicies (declared cluster.networkPolicyEnforced)")
    return found


def node_setup(env: EnvironmentConfig) -> list[NodeSetup]:
    """Existing clusters only: the compute layer labels and taints nodes on AWS."""
    if env.aws is not None:
        return []
    return [NodeSetup(name, node_labels(name, pool), [f"{t.key}={t.value}:{t.effect}" for t in pool.taints])
            for name, pool in env.gpu_pools.items()]


def environment_summary_facts(plan: Plan, env: EnvironmentConfig) -> SummaryFacts:
    facts = environment_facts(env)
    objects = plan.kubernetes_objects()
    defaults = [name for name, c in env.cluster.storage_classes.items() if c.default]
    teams = env.training.teams if env.training.enabled else {}
    return SummaryFacts(
        held=tuple(held_pods(objects, list(facts.pools))),
        shapes={p.name: p.allocatable for p in facts.pools},
        capacity=tuple(capacity_rows(env)),
        team_quotas={name: team.gpu_quota for name, team in teams.items()},
        prerequisites=tuple(environment_prerequisites(env, objects)),
        node_setup=tuple(node_setup(env)),
        default_storage_class=defaults[0] if defaults else None,
    )


def stack_summary_facts(plan: Plan, *, project_dir: Path, stack: str,
                        config_path: Path | None = None) -> SummaryFacts:
    """``PlanPolicy.summary_facts`` for a stack of this project (config from ``config_path``)."""
    namespace = str(load_project(project_dir).get("name", ""))
    config = load_stack_config(config_path or stack_config_path(project_dir, stack))
    return environment_summary_facts(plan, environment_from_config(config.values, namespace))


__all__ = ["environment_summary_facts", "held_pods", "minimum_replicas", "stack_summary_facts"]

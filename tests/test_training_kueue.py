"""KubeRay and Kueue installs, flavors per pool, queue wiring LocalQueue -> ClusterQueue -> flavors."""

import pulumi
import pulumi_kubernetes as k8s
import yaml
from component_outputs import resolved_outputs

from gpu_platform.config import validate_model
from gpu_platform.core.pools import GpuPool
from gpu_platform.plan.model import helm_release_manifest
from gpu_platform.training import KubeRayArgs, KubeRayOperator, Kueue, KueueArgs
from gpu_platform.training.kuberay import KubeRayConfig, kuberay_values
from gpu_platform.training.kueue import KueueConfig, kueue_values
from gpu_platform.training.teams import TeamConfig

RELEASE = "kubernetes:helm.sh/v3:Release"
CR = "kubernetes:kueue.x-k8s.io/v1beta2:"
POOLS = {
    "train": GpuPool.model_validate({"role": "training", "gpu": {"model": "H100-80GB", "count": 8},
                                     "maxSize": 4}),
    "infer": GpuPool.model_validate({"role": "inference", "gpu": {"model": "L4", "count": 1},
                                     "taints": [{"key": "dedicated", "value": "infer"}]}),
}
TEAMS = {
    "ml": validate_model(TeamConfig, {"gpuQuota": 16, "cpuQuota": "128", "memoryQuota": "1Ti",
                                      "gpuPools": {"train": 16}}),
    "cv": validate_model(TeamConfig, {"gpuQuota": 4, "gpuPools": {"train": 2, "infer": 1}}),
}


def test_kuberay_values_and_release(run_component, conformance):
    plan = run_component(lambda: KubeRayOperator("kuberay", KubeRayArgs(), pulumi.ResourceOptions()))
    release = helm_release_manifest(plan.one(RELEASE, "kuberay-chart"))
    assert release == {
        "release": "kuberay-operator", "repository": "https://ray-project.github.io/kuberay-helm/",
        "chart": "kuberay-operator", "version": "1.7.0", "namespace": "ray-system",
        "values": {"replicas": 1, "leaderElectionEnabled": True,
                   "resources": {"limits": {"cpu": "100m", "memory": "512Mi"}},
                   "metrics": {"enabled": True, "serviceMonitor": {"enabled": False}}},
    }
    ns = plan.one("kubernetes:core/v1:Namespace", "kuberay-ns")
    assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert plan.one(RELEASE, "kuberay-chart").dependencies == [ns.urn]
    conformance.assert_conformant(conformance.validate_helm_values("kuberay-operator", release["values"]))
    conformance.assert_conformant(conformance.validate_all(plan.kubernetes_objects()))


def test_kuberay_overrides_merge_last(conformance):
    values = kuberay_values(KubeRayConfig(values_overrides={"metrics": {"enabled": False}}))
    assert values["metrics"] == {"enabled": False, "serviceMonitor": {"enabled": False}}
    conformance.assert_conformant(conformance.validate_helm_values("kuberay-operator", values))


def test_kueue_values_enable_the_training_integrations(conformance):
    values = kueue_values(KueueConfig())
    conformance.assert_conformant(conformance.validate_helm_values("kueue", values))
    assert values["controllerManager"]["manager"]["image"] == {
        "repository": "registry.k8s.io/kueue/kueue", "tag": "v0.19.2", "pullPolicy": "IfNotPresent"}
    manager = yaml.safe_load(values["managerConfig"]["controllerManagerConfigYaml"])
    assert manager["apiVersion"] == "config.kueue.x-k8s.io/v1beta2"
    assert manager["integrations"] == {"frameworks": [
        "batch/job", "ray.io/raycluster", "ray.io/rayjob", "kubeflow.org/pytorchjob",
        "kubeflow.org/mpijob", "trainer.kubeflow.org/trainjob"]}
    assert manager["manageJobsWithoutQueueName"] is False
    # EFA and RDMA devices are per-pod attachments: queued EFA workers must still be admitted
    assert manager["resources"] == {
        "excludeResourcePrefixes": ["vpc.amazonaws.com/", "rdma/"]
    }


def _kueue_plan(run_component):
    args = KueueArgs.of(KueueConfig(), POOLS, TEAMS)
    return run_component(lambda: Kueue("kueue", args, pulumi.ResourceOptions()))


def test_one_flavor_per_pool_from_its_label_and_taints(run_component):
    plan = _kueue_plan(run_component)
    train = plan.one(CR + "ResourceFlavor", "kueue-flavor-train").inputs
    assert train["metadata"]["name"] == "train"
    assert train["spec"] == {
        "nodeLabels": {"gpu-platform.io/pool": "train"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "true",
                         "effect": "NoSchedule"}],
    }
    infer = plan.one(CR + "ResourceFlavor", "kueue-flavor-infer").inputs
    assert infer["spec"]["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "infer", "effect": "NoSchedule"}]
    assert plan.one(CR + "ResourceFlavor", "kueue-flavor-cpu").inputs["spec"] == {}


def test_queue_wiring_local_queue_to_cluster_queue_to_flavors(run_component, conformance):
    plan = _kueue_plan(run_component)
    local = plan.one(CR + "LocalQueue", "kueue-cv-localqueue")
    assert local.inputs["metadata"]["namespace"] == "cv"
    assert local.inputs["spec"] == {"clusterQueue": "cv"}
    cq = plan.one(CR + "ClusterQueue", "kueue-cv-clusterqueue")
    assert local.dependencies == [cq.urn]
    assert cq.inputs["metadata"]["name"] == "cv"
    assert cq.inputs["spec"] == {
        "cohortName": "gpu-platform",
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "cv"}},
        "queueingStrategy": "BestEffortFIFO",
        "resourceGroups": [
            {"coveredResources": ["cpu", "memory"],
             "flavors": [{"name": "cpu", "resources": [{"name": "cpu", "nominalQuota": "64"},
                                                       {"name": "memory", "nominalQuota": "256Gi"}]}]},
            {"coveredResources": ["nvidia.com/gpu"],
             "flavors": [{"name": "train", "resources": [{"name": "nvidia.com/gpu", "nominalQuota": 2}]},
                         {"name": "infer", "resources": [{"name": "nvidia.com/gpu", "nominalQuota": 1}]}]},
        ],
        "preemption": {"reclaimWithinCohort": "Any", "withinClusterQueue": "LowerPriority"},
    }
    flavor_names = {r.inputs["metadata"]["name"]: r.urn for r in plan.find(CR + "ResourceFlavor")}
    release = plan.one(RELEASE, "kueue-chart")
    assert set(cq.dependencies) == {release.urn, *flavor_names.values()}
    ml = plan.one(CR + "ClusterQueue", "kueue-ml-clusterqueue").inputs["spec"]
    assert ml["resourceGroups"][1]["flavors"] == [
        {"name": "train", "resources": [{"name": "nvidia.com/gpu", "nominalQuota": 16}]}]
    conformance.assert_conformant(conformance.validate_all(plan.kubernetes_objects()))
    assert helm_release_manifest(release)["namespace"] == "kueue-system"


def test_kuberay_outputs_and_an_existing_namespace(run_component):
    got = resolved_outputs(run_component, lambda: KubeRayOperator("kuberay", {"namespace": "ray"}),
                     "namespace", "release_name")
    assert got == {"namespace": "ray", "release_name": "kuberay-operator"}
    plan = run_component(lambda: KubeRayOperator("kuberay", {"namespace": "ray", "createNamespace": False}))
    assert plan.find("kubernetes:core/v1:Namespace") == []
    release = plan.one(RELEASE, "kuberay-chart")
    assert (release.inputs["namespace"], release.dependencies) == ("ray", [])


def test_kuberay_waits_for_opts_depends_on(run_component):
    def program():
        crds = k8s.core.v1.Namespace("scheduler", metadata={"name": "scheduler"})
        KubeRayOperator("kuberay", KubeRayArgs.of(KubeRayConfig(), "volcano"),
                        pulumi.ResourceOptions(depends_on=[crds]))

    plan = run_component(program)
    scheduler = plan.one("kubernetes:core/v1:Namespace", "scheduler").urn
    release = plan.one(RELEASE, "kuberay-chart")
    own = plan.one("kubernetes:core/v1:Namespace", "kuberay-ns").urn
    assert set(release.dependencies) == {own, scheduler}
    assert helm_release_manifest(release)["values"]["batchScheduler"] == {"name": "volcano"}


def test_kuberay_refuses_bad_args(refused):
    bad = {"enabled": True, "replicas": 0, "batchScheduler": "yunikorn"}
    err = refused(lambda: KubeRayOperator("kuberay", bad))
    assert str(err) == (
        "invalid args of KubeRayOperator 'kuberay' (3 errors):\n"
        "  - replicas: must be >= 1 (got 0)\n"
        "  - batchScheduler: must be one of 'volcano' (got \"yunikorn\")\n"
        "  - enabled: unknown key; allowed keys: batchScheduler, cpu, createNamespace, memory, namespace, "
        "podSecurity, replicas, serviceMonitor, valuesOverrides")


def test_kueue_outputs_name_the_queues(run_component):
    got = resolved_outputs(run_component, lambda: Kueue("kueue", KueueArgs.of(KueueConfig(), POOLS, TEAMS)),
                     "namespace", "release_name", "cluster_queue_names", "local_queue_names")
    assert got == {"namespace": "kueue-system", "release_name": "kueue",
                   "cluster_queue_names": {"ml": "ml", "cv": "cv"},
                   "local_queue_names": {"ml": "ml", "cv": "cv"}}


def test_kueue_in_an_existing_namespace_after_opts_depends_on(run_component):
    def program():
        ns = k8s.core.v1.Namespace("kueue-system", metadata={"name": "kueue-system"})
        args = {"createNamespace": False, "pools": POOLS, "teams": {}}
        Kueue("kueue", args, pulumi.ResourceOptions(depends_on=[ns]))

    plan = run_component(program)
    ns = plan.one("kubernetes:core/v1:Namespace", "kueue-system").urn
    release = plan.one(RELEASE, "kueue-chart")
    assert release.dependencies == [ns]
    assert set(plan.one(CR + "ResourceFlavor", "kueue-flavor-train").dependencies) == {ns, release.urn}


def test_kueue_refuses_a_quota_on_a_pool_without_a_flavor(refused):
    teams = {"ml": {"gpuQuota": 8, "gpuPools": {"trian": 8}}}
    err = refused(lambda: Kueue("kueue", {"pools": POOLS, "teams": teams}))
    assert str(err) == (
        "invalid args of Kueue 'kueue' (1 error):\n"
        "  - teams.ml.gpuPools.trian: unknown GPU pool; known pools: infer, train (got 8)")
    err = refused(lambda: Kueue("kueue", {"pools": POOLS, "cohort": "Shared"}))
    assert str(err) == (
        "invalid args of Kueue 'kueue' (1 error):\n"
        "  - cohort: must be a DNS label: lowercase letters, digits and '-', starting and ending with a "
        'letter or digit (got "Shared")')

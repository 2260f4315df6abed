"""Observability: PodMonitors selecting exactly the namespaces that run each workload, NetworkPolicies
admitting Prometheus on the metrics port only, GPU cost rules priced from the catalog."""

import pytest

from gpu_platform.catalog.instances import INSTANCE_TYPES
from gpu_platform.gpu.monitoring import KSM_NODE_LABELS_ALLOWLIST, MonitoringConfig, prometheus_stack_values
from gpu_platform.monitoring.observability import Observability, ObservabilityArgs
from gpu_platform.monitoring.scrape import ScrapeTarget, metrics_network_policies, pod_monitor

PODMONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
RAY = ScrapeTarget(
    name="ray", namespaces=("llm", "research"), port="metrics", port_number=8080,
    selector={"matchExpressions": [{"key": "ray.io/cluster", "operator": "In", "values": ["llm"]}]},
    isolated_namespaces=("llm",),
)


def objects(plan, kind):
    return [o for o in plan.kubernetes_objects() if o["kind"] == kind]


def test_prod_scrape_paths_select_exactly_the_namespaces_that_run_each_workload(plan_env, conformance):
    plan = plan_env("prod")
    monitors = {o["metadata"]["name"]: o for o in objects(plan, "PodMonitor")}
    assert {name: (m["metadata"]["namespace"], m["spec"]["namespaceSelector"], m["spec"]["selector"],
                   m["spec"]["podMetricsEndpoints"][0].get("port")
                   or m["spec"]["podMetricsEndpoints"][0]["portNumber"])
            for name, m in monitors.items()} == {
        "vllm-predictors": ("monitoring", {"matchNames": ["ml-serving"]},
                            {"matchExpressions": [{"key": "serving.kserve.io/inferenceservice",
                                                   "operator": "Exists"}]}, 8080),
        "ray": ("monitoring", {"matchNames": ["llm"]},
                {"matchExpressions": [{"key": "ray.io/cluster", "operator": "In", "values": ["llm"]}]},
                "metrics"),
        "training-jobs": ("monitoring", {"matchNames": ["llm", "research"]},
                          {"matchExpressions": [{"key": "jobset.sigs.k8s.io/jobset-name",
                                                 "operator": "Exists"}]}, "metrics"),
    }
    # KServe's pod label becomes the series' inference_service label the serving alerts group by
    assert monitors["vllm-predictors"]["spec"]["podMetricsEndpoints"][0]["relabelings"] == [{
        "action": "replace",
        "sourceLabels": ["__meta_kubernetes_pod_label_serving_kserve_io_inferenceservice"],
        "targetLabel": "inference_service"}]
    assert monitors["training-jobs"]["metadata"]["annotations"] == {
        "gpu-platform.io/application-metrics": "training_step_total"}
    policies = [o for o in objects(plan, "NetworkPolicy") if "allow-prometheus" in o["metadata"]["name"]]
    assert sorted((p["metadata"]["namespace"], p["metadata"]["name"]) for p in policies) == [
        ("llm", "allow-prometheus-ray"), ("llm", "allow-prometheus-training-jobs"),
        ("research", "allow-prometheus-training-jobs"),
    ]
    every = [*monitors.values(), *policies, *objects(plan, "PrometheusRule")]
    conformance.assert_conformant(conformance.validate_all(every))


def test_the_policy_admits_prometheus_from_monitoring_on_the_metrics_port_only():
    assert metrics_network_policies([RAY], "monitoring") == [{
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow-prometheus-ray", "namespace": "llm", "labels": {
            "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "gpu-platform",
            "app.kubernetes.io/component": "scrape-paths"}},
        "spec": {
            "podSelector": RAY.selector,
            "policyTypes": ["Ingress"],
            "ingress": [{
                "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                          "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}],
                "ports": [{"protocol": "TCP", "port": 8080}],
            }],
        },
    }]


def test_namespaces_that_isolate_nothing_get_no_policy():
    # a policy there would isolate the pods and cut off their other clients
    open_target = ScrapeTarget(name="vllm", namespaces=("ml-serving",), selector={}, port=None,
                               port_number=8080)
    assert metrics_network_policies([open_target], "monitoring") == []
    spec = pod_monitor(open_target, "monitoring", "30s")["spec"]
    assert spec["namespaceSelector"] == {"matchNames": ["ml-serving"]}
    assert spec["podMetricsEndpoints"] == [{"portNumber": 8080, "path": "/metrics", "interval": "30s"}]


def test_cost_rules_use_the_catalog_price_per_gpu(plan_env):
    rule = next(o for o in objects(plan_env("prod"), "PrometheusRule")
                if o["metadata"]["name"] == "gpu-platform-cost")
    prices = {r["labels"]["pool"]: r["expr"] for r in rule["spec"]["groups"][0]["rules"]
              if r.get("record") == "gpu_platform:pool_gpu_price_usd_per_hour"}
    expected = {pool: INSTANCE_TYPES[t].price_usd_hour / INSTANCE_TYPES[t].gpu_count
                for pool, t in {"infer": "p4de.24xlarge", "notebooks": "g6.xlarge",
                                "train": "p5.48xlarge"}.items()}
    assert {pool: float(expr[len("vector("):-1]) for pool, expr in prices.items()} == pytest.approx(
        expected, abs=1e-4)
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert {r["alert"] for r in rule["spec"]["groups"][0]["rules"] if "alert" in r} == {
        "GpuCostSpike", "GpuIdlePaid"}


def test_on_premises_pools_are_unpriced_so_no_cost_rules(plan_env):
    assert [o["metadata"]["name"] for o in objects(plan_env("onprem"), "PrometheusRule")] == [
        "gpu-platform-alerts"]


def test_kube_state_metrics_exports_the_pool_label_of_nodes():
    values = prometheus_stack_values(MonitoringConfig(), managed_control_plane=True)
    assert values["kube-state-metrics"] == {"metricLabelsAllowlist": ["nodes=[gpu-platform.io/pool]"]}
    assert KSM_NODE_LABELS_ALLOWLIST == "nodes=[gpu-platform.io/pool]"


def test_component_registers_its_children_under_itself(run_component):
    plan = run_component(lambda: Observability("obs", ObservabilityArgs(targets=[RAY])))
    assert [r.name for r in plan.find(PODMONITOR)] == ["obs-podmonitor-ray"]
    assert [r.name for r in plan.find(POLICY)] == ["obs-llm-allow-prometheus-ray"]
    assert plan.find(RULE) == []  # no priced pool
    assert all(r.parent.endswith("gpu-platform:monitoring:Observability::obs")
               for r in [*plan.find(PODMONITOR), *plan.find(POLICY)])


def test_duplicate_and_empty_targets_are_refused(refused):
    bad = {"targets": [RAY, RAY, ScrapeTarget(name="x", namespaces=(), selector={}, port=None)]}
    err = refused(lambda: Observability("obs", bad))
    assert str(err) == "\n".join([
        "invalid args of Observability 'obs' (3 errors):",
        "  - targets.1.name: is used by another target; names must be unique (got \"ray\")",
        "  - targets.2.namespaces: must name at least one namespace (got [])",
        "  - targets.2.port: name the metrics port, or give portNumber (got null)",
    ])

"""Readiness "alerts are not blind": prod has a scrape path for every alerted metric; plans with
the monitors, the NetworkPolicies or Prometheus taken away are reported, naming alert and metric."""

from dataclasses import replace

import pytest

from gpu_platform.monitoring.readiness import (
    ScrapeModel,
    blind_alerts,
    metrics_of,
    object_labels_read,
    selector_matches,
)


def without(plan, predicate):
    """The same plan minus the resources ``predicate`` picks (a blind fixture)."""
    return replace(plan, resources=[r for r in plan.resources if not predicate(r)])


@pytest.mark.parametrize("env", ["prod", "staging", "dev", "onprem"])
def test_no_alert_is_blind(plan_env, env):
    assert blind_alerts(plan_env(env)) == []


def test_prod_scrapes_every_exporter_its_alerts_read(plan_env):
    model = ScrapeModel(plan_env("prod"))
    paths = {name: sorted({(s.namespace, tuple(s.monitors)) for s in sources})
             for name, sources in model.sources.items()}
    assert paths == {
        # chart-made ServiceMonitors (GPU Operator, kube-prometheus-stack)
        "dcgm-exporter": [("gpu-operator", ())],
        "kube-state-metrics": [("monitoring", ())],
        "vllm": [("ml-serving", ("vllm-predictors",))],
        "ray": [("llm", ("ray",))],
        "training_step_total": [("llm", ("training-jobs",)), ("research", ("training-jobs",))],
    }
    alerts = {r["alert"]: r["expr"] for o in plan_env("prod").kubernetes_objects()
              if o["kind"] == "PrometheusRule" for g in o["spec"]["groups"] for r in g["rules"]
              if "alert" in r}
    assert len(alerts) == 14
    assert all(metrics_of(expr) for expr in alerts.values())


def test_without_monitors_the_serving_and_training_alerts_are_blind(plan_env):
    blind = without(plan_env("prod"), lambda r: r.type.endswith(":PodMonitor"))
    found = {(f.rule, f.metric) for f in blind_alerts(blind)}
    assert found == {
        ("InferenceErrorRate", "http_requests_total"),
        ("InferenceErrorRate", "vllm:request_success_total"),
        ("InferenceLatencyHigh", "vllm:e2e_request_latency_seconds_bucket"),
        ("InferenceQueueBacklog", "vllm:num_requests_waiting"),
        ("TrainingStalled", "training_step_total"),
    }
    messages = [f.message for f in blind_alerts(blind) if f.rule == "InferenceQueueBacklog"]
    assert messages == [
        "InferenceQueueBacklog uses vllm:num_requests_waiting, but no PodMonitor Prometheus selects "
        "picks its pods in namespace ml-serving on port http"
    ]
    assert {f.severity for f in blind_alerts(blind)} == {"error"}


def test_team_default_deny_without_the_prometheus_policy_blinds_training_alerts(plan_env):
    blind = without(plan_env("prod"), lambda r: "allow-prometheus" in r.name)
    assert [f.message for f in blind_alerts(blind)] == [
        "TrainingStalled uses training_step_total, but the NetworkPolicies of namespace llm do not "
        "admit Prometheus from monitoring on port metrics"
    ]


def test_without_prometheus_every_metric_is_reported(plan_env):
    blind = without(plan_env("prod"), lambda r: r.name == "platform-prometheus-chart")
    findings = blind_alerts(blind)
    assert ("GpuXidErrors", "DCGM_FI_DEV_XID_ERRORS") in {(f.rule, f.metric) for f in findings}
    assert {f.message.split(", ", 1)[1] for f in findings} == {
        "but the plan installs no Prometheus (kube-prometheus-stack) to scrape it"
    }


def test_a_metric_no_exporter_exports_is_reported(plan_env):
    plan = plan_env("prod")
    rule = next(r for r in plan.resources if r.name == "platform-gpu-alerts-rules")
    groups = [{**g, "rules": [*g["rules"], {"alert": "Invented", "expr": "gpu_fans_broken > 0"}]}
              for g in rule.inputs["spec"]["groups"]]
    edited = replace(rule, inputs={**rule.inputs, "spec": {"groups": groups}})
    blind = replace(plan, resources=[edited if r is rule else r for r in plan.resources])
    assert [f.message for f in blind_alerts(blind)] == [
        "Invented uses gpu_fans_broken, which is exported by nothing the plan runs"
    ]


def test_metrics_of_skips_functions_labels_strings_and_durations():
    expr = (
        'max by (node, pool) (label_replace(kube_node_labels{label_gpu_platform_io_pool!=""}, "pool", '
        '"$1", "label_gpu_platform_io_pool", "(.+)")) * on (pool) group_left gpu_platform:pool_node_gpus'
        " / on (node) group_left gpu_platform:node_gpu_units and rate(x_total[5m] offset 1h) > 0"
        ' unless sum without (le) (y_bucket{le="+Inf"}) < bool 2'
    )
    assert metrics_of(expr) == {
        "kube_node_labels", "gpu_platform:pool_node_gpus", "gpu_platform:node_gpu_units", "x_total",
        "y_bucket",
    }


def test_selectors_follow_kubernetes_semantics():
    labels = {"ray.io/cluster": "llm", "ray.io/node-type": "head"}
    assert selector_matches({}, labels)
    assert selector_matches({"matchExpressions": [
        {"key": "ray.io/cluster", "operator": "In", "values": ["llm"]},
        {"key": "gone", "operator": "DoesNotExist"}]}, labels)
    assert not selector_matches({"matchExpressions": [
        {"key": "ray.io/cluster", "operator": "NotIn", "values": ["llm"]}]}, labels)
    assert not selector_matches({"matchLabels": {"ray.io/node-type": "worker"}}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "x", "operator": "Exists"}]}, labels)


def test_a_node_label_kube_state_metrics_does_not_allow_list_is_reported(plan_env):
    plan = plan_env("prod")
    stack = next(r for r in plan.resources if r.name == "platform-prometheus-chart")
    values = {k: v for k, v in stack.inputs["values"].items() if k != "kube-state-metrics"}
    edited = replace(stack, inputs={**stack.inputs, "values": values})
    blind = replace(plan, resources=[edited if r is stack else r for r in plan.resources])
    assert [f.message for f in blind_alerts(blind)] == [
        "gpu_platform:node_gpus_per_unit uses kube_node_labels label label_gpu_platform_io_pool, which "
        "kube-state-metrics exports only when allow-listed in kube-state-metrics.metricLabelsAllowlist"
    ]


def test_object_labels_read_finds_label_matchers_of_kube_labels_metrics():
    assert object_labels_read(
        'kube_node_labels{label_gpu_platform_io_pool!="", node=~"a.*"}'
        ' * on (pod) kube_pod_labels{label_app="x"} and kube_node_info{label_x="y"}'
    ) == {("kube_node_labels", "label_gpu_platform_io_pool"), ("kube_pod_labels", "label_app")}


def test_blind_alerts_are_readiness_errors_through_platform_readiness(plan_env):
    """Issue 14's check runs as the readiness rule ``alerts``: `gpu-platform plan` exits 3 on it."""
    from test_readiness_environments import facts_of

    from gpu_platform.readiness import RULES, platform_readiness
    from gpu_platform.readiness.alerts import alerts_rule

    assert alerts_rule in RULES
    blind = without(plan_env("prod"), lambda r: "allow-prometheus" in r.name)
    findings = [f for f in platform_readiness(blind, facts_of("prod")) if f.rule == "alerts"]
    assert [(f.severity, f.resource, f.message) for f in findings] == [(
        "error", "PrometheusRule/gpu-operator/gpu-platform-alerts TrainingStalled",
        "TrainingStalled uses training_step_total, but the NetworkPolicies of namespace llm do not "
        "admit Prometheus from monitoring on port metrics")]


@pytest.mark.parametrize("env", ["prod", "staging", "dev", "onprem"])
def test_no_environment_has_an_alerts_finding(plan_env, env):
    from test_readiness_environments import facts_of

    from gpu_platform.readiness import platform_readiness

    assert [f for f in platform_readiness(plan_env(env), facts_of(env)) if f.rule == "alerts"] == []


def test_without_prometheus_in_the_plan_alerts_are_a_warning_per_prometheus_rule(plan_env):
    """An existing cluster's own Prometheus loads the rules: the plan cannot see its scrape paths."""
    from test_readiness_environments import facts_of

    from gpu_platform.readiness import platform_readiness

    blind = without(plan_env("prod"), lambda r: r.name == "platform-prometheus-chart")
    findings = [f for f in platform_readiness(blind, facts_of("prod")) if f.rule == "alerts"]
    assert {f.severity for f in findings} == {"warning"}
    assert len(findings) == len({f.resource for f in findings})  # one per PrometheusRule
    gpu = next(f for f in findings if f.resource == "PrometheusRule/gpu-operator/gpu-platform-alerts")
    assert gpu.message.startswith("the plan installs no Prometheus (kube-prometheus-stack), so whether "
                                  "the cluster's scrapes what ")
    assert "DCGM_FI_DEV_XID_ERRORS" in gpu.message and "GpuXidErrors" in gpu.message


def test_alerts_of_a_switched_off_area_are_not_rendered():
    """Serving and training off: their workload-metric alerts would be blind, so none is rendered."""
    from gpu_platform.environment import EnvironmentConfig
    from gpu_platform.gpu.alert_rules import gpu_alert_rules
    from gpu_platform.platform import alerts_for

    env = EnvironmentConfig.model_validate({"cluster": {"kind": "existing"}})
    names = {r["alert"] for r in gpu_alert_rules(alerts_for(env))}
    assert not names & {"InferenceErrorRate", "InferenceLatencyHigh", "InferenceQueueBacklog",
                        "TrainingStalled"}
    assert {"GpuXidErrors", "TrainingJobFailed"} <= names
    on = EnvironmentConfig.model_validate({"cluster": {"kind": "existing"}, "serving": {"enabled": True}})
    assert "InferenceQueueBacklog" in {r["alert"] for r in gpu_alert_rules(alerts_for(on))}

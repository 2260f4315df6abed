"""Autoscaling on serving signals: KEDA installs pinned and guarded, an InferenceService scales on
vLLM's queue and KV-cache usage (and GPU/CPU utilisation) through KServe 0.20's KEDA integration,
rendered exactly and valid against the KServe CRD; what cannot work is refused by path."""

import pulumi
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.core.pools import GpuPool, pool_scheduling
from gpu_platform.environment import EnvironmentConfig
from gpu_platform.k8s.crds import crd_handling
from gpu_platform.plan.model import helm_release_manifest
from gpu_platform.policy import chart_duration
from gpu_platform.serving import Keda, ServingConfig, build_serving, check_serving_autoscaling
from gpu_platform.serving.autoscaling import AutoscalingSpec, queries, render_autoscaling
from gpu_platform.serving.inference_service import InferenceServiceSpec, render_inference_service
from gpu_platform.serving.keda import KedaConfig, keda_values

REL = "kubernetes:helm.sh/v3:Release"
CR = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
PROM = "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
POOLS = {
    "infer": GpuPool.model_validate({"role": "inference", "gpu": {"model": "A100-80GB", "count": 8}}),
    "mig": GpuPool.model_validate({"role": "inference", "gpu": {"model": "A100-80GB", "count": 8},
                                   "sharing": {"mig": {"profiles": {"3g.40gb": 2}}}}),
    "shared": GpuPool.model_validate({"role": "interactive", "gpu": {"model": "L4", "count": 1},
                                      "sharing": {"timeSlicing": {"replicas": 2}}}),
}
LLAMA = {
    "storageUri": "s3://models/llama-8b", "pool": "infer", "model": {"catalog": "llama-3.1-8b-instruct"},
    "minReplicas": 1, "maxReplicas": 4, "vllm": {"maxModelLen": 8192},
    "autoscaling": {"waitingRequests": 5, "kvCacheUsage": 0.8, "gpuUtilization": 80,
                    "scaleDownStabilizationSeconds": 300},
}


def _config(services, **extra):
    return validate_model(ServingConfig, {"enabled": True, "keda": {"enabled": True},
                                          "inferenceServices": services, **extra})


def _errors(fn):
    with pytest.raises(ConfigError) as err:
        fn()
    return [str(i) for i in err.value.issues]


def test_a_vllm_queue_and_kv_cache_drive_the_inference_service(run_component, conformance):
    config = _config({"llama": LLAMA})
    plan = run_component(lambda: build_serving("serving", config, POOLS, pulumi.ResourceOptions(),
                                               prometheus_url=pulumi.Output.from_input(PROM)))
    isvc = plan.one(CR, "serving-llama-isvc")
    keda = plan.one(REL, "serving-keda-chart")
    assert keda.urn in isvc.dependencies  # KServe creates ScaledObjects: KEDA's CRDs first
    annotations = isvc.inputs["metadata"]["annotations"]
    assert annotations["serving.kserve.io/autoscalerClass"] == "keda"
    predictor = isvc.inputs["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (1, 4)
    assert "scaleMetric" not in predictor and "scaleTarget" not in predictor

    def external(query, value):
        return {"type": "External", "external": {
            "metric": {"backend": "prometheus", "serverAddress": PROM, "query": query},
            "target": {"type": "Value", "value": value}}}

    assert predictor["autoScaling"] == {
        "metrics": [
            external('sum(vllm:num_requests_waiting{namespace="ml-serving",model_name="llama"})', "5"),
            external('sum(vllm:kv_cache_usage_perc{namespace="ml-serving",model_name="llama"})', "0.8"),
            external('sum(DCGM_FI_DEV_GPU_UTIL{exported_namespace="ml-serving",'
                     'exported_pod=~"llama-predictor-.*"})', "80"),
        ],
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
    }
    conformance.assert_conformant(conformance.validate_all(plan.kubernetes_objects()))


def test_cpu_only_models_scale_on_cpu_without_prometheus(run_component, conformance):
    spec = {"storageUri": "pvc://models/iris", "gpus": 0, "runtime": "kserve-sklearnserver",
            "maxReplicas": 3, "autoscaling": {"cpuUtilization": 70}}
    config = _config({"iris": spec}, runtimes={"builtin": {"sklearnserver": True}})
    assert check_serving_autoscaling(config, prometheus_installed=False) == []
    plan = run_component(lambda: build_serving("serving", config, POOLS, pulumi.ResourceOptions()))
    predictor = plan.one(CR, "serving-iris-isvc").inputs["spec"]["predictor"]
    assert predictor["autoScaling"] == {"metrics": [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}
    conformance.assert_conformant(conformance.validate_all(plan.kubernetes_objects()))


def test_mig_slices_scale_on_graphics_engine_activity():
    # MIG instances report no DCGM_FI_DEV_GPU_UTIL; the engine-active ratio is scaled to percent
    assert queries("ns", "svc", "m", mig=True)["gpuUtilization"] == (
        'sum(DCGM_FI_PROF_GR_ENGINE_ACTIVE{exported_namespace="ns",exported_pod=~"svc-predictor-.*"})'
        " * 100")
    spec = InferenceServiceSpec.model_validate({**LLAMA, "pool": "mig"})
    obj = render_inference_service("llama", "ml", spec, "RawDeployment",
                                   pool_scheduling("mig", POOLS["mig"]), "vllm",
                                   prometheus_url=PROM, mig=True)
    assert "DCGM_FI_PROF_GR_ENGINE_ACTIVE" in obj["spec"]["predictor"]["autoScaling"]["metrics"][2][
        "external"]["metric"]["query"]


def test_what_keda_cannot_scale_on_is_refused_by_path():
    assert _errors(lambda: validate_model(ServingConfig, {
        "enabled": True, "deploymentMode": "Serverless",
        "inferenceServices": {"a": {**LLAMA, "scaleMetric": "concurrency", "scaleTarget": 4},
                              "b": {**LLAMA, "autoscaling": {}}}})) == [
        "inferenceServices.a.scaleMetric: autoscaling (KEDA) replaces scaleMetric/scaleTarget; "
        'remove one (got "concurrency")',
        "inferenceServices.b.autoscaling: set at least one of waitingRequests, kvCacheUsage, "
        "gpuUtilization or cpuUtilization",
        "inferenceServices.a.autoscaling: KServe scales with KEDA in RawDeployment only; Serverless "
        "scales with Knative (scaleMetric concurrency or rps)",
        "inferenceServices.a.autoscaling: needs KEDA: set serving.keda.enabled: true",
        "inferenceServices.b.autoscaling: KServe scales with KEDA in RawDeployment only; Serverless "
        "scales with Knative (scaleMetric concurrency or rps)",
        "inferenceServices.b.autoscaling: needs KEDA: set serving.keda.enabled: true",
    ]


def test_triggers_without_a_metric_source_are_refused():
    config = _config({
        "hf": {"storageUri": "pvc://m/hf", "pool": "infer", "runtime": "kserve-huggingfaceserver",
               "model": {"catalog": "llama-3.1-8b-instruct"}, "autoscaling": {"waitingRequests": 2}},
        "shared": {**LLAMA, "pool": "shared", "model": {"catalog": "qwen2.5-1.5b-instruct"},
                   "vllm": {"gpuMemoryUtilization": 0.5}},
        "cpu": {"storageUri": "pvc://m/c", "gpus": 0, "runtime": "kserve-huggingfaceserver",
                "autoscaling": {"gpuUtilization": 50}},
    }, runtimes={"builtin": {"huggingfaceserver": True}})
    assert _errors(lambda: build_serving("s", config, POOLS, pulumi.ResourceOptions(),
                                         prometheus_url=PROM)) == [
        "serving.inferenceServices.hf.autoscaling.waitingRequests: is a vLLM metric; use "
        "gpuUtilization or cpuUtilization with other runtimes (got 2.0)",
        "serving.inferenceServices.shared.autoscaling.gpuUtilization: a time-sliced GPU reports one "
        "utilisation for every pod sharing it; scale on waitingRequests or kvCacheUsage (got 80)",
        "serving.inferenceServices.cpu.autoscaling.gpuUtilization: the predictor has no GPU; use "
        "cpuUtilization (got 50)",
    ]


def test_the_environment_must_know_which_prometheus_keda_queries():
    env = {"cluster": {"kind": "existing", "context": "c"},
           "gpuPools": {"infer": {"role": "inference", "gpu": {"model": "A100-80GB", "count": 8}}},
           "serving": {"enabled": True, "keda": {"enabled": True},
                       "inferenceServices": {"llama": LLAMA}}}
    assert _errors(lambda: validate_model(EnvironmentConfig, env)) == [
        "serving.keda.prometheusUrl: is required: llama scale on Prometheus metrics and "
        "monitoring.installPrometheusStack is false; give the URL of the cluster's Prometheus"]
    validate_model(EnvironmentConfig, {**env, "monitoring": {"installPrometheusStack": True}})
    with_url = {**env["serving"], "keda": {"enabled": True, "prometheusUrl": "http://prom.obs:9090"}}
    validate_model(EnvironmentConfig, {**env, "serving": with_url})


def test_an_inference_service_alone_needs_the_prometheus_url(refused):
    from gpu_platform.serving import InferenceService

    args = {"serviceName": "llama", "spec": LLAMA, "pools": POOLS}
    err = refused(lambda: InferenceService("i", args))
    assert [str(i) for i in err.issues] == [
        "prometheusUrl: is required for autoscaling on Prometheus metrics (waitingRequests, "
        "kvCacheUsage, gpuUtilization)"]


# --- the KEDA install -------------------------------------------------------------------------

def test_keda_is_pinned_guarded_restricted_and_conformant(run_component, conformance):
    plan = run_component(lambda: Keda("keda", {"prometheusUrl": PROM}))
    release = plan.one(REL, "keda-chart")
    assert helm_release_manifest(release) == {
        "release": "keda", "repository": "https://kedacore.github.io/charts", "chart": "keda",
        "version": "2.20.2", "namespace": "keda", "values": {"crds": {"install": True}},
    }
    # the chart templates its CRDs without helm's keep annotation: removing it would delete them
    assert crd_handling("keda") == "guarded-release"
    assert (release.protect, release.retain_on_delete) == (True, True)
    (ns,) = plan.kubernetes_objects()
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    # the plan's deploy time: KEDA's three small Deployments, about a minute (gpu_platform.policy)
    assert chart_duration(release).seconds == 60
    conformance.assert_conformant(conformance.validate_helm_values("keda", keda_values(KedaConfig())))
    overrides = KedaConfig(values_overrides={"operator": {"replicaCount": 2}})
    conformance.assert_conformant(conformance.validate_helm_values("keda", keda_values(overrides)))


def test_keda_refuses_a_prometheus_address_that_is_not_a_url(refused):
    err = refused(lambda: Keda("k", {"prometheusUrl": "prometheus:9090"}))
    assert str(err) == (
        "invalid args of Keda 'k' (1 error):\n"
        "  - prometheusUrl: must be an http(s) URL such as http://prometheus.monitoring.svc:9090 "
        '(got "prometheus:9090")')
    err = refused(lambda: Keda("k", {"namespace": "KEDA"}))
    assert [str(i) for i in err.issues] == [
        "namespace: must be a DNS label: lowercase letters, digits and '-', starting and ending "
        'with a letter or digit (got "KEDA")']


def test_keda_outputs_and_an_existing_namespace(run_component):
    got = {}

    def program():
        keda = Keda("k", {"namespace": "autoscaling", "createNamespace": False,
                          "prometheusUrl": pulumi.Output.from_input(PROM)})
        pulumi.Output.all(keda.namespace, keda.release_name, keda.prometheus_url).apply(
            lambda v: got.update(zip(("namespace", "release_name", "prometheus_url"), v, strict=True)))

    plan = run_component(program)
    assert got == {"namespace": "autoscaling", "release_name": "keda", "prometheus_url": PROM}
    assert plan.find("kubernetes:core/v1:Namespace") == []


# --- the environments -------------------------------------------------------------------------

@pytest.mark.parametrize("env", ["prod", "staging"])
def test_prod_and_staging_install_keda_and_scale_on_vllm(plan_env, env):
    plan = plan_env(env)
    keda = plan.one(REL, "platform-serving-keda-chart")
    (isvc,) = plan.find(CR)
    assert keda.urn in isvc.dependencies
    metrics = isvc.inputs["spec"]["predictor"]["autoScaling"]["metrics"]
    queries_ = [m["external"]["metric"]["query"] for m in metrics]
    assert any("vllm:num_requests_waiting" in q for q in queries_)
    assert any("vllm:kv_cache_usage_perc" in q for q in queries_)
    # the Prometheus the monitoring component installs
    assert {m["external"]["metric"]["serverAddress"] for m in metrics} == {PROM}


def test_dev_scales_to_zero_with_knative_and_installs_no_keda(plan_env):
    plan = plan_env("dev")
    assert plan.find(REL, "platform-serving-keda-chart") == []
    (isvc,) = plan.find(CR)
    assert isvc.inputs["spec"]["predictor"]["minReplicas"] == 0
    assert isvc.inputs["metadata"]["annotations"]["autoscaling.knative.dev/metric"] == "concurrency"


# --- properties of the pure rendering -------------------------------------------------------------

@given(st.one_of(st.none(), st.floats(0.5, 100)), st.one_of(st.none(), st.floats(0.05, 1.0)),
       st.one_of(st.none(), st.integers(1, 100)), st.one_of(st.none(), st.integers(1, 100)),
       st.booleans())
def test_every_target_becomes_one_trigger_summed_over_the_pods(queue, kv, gpu, cpu, mig):
    spec = AutoscalingSpec(waiting_requests=queue, kv_cache_usage=kv, gpu_utilization=gpu,
                           cpu_utilization=cpu)
    rendered = render_autoscaling(spec, namespace="ns", service="svc", model_name="m",
                                  prometheus_url=PROM, mig=mig)
    metrics = rendered["metrics"]
    assert len(metrics) == len(spec.triggers)
    external = [m["external"] for m in metrics if m["type"] == "External"]
    assert len(external) == len(spec.triggers) - (cpu is not None)
    for trigger in external:  # KEDA divides the result by the target: a sum, never an average
        assert trigger["metric"]["query"].startswith("sum(")
        assert float(trigger["target"]["value"]) > 0
    assert spec.needs_prometheus == bool(external)

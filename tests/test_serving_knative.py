"""Serverless serving: Knative Serving + Kourier from pinned release YAMLs (CRDs guarded), wired by
ConfigMap patches, installed before KServe's controller; RawDeployment installs none of it."""

import pulumi
import pytest

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.core.pools import GpuPool
from gpu_platform.serving import ServingConfig, build_serving
from gpu_platform.serving.inference_service import InferenceServiceSpec
from gpu_platform.serving.knative import knative_config_patches, knative_manifests
from gpu_platform.serving.kserve import KServeConfig, kserve_controller_values

CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"
PATCH = "kubernetes:core/v1:ConfigMapPatch"
REL = "kubernetes:helm.sh/v3:Release"
CR = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
POOLS = {"infer": GpuPool.model_validate({"role": "inference", "gpu": {"model": "L4", "count": 1}})}
SERVING = "https://github.com/knative/serving/releases/download/knative-v1.23.0"
KOURIER = "https://github.com/knative/net-kourier/releases/download/knative-v1.23.0"
CANARY = {"storageUri": "s3://models/llama-8b", "pool": "infer", "minReplicas": 0, "maxReplicas": 4,
          "model": {"catalog": "llama-3.1-8b-instruct"}, "vllm": {"maxModelLen": 8192},
          "scaleMetric": "concurrency", "scaleTarget": 8, "canaryTrafficPercent": 10}


def _serverless(data=None):
    return validate_model(ServingConfig, {"enabled": True, "deploymentMode": "Serverless", **(data or {})})


def _plan(run_component, config, pools=None):
    return run_component(lambda: build_serving("serving", config, pools or {}, pulumi.ResourceOptions()))


def test_serverless_installs_pinned_release_yamls_in_order(run_component):
    plan = _plan(run_component, _serverless())
    crds = plan.one(CONFIG_FILE, "serving-knative-crds")
    core = plan.one(CONFIG_FILE, "serving-knative-core")
    kourier = plan.one(CONFIG_FILE, "serving-knative-kourier")
    assert crds.inputs == {"file": f"{SERVING}/serving-crds.yaml"}
    assert core.inputs == {"file": f"{SERVING}/serving-core.yaml"}
    assert kourier.inputs == {"file": f"{KOURIER}/kourier.yaml"}
    assert core.dependencies == [crds.urn] and kourier.dependencies == [core.urn]
    knative = plan.one("gpu-platform:serving:Knative", "serving-knative")
    assert {crds.parent, core.parent, kourier.parent} == {knative.urn}


def test_knative_crds_are_protected_and_retained_the_rest_is_not(run_component):
    plan = _plan(run_component, _serverless())
    crds = plan.one(CONFIG_FILE, "serving-knative-crds")
    assert (crds.protect, crds.retain_on_delete) == (True, True)
    for role in ("core", "kourier"):
        other = plan.one(CONFIG_FILE, f"serving-knative-{role}")
        assert (other.protect, other.retain_on_delete) == (False, False)


def test_config_map_patches_wire_kourier_domain_and_features(run_component):
    plan = _plan(run_component, _serverless({"kserve": {"ingressDomain": "models.example.org"}}))
    core = plan.one(CONFIG_FILE, "serving-knative-core")
    kourier = plan.one(CONFIG_FILE, "serving-knative-kourier")
    expected = {
        "network": ("config-network", {"ingress-class": "kourier.ingress.networking.knative.dev"}),
        "domain": ("config-domain", {"models.example.org": ""}),
        "features": ("config-features", {
            "kubernetes.podspec-nodeselector": "enabled",
            "kubernetes.podspec-tolerations": "enabled",
            "kubernetes.podspec-persistent-volume-claim": "enabled",
            "kubernetes.podspec-securitycontext": "enabled",
        }),
    }
    for role, (name, data) in expected.items():
        patch = plan.one(PATCH, f"serving-knative-{role}")
        assert patch.inputs == {"apiVersion": "v1", "kind": "ConfigMap", "data": data,
                                "metadata": {"name": name, "namespace": "knative-serving"}}
        assert sorted(patch.dependencies) == sorted([core.urn, kourier.urn])


def test_kserve_controller_waits_for_knative_and_runs_in_knative_mode(run_component):
    plan = _plan(run_component, _serverless())
    ctrl = plan.one(REL, "serving-kserve-kserve")
    waits_for = [plan.one(CONFIG_FILE, "serving-knative-kourier")] + [
        plan.one(PATCH, f"serving-knative-{role}") for role in ("network", "domain", "features")]
    assert {r.urn for r in waits_for} <= set(ctrl.dependencies)
    controller = ctrl.inputs["values"]["kserve"]["controller"]
    assert controller["deploymentMode"] == "Knative"
    assert controller["gateway"] == {"domain": "example.com", "disableIstioVirtualHost": True,
                                     "disableIngressCreation": True}


def test_raw_deployment_installs_no_knative(run_component):
    plan = _plan(run_component, validate_model(ServingConfig, {"enabled": True}))
    assert plan.find(CONFIG_FILE) == [] and plan.find(PATCH) == []
    assert plan.find("gpu-platform:serving:Knative") == []
    ctrl = plan.one(REL, "serving-kserve-kserve")
    assert ctrl.inputs["values"]["kserve"]["controller"]["deploymentMode"] == "Standard"


def test_serverless_inference_service_has_knative_autoscaling_and_canary(run_component):
    plan = _plan(run_component, _serverless({"inferenceServices": {"llama": CANARY}}), POOLS)
    isvc = plan.one(CR, "serving-llama-isvc")
    assert isvc.inputs["metadata"]["annotations"] == {
        "serving.kserve.io/deploymentMode": "Knative",
        "serving.kserve.io/enable-prometheus-scraping": "true",
        "autoscaling.knative.dev/class": "kpa.autoscaling.knative.dev",
        "autoscaling.knative.dev/metric": "concurrency",
        "autoscaling.knative.dev/target": "8",
    }
    predictor = isvc.inputs["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (0, 4)
    assert predictor["canaryTrafficPercent"] == 10


def test_ingress_class_in_serverless_names_the_path():
    with pytest.raises(ConfigError) as err:
        _serverless({"kserve": {"ingressClassName": "nginx"}})
    assert [str(i) for i in err.value.issues] == [
        "kserve.ingressClassName: Ingresses are for RawDeployment; Serverless is reached through "
        'Kourier (Knative routes on kserve.ingressDomain): remove it (got "nginx")'
    ]


def test_canary_stays_an_error_in_raw_deployment():
    with pytest.raises(ConfigError) as err:
        validate_model(ServingConfig, {"enabled": True, "inferenceServices": {"llama": CANARY}})
    assert [str(i) for i in err.value.issues] == [
        "inferenceServices.llama.canaryTrafficPercent: canary rollouts need deploymentMode "
        "Serverless (Knative revisions); remove it for RawDeployment (got 10)",
        "inferenceServices.llama.minReplicas: scale to zero needs Serverless; use >= 1 (got 0)",
        'inferenceServices.llama.scaleMetric: RawDeployment (HPA) scales on cpu or memory '
        '(got "concurrency")',
    ]


def test_serverless_kserve_values_conform_to_upstream(conformance):
    values = kserve_controller_values(KServeConfig(ingress_domain="models.example.org"), "Serverless")
    assert values["kserve"]["controller"]["deploymentMode"] == "Knative"
    conformance.assert_conformant(conformance.validate_helm_values("kserve-resources", values))


def test_every_serverless_object_conforms(run_component, conformance):
    config = _serverless({"inferenceServices": {"llama": CANARY}})
    plan = _plan(run_component, config, POOLS)
    objects = plan.kubernetes_objects()
    assert sorted(o["kind"] for o in objects) == [
        "ClusterServingRuntime", "ConfigMap", "ConfigMap", "ConfigMap", "InferenceService",
        "Namespace", "Namespace", "Namespace",
    ]
    conformance.assert_conformant(conformance.validate_all(objects))


def test_pure_helpers_match_the_pins():
    assert knative_manifests() == {
        "crds": f"{SERVING}/serving-crds.yaml",
        "core": f"{SERVING}/serving-core.yaml",
        "kourier": f"{KOURIER}/kourier.yaml",
    }
    assert knative_config_patches("example.com")["domain"]["data"] == {"example.com": ""}
    assert InferenceServiceSpec.model_validate(CANARY).canary_traffic_percent == 10

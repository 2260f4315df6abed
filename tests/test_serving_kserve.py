"""KServe install: cert-manager keeps its CRDs, KServe CRDs are their own guarded release, the
controller runs in Standard (RawDeployment) mode after both; every values key exists upstream."""

import pulumi

from gpu_platform.config import validate_model
from gpu_platform.plan.model import helm_release_manifest
from gpu_platform.serving import ServingConfig, build_serving
from gpu_platform.serving.kserve import (
    CertManagerConfig,
    KServeConfig,
    cert_manager_values,
    kserve_controller_values,
)
from gpu_platform.serving.runtimes import BUILTIN_RUNTIMES, RuntimesConfig, runtime_configs_values

REL = "kubernetes:helm.sh/v3:Release"


def _plan(run_component, data):
    config = validate_model(ServingConfig, {"enabled": True, **data})
    return run_component(lambda: build_serving("serving", config, {}, pulumi.ResourceOptions()))


def test_releases_are_pinned_ordered_and_guarded(run_component):
    plan = _plan(run_component, {})
    cm = plan.one(REL, "serving-kserve-cert-manager")
    crd = plan.one(REL, "serving-kserve-kserve-crd")
    ctrl = plan.one(REL, "serving-kserve-kserve")
    assert helm_release_manifest(cm) == {
        "release": "cert-manager", "repository": "https://charts.jetstack.io",
        "chart": "cert-manager", "version": "v1.21.1", "namespace": "cert-manager",
        "values": {"crds": {"enabled": True, "keep": True}},
    }
    assert helm_release_manifest(crd)["values"] == {}
    assert (crd.protect, crd.retain_on_delete) == (True, True)
    assert (ctrl.protect, ctrl.retain_on_delete) == (False, False)
    assert ctrl.inputs["skipCrds"] is True
    assert cm.urn in ctrl.dependencies and crd.urn in ctrl.dependencies
    assert helm_release_manifest(ctrl)["values"] == {
        "kserve": {"controller": {
            "deploymentMode": "Standard",
            "gateway": {"domain": "example.com", "disableIstioVirtualHost": True,
                        "disableIngressCreation": True},
            "resources": {"requests": {"cpu": "100m", "memory": "300Mi"},
                          "limits": {"cpu": "100m", "memory": "300Mi"}},
        }}
    }
    (ns,) = [o for o in plan.kubernetes_objects() if o["metadata"]["name"] == "kserve"]
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_cert_manager_can_be_left_to_the_cluster(run_component):
    plan = _plan(run_component, {"certManager": {"enabled": False}})
    assert plan.find(REL, "serving-kserve-cert-manager") == []
    ctrl = plan.one(REL, "serving-kserve-kserve")
    assert ctrl.dependencies == [plan.one(REL, "serving-kserve-kserve-crd").urn]


def test_disabled_serving_registers_nothing(run_component):
    config = validate_model(ServingConfig, {})
    plan = run_component(lambda: build_serving("serving", config, {}, pulumi.ResourceOptions()))
    assert plan.find(REL) == []


def test_values_conform_to_upstream_charts(conformance):
    problems = conformance.validate_helm_values(
        "cert-manager", cert_manager_values(CertManagerConfig())
    )
    ingress = KServeConfig(ingress_class_name="nginx", ingress_domain="models.example.org")
    for config in (KServeConfig(), ingress):
        problems += conformance.validate_helm_values(
            "kserve-resources", kserve_controller_values(config, "RawDeployment")
        )
    everything_on = RuntimesConfig.model_validate(
        {"builtin": dict.fromkeys(BUILTIN_RUNTIMES, True)}
    )
    for config in (RuntimesConfig(), everything_on):
        problems += conformance.validate_helm_values(
            "kserve-runtime-configs", runtime_configs_values(config)
        )
    problems += conformance.validate_helm_values("kserve-crd", {})
    conformance.assert_conformant(problems)


def test_ingress_class_turns_ingress_creation_on():
    values = kserve_controller_values(KServeConfig(ingress_class_name="nginx"), "RawDeployment")
    assert values["kserve"]["controller"]["gateway"] == {
        "domain": "example.com", "disableIstioVirtualHost": True,
        "disableIngressCreation": False, "ingressGateway": {"className": "nginx"},
    }

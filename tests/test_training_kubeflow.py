"""Kubeflow parts: pinned installs, prerequisites refused with exact messages, CRD survival."""

import pulumi
import pytest
import yaml
from component_outputs import resolved_outputs

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.plan.model import helm_release_manifest
from gpu_platform.testing.conformance import upstream_root
from gpu_platform.training import Kubeflow, KubeflowArgs
from gpu_platform.training.kubeflow import (
    KubeflowConfig,
    kubeflow_prerequisite_issues,
    kustomize_installs,
    torch_runtime,
    trainer_values,
)
from gpu_platform.versions import KUBEFLOW_TRAINER, KUBEFLOW_TRAINER_JOBSET_VERSION

RELEASE = "kubernetes:helm.sh/v3:Release"
DIRECTORY = "kubernetes:kustomize/v2:Directory"
NAMESPACE = "kubernetes:core/v1:Namespace"
RUNTIME = "kubernetes:trainer.kubeflow.org/v1alpha1:ClusterTrainingRuntime"
PROD = {"trainer": {"enabled": True}, "pipelines": {"enabled": True}}


def _config(data):
    return validate_model(KubeflowConfig, data, prefix="training.kubeflow")


def _plan(run_component, data, **facts):
    config = _config(data)
    return run_component(lambda: Kubeflow("kf", KubeflowArgs.of(config, **facts), pulumi.ResourceOptions()))


def test_every_kustomize_install_is_pinned():
    config = _config({"trainer": {"enabled": False}, "trainingOperator": {"enabled": True},
                      "pipelines": {"enabled": True}, "katib": {"enabled": True},
                      "notebooks": {"enabled": True}, "clusterHasIstio": True})
    assert kustomize_installs(config) == {
        "training-operator":
            "https://github.com/kubeflow/trainer.git/manifests/overlays/standalone?ref=v1.9.4",
        "pipelines-crds": "https://github.com/kubeflow/pipelines.git/manifests/kustomize/"
                          "cluster-scoped-resources?ref=2.17.0",
        "pipelines": "https://github.com/kubeflow/pipelines.git/manifests/kustomize/env/"
                     "platform-agnostic?ref=2.17.0",
        "katib": "https://github.com/kubeflow/katib.git/manifests/v1beta1/installs/"
                 "katib-standalone?ref=v0.19.0",
        "notebooks": "https://github.com/kubeflow/notebooks.git/components/notebook-controller/config/"
                     "overlays/kubeflow?ref=v1.11.0",
    }
    other = _config({"katib": {"enabled": True, "certManager": True},
                     "notebooks": {"enabled": True, "istio": False}})
    assert kustomize_installs(other) == {
        "katib": "https://github.com/kubeflow/katib.git/manifests/v1beta1/installs/"
                 "katib-cert-manager?ref=v0.19.0",
        "notebooks": "https://github.com/kubeflow/notebooks.git/components/notebook-controller/config/"
                     "overlays/standalone?ref=v1.11.0",
    }


def test_trainer_release_is_pinned_guarded_and_conformant(run_component, conformance):
    plan = _plan(run_component, {"trainer": {"enabled": True}})
    release = plan.one(RELEASE, "kf-trainer")
    assert helm_release_manifest(release) == {
        "release": "kubeflow-trainer", "repository": "oci://ghcr.io/kubeflow/charts",
        "chart": "kubeflow-trainer", "version": "2.3.0", "namespace": "kubeflow-system",
        "values": {"crds": {"enabled": True}, "jobset": {"install": True},
                   "runtimes": {"defaultEnabled": False, "torchDistributed": {"enabled": False}},
                   "dataCache": {"enabled": False}},
    }
    # the chart templates its CRDs: removing the release must not take every TrainJob with it
    assert (release.protect, release.retain_on_delete) == (True, True)
    ns = plan.one(NAMESPACE, "kf-trainer-ns")
    assert release.dependencies == [ns.urn]
    assert release.parent == plan.one("gpu-platform:training:Kubeflow", "kf").urn
    conformance.assert_conformant(conformance.validate_helm_values("kubeflow-trainer", trainer_values(
        _config({"trainer": {"enabled": True}}).trainer)))
    conformance.assert_conformant(conformance.validate_all(plan.kubernetes_objects()))
    assert plan.find(DIRECTORY) == []


def test_trainer_values_overrides_merge_last(conformance):
    values = trainer_values(_config({"trainer": {"enabled": True, "installJobset": False,
                                                 "valuesOverrides": {"manager": {"replicas": 2}}}}).trainer)
    assert values["jobset"] == {"install": False}
    assert values["manager"] == {"replicas": 2}
    conformance.assert_conformant(conformance.validate_helm_values("kubeflow-trainer", values))


def test_jobset_comes_with_the_trainer_chart_at_the_recorded_version():
    root = upstream_root()
    if root is None:
        pytest.skip("../shared/upstream is absent")
    chart = yaml.safe_load((root / "charts/kubeflow-trainer/Chart.yaml").read_text())
    assert chart["version"] == KUBEFLOW_TRAINER.version
    jobset = next(dep for dep in chart["dependencies"] if dep["name"] == "jobset")
    assert (jobset["version"], jobset["condition"]) == (KUBEFLOW_TRAINER_JOBSET_VERSION, "jobset.install")


def test_torch_runtime_is_rendered_after_the_release_and_conforms(run_component, conformance):
    plan = _plan(run_component, {"trainer": {"enabled": True}})
    runtime = plan.one(RUNTIME, "kf-torch-runtime")
    assert runtime.dependencies == [plan.one(RELEASE, "kf-trainer").urn]
    assert runtime.inputs["spec"] == torch_runtime()["spec"]
    container = runtime.inputs["spec"]["template"]["spec"]["replicatedJobs"][0]["template"]["spec"][
        "template"]["spec"]["containers"][0]
    assert container == {"name": "node", "image": "pytorch/pytorch:2.13.0-cuda13.0-cudnn9-runtime"}
    conformance.assert_conformant(conformance.validate_object(torch_runtime()))
    off = _plan(run_component, {"trainer": {"enabled": True, "torchRuntime": False}})
    assert off.find(RUNTIME) == []


def test_prod_selection_namespaces_and_protected_directories(run_component, conformance):
    plan = _plan(run_component, PROD)
    component = plan.one("gpu-platform:training:Kubeflow", "kf")
    shared = plan.one(NAMESPACE, "kf-ns")
    assert shared.inputs["metadata"] == {"name": "kubeflow", "labels": {
        "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "gpu-platform",
        "pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted"}}
    trainer_ns = plan.one(NAMESPACE, "kf-trainer-ns")
    assert trainer_ns.inputs["metadata"]["name"] == "kubeflow-system"
    assert trainer_ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert shared.retain_on_delete and trainer_ns.retain_on_delete
    crds = plan.one(DIRECTORY, "kf-pipelines-crds")
    pipelines = plan.one(DIRECTORY, "kf-pipelines")
    assert crds.inputs == {"directory": "https://github.com/kubeflow/pipelines.git/manifests/kustomize/"
                                        "cluster-scoped-resources?ref=2.17.0"}
    assert crds.dependencies == [shared.urn]
    assert sorted(pipelines.dependencies) == sorted([shared.urn, crds.urn])
    for directory in (crds, pipelines):
        assert directory.parent == component.urn
        assert directory.protect is True
    conformance.assert_conformant(conformance.validate_all(plan.kubernetes_objects()))


def test_notebooks_standalone_gets_its_own_namespace(run_component):
    plan = _plan(run_component, {"notebooks": {"enabled": True, "istio": False}})
    assert [r.inputs["metadata"]["name"] for r in plan.find(NAMESPACE)] == ["notebook-controller-system"]
    assert plan.one(DIRECTORY, "kf-notebooks").dependencies == [plan.one(NAMESPACE, "kf-notebooks-ns").urn]


def test_nothing_enabled_registers_only_the_component(run_component):
    plan = _plan(run_component, {})
    assert [r.type for r in plan] == ["gpu-platform:training:Kubeflow"]


def test_notebooks_without_istio_are_refused():
    config = _config({"notebooks": {"enabled": True}})
    assert [str(i) for i in kubeflow_prerequisite_issues(config, cert_manager=True, istio=False)] == [
        "training.kubeflow.notebooks.enabled: needs Istio, which this library does not install: install "
        "Istio and set training.kubeflow.clusterHasIstio: true; or set training.kubeflow.notebooks.istio: "
        "false (no VirtualServices; reach notebooks by port-forward), or turn notebooks off (got true)"]
    declared = _config({"notebooks": {"enabled": True}, "clusterHasIstio": True})
    assert kubeflow_prerequisite_issues(declared, cert_manager=False, istio=False) == []


def test_multi_user_pipelines_need_istio_and_profiles():
    config = _config({"pipelines": {"enabled": True, "mode": "multi-user"}})
    assert [str(i) for i in kubeflow_prerequisite_issues(config, cert_manager=True, istio=False)] == [
        "training.kubeflow.pipelines.mode: needs Istio, which this library does not install: install Istio "
        "and set training.kubeflow.clusterHasIstio: true; or use training.kubeflow.pipelines.mode: "
        "standalone (got \"multi-user\")",
        "training.kubeflow.pipelines.mode: needs the Kubeflow Profiles controller and an auth proxy (Dex or "
        "oauth2-proxy), which this library does not install: install them and set "
        "training.kubeflow.clusterHasKubeflowProfiles: true; or use training.kubeflow.pipelines.mode: "
        "standalone (got \"multi-user\")",
    ]


def test_katib_cert_manager_install_needs_cert_manager():
    config = _config({"katib": {"enabled": True, "certManager": True}})
    assert [str(i) for i in kubeflow_prerequisite_issues(config, cert_manager=False, istio=False)] == [
        "training.kubeflow.katib.certManager: needs cert-manager: switch on serving.enabled and "
        "serving.certManager.enabled, which install it, or set training.kubeflow.clusterHasCertManager: "
        "true if the cluster runs one; or set training.kubeflow.katib.certManager: false (katib-standalone "
        "makes its own webhook certificate) (got true)"]
    assert kubeflow_prerequisite_issues(config, cert_manager=True, istio=False) == []
    standalone = _config({"katib": {"enabled": True}, "pipelines": {"enabled": True},
                          "trainer": {"enabled": True}})
    assert kubeflow_prerequisite_issues(standalone, cert_manager=False, istio=False) == []


def test_trainer_and_training_operator_are_exclusive_unless_migrating():
    with pytest.raises(ConfigError) as error:
        _config({"trainer": {"enabled": True}, "trainingOperator": {"enabled": True}})
    assert str(error.value) == (
        "invalid configuration (1 error):\n"
        "  - training.kubeflow.trainingOperator.enabled: conflicts with trainer.enabled: Kubeflow Trainer "
        "v2 (TrainJob) replaces the training operator v1 (PyTorchJob, MPIJob); turn one off, or set "
        "allowBothTrainers: true while migrating (got true)")
    both = _config({"trainer": {"enabled": True}, "trainingOperator": {"enabled": True},
                    "allowBothTrainers": True})
    assert list(kustomize_installs(both)) == ["training-operator"]


def test_component_refuses_before_registering_anything(run_component, refused):
    args = {"notebooks": {"enabled": True}, "trainer": {"enabled": True},
            "trainingOperator": {"enabled": True},
            "katib": {"enabled": True, "certManager": True}}
    err = refused(lambda: Kubeflow("kf", args))
    assert str(err) == (
        "invalid args of Kubeflow 'kf' (3 errors):\n"
        "  - trainingOperator.enabled: conflicts with trainer.enabled: Kubeflow Trainer v2 (TrainJob) "
        "replaces the training operator v1 (PyTorchJob, MPIJob); turn one off, or set allowBothTrainers: "
        "true while migrating (got true)\n"
        "  - notebooks.enabled: needs Istio, which this library does not install: install Istio and set "
        "clusterHasIstio: true; or set notebooks.istio: false (no VirtualServices; reach notebooks by "
        "port-forward), or turn notebooks off (got true)\n"
        "  - katib.certManager: needs cert-manager, which this component does not install: install it and "
        "set clusterHasCertManager: true; or set katib.certManager: false (katib-standalone makes its own "
        "webhook certificate) (got true)")
    ok = _plan(run_component, {"notebooks": {"enabled": True}}, istio=True)
    assert ok.one(DIRECTORY, "kf-notebooks").protect is True


def test_outputs_name_the_namespaces_and_the_trainer_release(run_component):
    got = resolved_outputs(run_component, lambda: Kubeflow("kf", {**PROD, "clusterHasIstio": True}),
                     "namespace_names", "trainer_release_name")
    assert got == {"namespace_names": ["kubeflow-system", "kubeflow"],
                   "trainer_release_name": "kubeflow-trainer"}
    empty = resolved_outputs(run_component, lambda: Kubeflow("kf", {}), "namespace_names")
    assert empty == {"namespace_names": []}


def test_kustomize_installs_wait_for_opts_depends_on(run_component):
    def program():
        marker = pulumi.CustomResource("test:index:Marker", "marker")
        Kubeflow("kf", {"pipelines": {"enabled": True}}, pulumi.ResourceOptions(depends_on=[marker]))

    plan = run_component(program)
    marker = plan.one("test:index:Marker", "marker").urn
    assert marker in plan.one(DIRECTORY, "kf-pipelines-crds").dependencies


def test_environment_counts_servings_cert_manager_as_the_katib_prerequisite():
    from gpu_platform.config import ConfigError, validate_model
    from gpu_platform.environment import EnvironmentConfig

    base = {
        "cluster": {"kind": "existing"},
        "training": {"enabled": True, "kubeflow": {"katib": {"enabled": True, "certManager": True}}},
    }
    with pytest.raises(ConfigError) as caught:
        validate_model(EnvironmentConfig, base)
    assert [i.path for i in caught.value.issues] == ["training.kubeflow.katib.certManager"]
    with_serving = {**base, "serving": {"enabled": True}}
    assert validate_model(EnvironmentConfig, with_serving).installs_cert_manager is True


def test_trainer_into_an_existing_namespace(run_component):
    existing = {"trainer": {"enabled": True, "namespace": "ml-platform", "createNamespace": False}}
    plan = _plan(run_component, existing)
    assert plan.find(NAMESPACE) == []
    release = plan.one(RELEASE, "kf-trainer")
    assert (release.inputs["namespace"], release.dependencies) == ("ml-platform", [])
    got = resolved_outputs(run_component, lambda: Kubeflow("kf", existing), "namespace_names")
    assert got == {"namespace_names": ["ml-platform"]}

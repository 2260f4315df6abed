"""Kubeflow parts, each switched on alone and pinned, each installed the way upstream ships it.

- ``trainer``: Kubeflow Trainer v2 (TrainJob) from its Helm chart. JobSet, which runs TrainJobs,
  comes as the chart's pinned dependency (``jobset.install``). Webhook certificates are generated
  by the manager itself (``manager.config.certManagement``): no cert-manager. The chart's own
  runtimes are applied by a post-install Job that downloads kubectl at run time, so they stay off
  and the library renders the ``torch-distributed`` ClusterTrainingRuntime itself.
- ``trainingOperator``: the legacy training operator v1 (PyTorchJob, MPIJob), kustomize
  ``manifests/overlays/standalone``. Trainer v2 replaces it (other API group, no shared CRDs);
  both at once only while migrating, behind ``allowBothTrainers``.
- ``pipelines``: Kubeflow Pipelines, two kustomize steps (cluster-scoped CRDs, then
  ``env/platform-agnostic``). ``multi-user`` needs Istio and Kubeflow Profiles with an auth proxy.
- ``katib``: ``katib-standalone`` (the controller makes its own webhook certificate) or
  ``katib-cert-manager`` (needs cert-manager).
- ``notebooks``: the notebook controller; its ``kubeflow`` overlay exposes notebooks through Istio
  VirtualServices (needs Istio), ``istio: false`` uses the ``standalone`` overlay (port-forward).

The kustomize manifests fix their namespaces (``kubeflow``, ``notebook-controller-system``); the
component creates those first with a Pod Security label. The manifests' own Namespace objects
then apply onto the existing namespace (server-side apply) and set no Pod Security label.

CRD survival: the trainer release is a guarded release (``gpu_platform.k8s.crds``: protect and
retain_on_delete). A kustomize ``Directory`` is a remote component whose children (CRDs
included) the provider registers; ``retain_on_delete`` on it is not passed to them
(pulumi-kubernetes#3065, won't fix), while ``protect`` is: the Construct call carries it for the
component "and by extension its nested resources", and a child without its own ``protect``
inherits its parent's. So each Directory is ``protect=True``: dropping a part from the config
fails the update until someone runs ``pulumi state unprotect`` on purpose, instead of deleting
PyTorchJob/Experiment/Workflow CRDs and, with them, every job of that kind.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigIssue, ConfigModel, component_args
from gpu_platform.config.errors import issue
from gpu_platform.core.component import child_options, depends_on_of
from gpu_platform.core.names import MANAGED_BY_LABELS, DnsLabel, child_name
from gpu_platform.k8s.addon import PodSecurityLevel, helm_release, namespace
from gpu_platform.k8s.objects import custom_resource
from gpu_platform.k8s.values import deep_merge
from gpu_platform.training.outputs import object_name
from gpu_platform.versions import (
    KATIB_REF,
    KUBEFLOW_NOTEBOOKS_REF,
    KUBEFLOW_PIPELINES_REF,
    KUBEFLOW_TRAINER,
    KUBEFLOW_TRAINING_OPERATOR_REF,
    TORCH_RUNTIME_IMAGE,
)

KUBEFLOW_TYPE = "gpu-platform:training:Kubeflow"
# Namespaces the upstream kustomizations set (kustomize's `namespace:`); not configurable.
KUBEFLOW_NAMESPACE = "kubeflow"
NOTEBOOKS_STANDALONE_NAMESPACE = "notebook-controller-system"

Prerequisite = Literal["cert-manager", "istio", "kubeflow-profiles"]
PipelinesMode = Literal["standalone", "multi-user"]


def kustomize_url(repo: str, path: str, ref: str) -> str:
    """A kustomize remote target at a pinned tag, in the form Kubeflow's install guides use."""
    return f"https://github.com/kubeflow/{repo}.git/{path}?ref={ref}"


class TrainerConfig(ConfigModel):
    enabled: bool = False
    namespace: DnsLabel = "kubeflow-system"
    # false: install the chart into an existing namespace (nothing creates or deletes it)
    create_namespace: bool = True
    # the manager passes "restricted"; JobSet's controller shares the namespace, so "baseline"
    pod_security: PodSecurityLevel = "baseline"
    # false when JobSet already runs in the cluster (the chart's jobset.install)
    install_jobset: bool = True
    torch_runtime: bool = True  # render the torch-distributed ClusterTrainingRuntime
    values_overrides: dict[str, Any] = Field(default_factory=dict)


class TrainingOperatorConfig(ConfigModel):
    enabled: bool = False


class PipelinesConfig(ConfigModel):
    enabled: bool = False
    mode: PipelinesMode = "standalone"


class KatibConfig(ConfigModel):
    enabled: bool = False
    cert_manager: bool = False  # katib-cert-manager instead of katib-standalone


class NotebooksConfig(ConfigModel):
    enabled: bool = False
    istio: bool = True  # the kubeflow overlay (Istio VirtualServices); false: standalone overlay


class KubeflowConfig(ConfigModel):
    trainer: TrainerConfig = Field(default_factory=TrainerConfig)
    training_operator: TrainingOperatorConfig = Field(default_factory=TrainingOperatorConfig)
    allow_both_trainers: bool = False
    pipelines: PipelinesConfig = Field(default_factory=PipelinesConfig)
    katib: KatibConfig = Field(default_factory=KatibConfig)
    notebooks: NotebooksConfig = Field(default_factory=NotebooksConfig)
    # what the cluster runs that this library does not install (it never installs Istio)
    cluster_has_istio: bool = False
    cluster_has_kubeflow_profiles: bool = False
    cluster_has_cert_manager: bool = False
    # Pod Security level of the shared `kubeflow` namespace (KFP's MySQL/MinIO, Katib's MySQL)
    pod_security: PodSecurityLevel = "baseline"

    def issues(self) -> Iterator[ConfigIssue]:
        if self.trainer.enabled and self.training_operator.enabled and not self.allow_both_trainers:
            yield issue(
                "trainingOperator.enabled",
                "conflicts with trainer.enabled: Kubeflow Trainer v2 (TrainJob) replaces the training "
                "operator v1 (PyTorchJob, MPIJob); turn one off, or set allowBothTrainers: true while "
                "migrating",
                True,
            )

    def any_enabled(self) -> bool:
        parts = (self.trainer, self.training_operator, self.pipelines, self.katib, self.notebooks)
        return any(part.enabled for part in parts)


# {at}: where the Kubeflow settings are ("training.kubeflow." in an environment, "" in the args)
_NEEDS: dict[Prerequisite, str] = {
    "cert-manager": "cert-manager: switch on serving.enabled and serving.certManager.enabled, which "
    "install it, or set {at}clusterHasCertManager: true if the cluster runs one",
    "istio": "Istio, which this library does not install: install Istio and set {at}clusterHasIstio: true",
    "kubeflow-profiles": "the Kubeflow Profiles controller and an auth proxy (Dex or oauth2-proxy), which "
    "this library does not install: install them and set {at}clusterHasKubeflowProfiles: true",
}
# a component on its own: nothing else in the program installs cert-manager
_NEEDS_STANDALONE_CERT_MANAGER = "cert-manager, which this component does not install: install it and " \
    "set clusterHasCertManager: true"


def part_prerequisites(
    config: KubeflowConfig, at: str = "training.kubeflow."
) -> list[tuple[str, Any, tuple[Prerequisite, ...], str]]:
    """(path, value, prerequisites, the other way out) per enabled selection with prerequisites."""
    found: list[tuple[str, Any, tuple[Prerequisite, ...], str]] = []
    if config.notebooks.enabled and config.notebooks.istio:
        found.append(("notebooks.enabled", True, ("istio",), f"set {at}notebooks.istio: false "
                      "(no VirtualServices; reach notebooks by port-forward), or turn notebooks off"))
    if config.pipelines.enabled and config.pipelines.mode == "multi-user":
        found.append(("pipelines.mode", "multi-user", ("istio", "kubeflow-profiles"),
                      f"use {at}pipelines.mode: standalone"))
    if config.katib.enabled and config.katib.cert_manager:
        found.append(("katib.certManager", True, ("cert-manager",), f"set {at}katib."
                      "certManager: false (katib-standalone makes its own webhook certificate)"))
    return found


def kubeflow_prerequisite_issues(
    config: KubeflowConfig, *, cert_manager: bool, istio: bool, prefix: str = "training.kubeflow"
) -> list[ConfigIssue]:
    """One issue per enabled selection and missing prerequisite, with full paths.

    ``cert_manager``/``istio``: whether the rest of the environment installs them; the config's
    ``clusterHas*`` switches declare what the cluster already runs.
    """
    present: dict[Prerequisite, bool] = {
        "cert-manager": cert_manager or config.cluster_has_cert_manager,
        "istio": istio or config.cluster_has_istio,
        "kubeflow-profiles": config.cluster_has_kubeflow_profiles,
    }
    at = f"{prefix}." if prefix else ""
    problems: list[ConfigIssue] = []
    for path, value, needs, otherwise in part_prerequisites(config, at):
        for need in needs:
            if not present[need]:
                needed = _NEEDS[need].format(at=at)
                if need == "cert-manager" and not prefix:
                    needed = _NEEDS_STANDALONE_CERT_MANAGER
                problems.append(issue(path, f"needs {needed}; or {otherwise}", value).prefixed(prefix))
    return problems


class KubeflowArgs(KubeflowConfig, ComponentArgs):
    """Args of ``Kubeflow``: the parts to install and what the cluster already runs
    (``clusterHas*``); a part whose prerequisite is missing is refused."""

    def issues(self) -> Iterator[ConfigIssue]:
        yield from super().issues()
        yield from kubeflow_prerequisite_issues(self, cert_manager=False, istio=False, prefix="")

    @classmethod
    def of(cls, config: KubeflowConfig, *, cert_manager: bool = False, istio: bool = False) -> KubeflowArgs:
        """Args from the environment's settings; ``cert_manager``/``istio``: whether the rest of
        the environment installs them (the cluster then has them)."""
        fields = {name: getattr(config, name) for name in KubeflowConfig.model_fields}
        fields["cluster_has_cert_manager"] = config.cluster_has_cert_manager or cert_manager
        fields["cluster_has_istio"] = config.cluster_has_istio or istio
        return cls.model_validate(fields)


def trainer_values(config: TrainerConfig) -> dict[str, Any]:
    """Helm values for kubeflow-trainer (every key exists in its values.yaml)."""
    values = {
        # CRDs as chart templates: the release is guarded so they outlive it (gpu_platform.k8s.crds)
        "crds": {"enabled": True},
        "jobset": {"install": config.install_jobset},
        # no runtime-installer hook Job (it fetches kubectl from the internet); see torch_runtime()
        "runtimes": {"defaultEnabled": False, "torchDistributed": {"enabled": False}},
        "dataCache": {"enabled": False},
    }
    return deep_merge(values, config.values_overrides)


def torch_runtime() -> dict[str, Any]:
    """The ``torch-distributed`` ClusterTrainingRuntime TrainJobs reference by default."""
    return {
        "apiVersion": "trainer.kubeflow.org/v1alpha1",
        "kind": "ClusterTrainingRuntime",
        "metadata": {"name": "torch-distributed", "labels": dict(MANAGED_BY_LABELS)},
        "spec": {
            # v2.3.0's torch policy has no numProcPerNode (a TrainJob sets it under spec.trainer)
            "mlPolicy": {"numNodes": 1, "torch": {}},
            "template": {"spec": {"replicatedJobs": [{
                "name": "node",
                "template": {
                    # tells the trainer which job runs the trainer step
                    "metadata": {"labels": {"trainer.kubeflow.org/trainjob-ancestor-step": "trainer"}},
                    "spec": {"template": {"spec": {"containers": [
                        {"name": "node", "image": TORCH_RUNTIME_IMAGE}]}}},
                },
            }]}},
        },
    }


def kustomize_installs(config: KubeflowConfig) -> dict[str, str]:
    """Kustomize remote targets by role, in install order (pipelines CRDs before pipelines)."""
    installs: dict[str, str] = {}
    if config.training_operator.enabled:
        installs["training-operator"] = kustomize_url(
            "trainer", "manifests/overlays/standalone", KUBEFLOW_TRAINING_OPERATOR_REF)
    if config.pipelines.enabled:
        env = "platform-agnostic" if config.pipelines.mode == "standalone" else "platform-agnostic-multi-user"
        installs["pipelines-crds"] = kustomize_url(
            "pipelines", "manifests/kustomize/cluster-scoped-resources", KUBEFLOW_PIPELINES_REF)
        installs["pipelines"] = kustomize_url(
            "pipelines", f"manifests/kustomize/env/{env}", KUBEFLOW_PIPELINES_REF)
    if config.katib.enabled:
        install = "katib-cert-manager" if config.katib.cert_manager else "katib-standalone"
        installs["katib"] = kustomize_url("katib", f"manifests/v1beta1/installs/{install}", KATIB_REF)
    if config.notebooks.enabled:
        overlay = "kubeflow" if config.notebooks.istio else "standalone"
        installs["notebooks"] = kustomize_url(
            "notebooks", f"components/notebook-controller/config/overlays/{overlay}", KUBEFLOW_NOTEBOOKS_REF)
    return installs


def kustomize_namespaces(config: KubeflowConfig) -> list[str]:
    """The namespaces the enabled kustomize parts install into."""
    found = [KUBEFLOW_NAMESPACE] if (config.training_operator.enabled or config.pipelines.enabled
                                     or config.katib.enabled
                                     or (config.notebooks.enabled and config.notebooks.istio)) else []
    if config.notebooks.enabled and not config.notebooks.istio:
        found.append(NOTEBOOKS_STANDALONE_NAMESPACE)
    return found


class Kubeflow(pulumi.ComponentResource):
    """The enabled Kubeflow parts; raises ConfigError before registering anything."""

    namespace_names: pulumi.Output[list[str]]
    trainer_release_name: pulumi.Output[str] | None

    def __init__(
        self,
        name: str,
        args: KubeflowArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        config = component_args(KubeflowArgs, args, component="Kubeflow", name=name)
        super().__init__(KUBEFLOW_TYPE, name, None, opts)
        depends_on = depends_on_of(opts)
        child = pulumi.ResourceOptions(parent=self)
        self.namespaces: dict[str, k8s.core.v1.Namespace] = {}
        self.trainer: k8s.helm.v3.Release | None = None
        self.trainer_release_name = None
        self.torch_runtime: pulumi.Resource | None = None
        self.installs: dict[str, pulumi.Resource] = {}
        names: list[pulumi.Output[str]] = []
        if config.trainer.enabled:
            created: list[pulumi.Resource] = []
            if config.trainer.create_namespace:
                ns = namespace(child_name(name, "trainer-ns"), config.trainer.namespace,
                               config.trainer.pod_security, child)
                self.namespaces[config.trainer.namespace] = ns
                created.append(ns)
            self.trainer = helm_release(
                child_name(name, "trainer"), KUBEFLOW_TRAINER, release_name="kubeflow-trainer",
                namespace=config.trainer.namespace, values=trainer_values(config.trainer), opts=child,
                depends_on=[*created, *depends_on])
            self.trainer_release_name = self.trainer.name  # type: ignore[assignment]
            names.append(self.trainer.namespace)  # type: ignore[arg-type]
            if config.trainer.torch_runtime:
                self.torch_runtime = custom_resource(
                    child_name(name, "torch-runtime"), torch_runtime(),
                    child_options(self, opts, depends_on=[self.trainer]))
        shared: list[pulumi.Resource] = []
        for ns_name in kustomize_namespaces(config):
            role = "ns" if ns_name == KUBEFLOW_NAMESPACE else "notebooks-ns"
            self.namespaces[ns_name] = namespace(child_name(name, role), ns_name, config.pod_security, child)
            shared.append(self.namespaces[ns_name])
            names.append(object_name(self.namespaces[ns_name]))
        for role, url in kustomize_installs(config).items():
            after: list[pulumi.Resource] = [*shared, *depends_on]
            if role == "pipelines":
                after.append(self.installs["pipelines-crds"])
            self.installs[role] = k8s.kustomize.v2.Directory(
                child_name(name, role), directory=url,
                opts=pulumi.ResourceOptions(parent=self, depends_on=after, protect=True))
        # where the parts run: the trainer's (from its release), then the kustomize parts'
        self.namespace_names = pulumi.Output.all(*names).apply(list)
        outputs: dict[str, Any] = {"namespaceNames": self.namespace_names}
        if self.trainer_release_name is not None:
            outputs["trainerReleaseName"] = self.trainer_release_name
        self.register_outputs(outputs)


__all__ = [
    "Kubeflow",
    "KubeflowArgs",
    "KubeflowConfig",
    "kubeflow_prerequisite_issues",
    "kustomize_installs",
    "torch_runtime",
    "trainer_values",
]

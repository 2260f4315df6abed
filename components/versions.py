"""Every pinned version the library deploys, in one place.

Each Helm chart version is a named constant beside a link to the upstream Chart.yaml it was read
from; nothing floats at deploy time ("latest" is never used). Raising a pin is a reviewed change:
bump the constant, read the chart's upgrade notes, run the tests (the conformance tests compare
rendered values against that chart version's values.yaml under ../shared/upstream/charts/).
"""

from __future__ import annotations

from dataclasses import dataclass

# Kubernetes minors the rendered core objects are validated against (kubernetes-validate, strict).
# The seed documents target clusters up to v1.32; EKS stacks run 1.33 (Knative 1.21 needs it).
KUBERNETES_MINORS: tuple[str, ...] = ("1.29", "1.30", "1.31", "1.32", "1.33")


@dataclass(frozen=True)
class ChartPin:
    """A Helm chart at a pinned version, and where that version's Chart.yaml lives upstream."""

    repository: str
    chart: str
    version: str
    source: str


# --- Helm charts ---------------------------------------------------------------------------------
# `version` is exactly what `helm install --version` takes for that repository. The conformance
# tests check every values key the library sets against ../shared/upstream/charts/<chart>/.

GPU_OPERATOR = ChartPin(
    repository="https://helm.ngc.nvidia.com/nvidia",
    chart="gpu-operator",
    version="v26.7.0",
    source="https://github.com/NVIDIA/gpu-operator/blob/v26.7.0/deployments/gpu-operator/Chart.yaml",
)
NETWORK_OPERATOR = ChartPin(
    repository="https://helm.ngc.nvidia.com/nvidia",
    chart="network-operator",
    version="26.4.1",
    source="https://github.com/Mellanox/network-operator/blob/v26.4.1/deployment/network-operator/Chart.yaml",
)
CLUSTER_AUTOSCALER = ChartPin(
    repository="https://kubernetes.github.io/autoscaler",
    chart="cluster-autoscaler",
    version="9.59.0",
    source="https://github.com/kubernetes/autoscaler/blob/master/charts/cluster-autoscaler/Chart.yaml",
)
AWS_EFA_DEVICE_PLUGIN = ChartPin(
    repository="https://aws.github.io/eks-charts",
    chart="aws-efa-k8s-device-plugin",
    version="v0.5.30",
    source="https://github.com/aws/eks-charts/blob/master/stable/aws-efa-k8s-device-plugin/Chart.yaml",
)
CERT_MANAGER = ChartPin(
    repository="https://charts.jetstack.io",
    chart="cert-manager",
    version="v1.21.1",
    source="https://github.com/cert-manager/cert-manager/blob/v1.21.1/deploy/charts/cert-manager/Chart.yaml",
)
KUBE_PROMETHEUS_STACK = ChartPin(
    repository="https://prometheus-community.github.io/helm-charts",
    chart="kube-prometheus-stack",
    version="88.5.3",
    source="https://github.com/prometheus-community/helm-charts/blob/main/charts/kube-prometheus-stack/Chart.yaml",
)
KUBERAY_OPERATOR = ChartPin(
    repository="https://ray-project.github.io/kuberay-helm/",
    chart="kuberay-operator",
    version="1.7.0",
    source="https://github.com/ray-project/kuberay/blob/v1.7.0/helm-chart/kuberay-operator/Chart.yaml",
)
KUEUE = ChartPin(
    repository="oci://registry.k8s.io/kueue/charts",
    chart="kueue",
    version="0.19.2",
    source="https://github.com/kubernetes-sigs/kueue/blob/v0.19.2/charts/kueue/Chart.yaml",
)
VOLCANO = ChartPin(
    repository="https://volcano-sh.github.io/helm-charts",
    chart="volcano",
    version="1.15.1",
    source="https://github.com/volcano-sh/volcano/blob/v1.15.1/installer/helm/chart/volcano/Chart.yaml",
)
KUBEFLOW_TRAINER = ChartPin(
    repository="oci://ghcr.io/kubeflow/charts",
    chart="kubeflow-trainer",
    version="2.3.0",
    source="https://github.com/kubeflow/trainer/blob/v2.3.0/charts/kubeflow-trainer/Chart.yaml",
)
KSERVE_CRD = ChartPin(
    repository="oci://ghcr.io/kserve/charts",
    chart="kserve-crd",
    version="v0.20.0",
    source="https://github.com/kserve/kserve/blob/v0.20.0/charts/kserve-crd/Chart.yaml",
)
KSERVE_RESOURCES = ChartPin(
    repository="oci://ghcr.io/kserve/charts",
    chart="kserve-resources",
    version="v0.20.0",
    source="https://github.com/kserve/kserve/blob/v0.20.0/charts/kserve-resources/Chart.yaml",
)
KSERVE_RUNTIME_CONFIGS = ChartPin(
    repository="oci://ghcr.io/kserve/charts",
    chart="kserve-runtime-configs",
    version="v0.20.0",
    source="https://github.com/kserve/kserve/blob/v0.20.0/charts/kserve-runtime-configs/Chart.yaml",
)
JUICEFS_CSI_DRIVER = ChartPin(
    repository="https://juicedata.github.io/charts/",
    chart="juicefs-csi-driver",
    version="0.32.4",
    source="https://github.com/juicedata/charts/blob/helm-chart-juicefs-csi-driver-0.32.4/charts/juicefs-csi-driver/Chart.yaml",
)
FLUID = ChartPin(
    repository="https://fluid-cloudnative.github.io/charts",
    chart="fluid",
    version="1.0.8",
    source="https://github.com/fluid-cloudnative/fluid/blob/v1.0.8/charts/fluid/fluid/Chart.yaml",
)
WHEREABOUTS = ChartPin(
    repository="oci://ghcr.io/k8snetworkplumbingwg/whereabouts-chart",
    chart="whereabouts",
    version="0.1.1",
    source="https://github.com/k8snetworkplumbingwg/whereabouts/blob/v0.9.4/deployment/whereabouts-chart/Chart.yaml",
)

# --- Ray images (training) -----------------------------------------------------------------------
# RayCluster pods run rayproject images (uid 1000, user "ray"); the tag must start with the
# cluster's rayVersion. Tags: https://hub.docker.com/r/rayproject/ray/tags
# (`<ver>-py311` CPU, `<ver>-py311-gpu` CUDA). KubeRay 1.7 supports Ray 2.x from 2.8 on.
RAY_VERSION = "2.52.0"
RAY_IMAGE = f"rayproject/ray:{RAY_VERSION}-py311"

# --- Container images ----------------------------------------------------------------------------
# vLLM's OpenAI-compatible server image for the serving area's ClusterServingRuntime (vLLM 0.33.0,
# the release current on PyPI when pinned). https://github.com/vllm-project/vllm/releases/tag/v0.33.0
# and https://hub.docker.com/r/vllm/vllm-openai/tags
VLLM_IMAGE = "vllm/vllm-openai:v0.33.0"

# --- EKS (components/aws) ------------------------------------------------------------------------
# The Kubernetes version new EKS clusters run, and the EKS managed add-on versions pinned for it
# (kube-proxy follows the Kubernetes minor, so bump them together). Check a pin with
# `aws eks describe-addon-versions --kubernetes-version 1.33 --addon-name <name>`; source:
# https://docs.aws.amazon.com/eks/latest/userguide/workloads-add-ons-available-eks.html
EKS_KUBERNETES_VERSION = "1.33"
EKS_ADDON_VERSIONS: dict[str, str] = {
    "vpc-cni": "v1.20.0-eksbuild.1",
    "coredns": "v1.12.1-eksbuild.2",
    "kube-proxy": "v1.33.0-eksbuild.2",
    "eks-pod-identity-agent": "v1.3.7-eksbuild.2",
}

# --- NVIDIA Network Operator images (components/network) -----------------------------------------
# NicClusterPolicy images for network-operator 26.4.1, from that release's full CR example:
# https://docs.nvidia.com/networking/display/kubernetes2641/customizations/cr-full-example.html
# (component images are tagged `network-operator-v<release>`; bump with NETWORK_OPERATOR).
NETWORK_OPERATOR_IMAGE_REPOSITORY = "nvcr.io/nvidia/mellanox"
NETWORK_OPERATOR_COMPONENT_TAG = "network-operator-v26.4.1"
DOCA_DRIVER_IMAGE = "doca-driver"
DOCA_DRIVER_VERSION = "doca3.4.1-26.04-1.1.0.0-1"

# --- Kubeflow (components/training/kubeflow.py) --------------------------------------------------
# Parts without a Helm chart install from upstream kustomize manifests at these git tags.
# Training operator v1 (PyTorchJob/MPIJob): https://github.com/kubeflow/trainer/tree/v1.9.4/manifests/overlays/standalone
KUBEFLOW_TRAINING_OPERATOR_REF = "v1.9.4"
# Pipelines: https://github.com/kubeflow/pipelines/tree/2.14.3/manifests/kustomize (tags have no "v";
# install steps: https://www.kubeflow.org/docs/components/pipelines/operator-guides/installation/)
KUBEFLOW_PIPELINES_REF = "2.14.3"
# Katib: https://github.com/kubeflow/katib/tree/v0.18.0/manifests/v1beta1/installs
KATIB_REF = "v0.18.0"
# Notebook controller: https://github.com/kubeflow/kubeflow/tree/v1.10.0/components/notebook-controller/config
KUBEFLOW_NOTEBOOKS_REF = "v1.10.0"
# JobSet, which Trainer v2 runs TrainJobs on, comes as kubeflow-trainer 2.3.0's pinned chart dependency
# (condition jobset.install): https://github.com/kubeflow/trainer/blob/v2.3.0/charts/kubeflow-trainer/Chart.yaml
KUBEFLOW_TRAINER_JOBSET_VERSION = "0.12.0"
# Image of the torch-distributed ClusterTrainingRuntime, as in upstream's runtime
# (https://github.com/kubeflow/trainer/blob/master/manifests/base/runtimes/torch_distributed.yaml);
# tags: https://hub.docker.com/r/pytorch/pytorch/tags
TORCH_RUNTIME_IMAGE = "pytorch/pytorch:2.7.1-cuda12.6-cudnn9-runtime"

# --- Knative Serving for KServe Serverless (components/serving/knative.py) ------------------------
# Release YAMLs serving-crds.yaml/serving-core.yaml at tag knative-v<version>. KServe pins Knative
# Serving 1.21.1 in kserve-deps.env (https://github.com/kserve/kserve/blob/master/kserve-deps.env);
# Knative 1.21 needs Kubernetes >= 1.33 (https://endoflife.date/knative).
KNATIVE_SERVING_VERSION = "1.21.1"
# net-kourier has its own patch releases per Knative minor; keep the minor equal to Serving's:
# https://github.com/knative-extensions/net-kourier/releases/tag/knative-v1.21.0
KNATIVE_KOURIER_VERSION = "1.21.0"

# --- KEDA for InferenceService autoscaling on serving metrics (components/serving/keda.py) -------
# KServe 0.20's KEDA integration creates ScaledObjects (keda.sh/v1alpha1); KServe v0.20.0 tests
# against KEDA 2.18.0 (KEDA_VERSION in kserve-deps.env) and only needs ScaledObject's v1alpha1 API,
# which 2.20 serves unchanged. Chart 2.20.2 (app 2.20.2), the current release, read 2026-11-26
# from kedacore/charts at tag v2.20.2 (../shared/upstream/charts-src/keda).
KEDA = ChartPin(
    repository="https://kedacore.github.io/charts",
    chart="keda",
    version="2.20.2",
    source="https://github.com/kedacore/charts/blob/v2.20.2/keda/Chart.yaml",
)

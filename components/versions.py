"""Every pinned version the library deploys, in one place, each with its source and date.

Nothing floats at deploy time ("latest" is never used). Each pin names where its version was read
(``source``) and when that version was published upstream (``released``, ISO date; for tables
checked as a whole, the date they were read). ``gpu-platform versions`` prints them and flags pins
older than a year or past end of life; Renovate (``renovate.json`` at the repository root) proposes
bumps: its custom managers match the ``ChartPin(``/``ImagePin(``/``GitRefPin(`` blocks and the
``# renovate: eksAddonsFilter=`` lines below, so keep their layout (keyword order and one pin per
block); ``tests/test_renovate.py`` fails when a pin is not matched.

Raising a pin is a reviewed change: read the upstream release notes, bump the constant and its
``released`` date, run the tests (the conformance tests compare rendered values against that chart
version's values.yaml under ../shared/upstream/charts/, so a chart pin moves with that copy).
"""

from __future__ import annotations

from dataclasses import dataclass

# Kubernetes minors the rendered core objects are validated against (kubernetes-validate, strict):
# the minors upstream supports on 2026-11-26 (https://kubernetes.io/releases/: 1.35-1.37; 1.34 and
# older are end of life), all shipped by kubernetes-validate 1.37.0. 1.29-1.33 were dropped (EOL).
KUBERNETES_MINORS: tuple[str, ...] = ("1.35", "1.36", "1.37")


@dataclass(frozen=True)
class ChartPin:
    """A Helm chart at a pinned version, and where that version's Chart.yaml lives upstream."""

    repository: str
    chart: str
    version: str
    source: str
    released: str  # ISO date the chart version was published (its git tag)


@dataclass(frozen=True)
class ImagePin:
    """A container image at a pinned tag."""

    repository: str
    tag: str
    source: str
    released: str

    @property
    def image(self) -> str:
        return f"{self.repository}:{self.tag}"


@dataclass(frozen=True)
class GitRefPin:
    """A git tag of a GitHub repository (kustomize remote targets, release assets)."""

    repository: str  # owner/name
    ref: str
    source: str
    released: str


# --- Helm charts ---------------------------------------------------------------------------------
# `version` is exactly what `helm install --version` takes for that repository.

GPU_OPERATOR = ChartPin(
    repository="https://helm.ngc.nvidia.com/nvidia",
    chart="gpu-operator",
    version="v26.7.0",
    source="https://github.com/NVIDIA/gpu-operator/blob/v26.7.0/deployments/gpu-operator/Chart.yaml",
    released="2026-08-20",
)
NETWORK_OPERATOR = ChartPin(
    repository="https://helm.ngc.nvidia.com/nvidia",
    chart="network-operator",
    version="26.4.1",
    source="https://github.com/Mellanox/network-operator/blob/v26.4.1/deployment/network-operator/Chart.yaml",
    released="2026-07-24",
)
CLUSTER_AUTOSCALER = ChartPin(
    repository="https://kubernetes.github.io/autoscaler",
    chart="cluster-autoscaler",
    version="9.59.0",
    source="https://github.com/kubernetes/autoscaler/blob/cluster-autoscaler-chart-9.59.0/charts/cluster-autoscaler/Chart.yaml",
    released="2026-07-21",
)
AWS_EFA_DEVICE_PLUGIN = ChartPin(
    repository="https://aws.github.io/eks-charts",
    chart="aws-efa-k8s-device-plugin",
    version="v0.5.30",
    source="https://github.com/aws/eks-charts/blob/master/stable/aws-efa-k8s-device-plugin/Chart.yaml",
    released="2025-10-10",  # the last change to that Chart.yaml (eks-charts has no per-chart tags)
)
CERT_MANAGER = ChartPin(
    repository="https://charts.jetstack.io",
    chart="cert-manager",
    version="v1.21.1",
    source="https://github.com/cert-manager/cert-manager/blob/v1.21.1/deploy/charts/cert-manager/Chart.yaml",
    released="2026-07-29",
)
KUBE_PROMETHEUS_STACK = ChartPin(
    repository="https://prometheus-community.github.io/helm-charts",
    chart="kube-prometheus-stack",
    version="88.5.3",
    source="https://github.com/prometheus-community/helm-charts/blob/kube-prometheus-stack-88.5.3/charts/kube-prometheus-stack/Chart.yaml",
    released="2026-08-21",
)
KUBERAY_OPERATOR = ChartPin(
    repository="https://ray-project.github.io/kuberay-helm/",
    chart="kuberay-operator",
    version="1.7.0",
    source="https://github.com/ray-project/kuberay/blob/v1.7.0/helm-chart/kuberay-operator/Chart.yaml",
    released="2026-08-20",
)
KUEUE = ChartPin(
    repository="oci://registry.k8s.io/kueue/charts",
    chart="kueue",
    version="0.19.2",
    source="https://github.com/kubernetes-sigs/kueue/blob/v0.19.2/charts/kueue/Chart.yaml",
    released="2026-08-20",
)
VOLCANO = ChartPin(
    repository="https://volcano-sh.github.io/helm-charts",
    chart="volcano",
    version="1.15.1",
    source="https://github.com/volcano-sh/volcano/blob/v1.15.1/installer/helm/chart/volcano/Chart.yaml",
    released="2026-07-30",
)
KUBEFLOW_TRAINER = ChartPin(
    repository="oci://ghcr.io/kubeflow/charts",
    chart="kubeflow-trainer",
    version="2.3.0",
    source="https://github.com/kubeflow/trainer/blob/v2.3.0/charts/kubeflow-trainer/Chart.yaml",
    released="2026-08-06",
)
KSERVE_CRD = ChartPin(
    repository="oci://ghcr.io/kserve/charts",
    chart="kserve-crd",
    version="v0.20.0",
    source="https://github.com/kserve/kserve/blob/v0.20.0/charts/kserve-crd/Chart.yaml",
    released="2026-08-06",
)
KSERVE_RESOURCES = ChartPin(
    repository="oci://ghcr.io/kserve/charts",
    chart="kserve-resources",
    version="v0.20.0",
    source="https://github.com/kserve/kserve/blob/v0.20.0/charts/kserve-resources/Chart.yaml",
    released="2026-08-06",
)
KSERVE_RUNTIME_CONFIGS = ChartPin(
    repository="oci://ghcr.io/kserve/charts",
    chart="kserve-runtime-configs",
    version="v0.20.0",
    source="https://github.com/kserve/kserve/blob/v0.20.0/charts/kserve-runtime-configs/Chart.yaml",
    released="2026-08-06",
)
JUICEFS_CSI_DRIVER = ChartPin(
    repository="https://juicedata.github.io/charts/",
    chart="juicefs-csi-driver",
    version="0.32.4",
    source="https://github.com/juicedata/charts/blob/helm-chart-juicefs-csi-driver-0.32.4/charts/juicefs-csi-driver/Chart.yaml",
    released="2026-08-20",
)
FLUID = ChartPin(
    repository="https://fluid-cloudnative.github.io/charts",
    chart="fluid",
    version="1.0.8",
    source="https://github.com/fluid-cloudnative/fluid/blob/v1.0.8/charts/fluid/fluid/Chart.yaml",
    released="2025-10-30",  # newest fluid release in the upstream repository on 2026-08-21
)
# Published by the release workflow (hack/release/chart-update.sh + chart-push.sh at v0.9.4) as
# oci://ghcr.io/k8snetworkplumbingwg/whereabouts-chart, version = tag without "v", image tag = tag.
# git's Chart.yaml keeps the placeholder 0.1.1 (image v0.8.0): that version was never published.
WHEREABOUTS = ChartPin(
    repository="oci://ghcr.io/k8snetworkplumbingwg",
    chart="whereabouts-chart",
    version="0.9.4",
    source="https://github.com/k8snetworkplumbingwg/whereabouts/blob/v0.9.4/hack/release/chart-update.sh",
    released="2026-06-02",
)
WHEREABOUTS_IMAGE = ImagePin(
    repository="ghcr.io/k8snetworkplumbingwg/whereabouts",
    tag="v0.9.4",
    source="https://github.com/k8snetworkplumbingwg/whereabouts/releases/tag/v0.9.4",
    released="2026-06-02",
)

# --- Ray images (training) -----------------------------------------------------------------------
# RayCluster pods run rayproject images (uid 1000, user "ray"); the tag must start with the
# cluster's rayVersion (`<ver>-py311` CPU, `<ver>-py311-gpu` CUDA). KubeRay 1.7 supports Ray 2.x
# from 2.8 on; Ray 2.58.0 is the newest its samples run (ray-project/kuberay master, 2026-08-18).
RAY = ImagePin(
    repository="rayproject/ray",
    tag="2.58.0-py311",
    source="https://github.com/ray-project/kuberay/blob/master/ray-operator/config/samples/ray-cluster.sandbox.yaml",
    released="2026-08-18",
)
RAY_VERSION = RAY.tag.split("-")[0]
RAY_IMAGE = RAY.image

# --- Container images ----------------------------------------------------------------------------
# vLLM's OpenAI-compatible server for the serving area's ClusterServingRuntime.
VLLM = ImagePin(
    repository="vllm/vllm-openai",
    tag="v0.33.0",
    source="https://github.com/vllm-project/vllm/releases/tag/v0.33.0",
    released="2026-08-01",  # not re-read offline: date of the pin's last review
)
VLLM_IMAGE = VLLM.image

# cluster-autoscaler's image per Kubernetes minor: upstream requires the autoscaler minor to equal
# the cluster's (https://github.com/kubernetes/autoscaler/tree/master/cluster-autoscaler#releases).
# Latest patch per minor from the cluster-autoscaler-1.x.y tags (2026-07-22). Renovate only raises
# patches here (renovate.json), a new minor gets a new row.
CLUSTER_AUTOSCALER_IMAGES: dict[str, ImagePin] = {
    "1.32": ImagePin(
        repository="registry.k8s.io/autoscaling/cluster-autoscaler",
        tag="v1.32.7",
        source="https://github.com/kubernetes/autoscaler/releases/tag/cluster-autoscaler-1.32.7",
        released="2026-02-13",
    ),
    "1.33": ImagePin(
        repository="registry.k8s.io/autoscaling/cluster-autoscaler",
        tag="v1.33.6",
        source="https://github.com/kubernetes/autoscaler/releases/tag/cluster-autoscaler-1.33.6",
        released="2026-07-22",
    ),
    "1.34": ImagePin(
        repository="registry.k8s.io/autoscaling/cluster-autoscaler",
        tag="v1.34.5",
        source="https://github.com/kubernetes/autoscaler/releases/tag/cluster-autoscaler-1.34.5",
        released="2026-07-22",
    ),
    "1.35": ImagePin(
        repository="registry.k8s.io/autoscaling/cluster-autoscaler",
        tag="v1.35.2",
        source="https://github.com/kubernetes/autoscaler/releases/tag/cluster-autoscaler-1.35.2",
        released="2026-07-22",
    ),
    "1.36": ImagePin(
        repository="registry.k8s.io/autoscaling/cluster-autoscaler",
        tag="v1.36.1",
        source="https://github.com/kubernetes/autoscaler/releases/tag/cluster-autoscaler-1.36.1",
        released="2026-07-22",
    ),
}

# --- EKS (components/aws) ------------------------------------------------------------------------
# The EKS version default and its lifecycle live in gpu_platform.catalog.eks_versions. The managed
# add-on versions, per Kubernetes minor: `pulumi up` asks AWS (aws.eks.get_addon_version, the
# add-on's default version for the cluster's Kubernetes version); the offline plan answers that
# lookup from this table (gpu_platform.catalog.addon_versions). The `-eksbuild.N` builds are
# published only through the EKS API (`aws eks describe-addon-versions --kubernetes-version 1.36
# --addon-name vpc-cni`): they could not be verified offline, so this table is what the plan shows,
# not what a deploy is forced to use. Upstream versions behind them: vpc-cni v1.23.0 (2026-07-31,
# https://github.com/aws/amazon-vpc-cni-k8s/releases/tag/v1.23.0), CoreDNS per minor as EKS ships it,
# aws-ebs-csi-driver v1.64.0 (the appVersion of upstream's chart helm-chart-aws-ebs-csi-driver-2.64.0,
# /work/shared/upstream SOURCES.md; the driver supports every minor here; the -eksbuild.1 suffix is
# unverified, as for the others).
EKS_ADDONS_SOURCE = "https://docs.aws.amazon.com/eks/latest/userguide/workloads-add-ons-available-eks.html"
EKS_ADDONS_CHECKED = "2026-11-26"  # when the table was written (not checked against the EKS API)
EKS_ADDON_VERSIONS: dict[str, dict[str, str]] = {
    "1.32": {
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.32","addonName":"vpc-cni"}
        "vpc-cni": "v1.23.0-eksbuild.1",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.32","addonName":"coredns"}
        "coredns": "v1.11.4-eksbuild.14",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.32","addonName":"kube-proxy"}
        "kube-proxy": "v1.32.6-eksbuild.12",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.32","addonName":"eks-pod-identity-agent"}
        "eks-pod-identity-agent": "v1.3.10-eksbuild.1",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.32","addonName":"aws-ebs-csi-driver"}
        "aws-ebs-csi-driver": "v1.64.0-eksbuild.1",
    },
    "1.33": {
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.33","addonName":"vpc-cni"}
        "vpc-cni": "v1.23.0-eksbuild.1",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.33","addonName":"coredns"}
        "coredns": "v1.12.4-eksbuild.1",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.33","addonName":"kube-proxy"}
        "kube-proxy": "v1.33.3-eksbuild.10",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.33","addonName":"eks-pod-identity-agent"}
        "eks-pod-identity-agent": "v1.3.10-eksbuild.1",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.33","addonName":"aws-ebs-csi-driver"}
        "aws-ebs-csi-driver": "v1.64.0-eksbuild.1",
    },
    "1.34": {
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.34","addonName":"vpc-cni"}
        "vpc-cni": "v1.23.0-eksbuild.1",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.34","addonName":"coredns"}
        "coredns": "v1.12.4-eksbuild.1",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.34","addonName":"kube-proxy"}
        "kube-proxy": "v1.34.1-eksbuild.2",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.34","addonName":"eks-pod-identity-agent"}
        "eks-pod-identity-agent": "v1.3.10-eksbuild.1",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.34","addonName":"aws-ebs-csi-driver"}
        "aws-ebs-csi-driver": "v1.64.0-eksbuild.1",
    },
    "1.35": {
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.35","addonName":"vpc-cni"}
        "vpc-cni": "v1.23.0-eksbuild.1",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.35","addonName":"coredns"}
        "coredns": "v1.13.1-eksbuild.1",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.35","addonName":"kube-proxy"}
        "kube-proxy": "v1.35.0-eksbuild.2",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.35","addonName":"eks-pod-identity-agent"}
        "eks-pod-identity-agent": "v1.3.10-eksbuild.1",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.35","addonName":"aws-ebs-csi-driver"}
        "aws-ebs-csi-driver": "v1.64.0-eksbuild.1",
    },
    "1.36": {
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.36","addonName":"vpc-cni"}
        "vpc-cni": "v1.23.0-eksbuild.1",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.36","addonName":"coredns"}
        "coredns": "v1.13.1-eksbuild.1",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.36","addonName":"kube-proxy"}
        "kube-proxy": "v1.36.0-eksbuild.1",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.36","addonName":"eks-pod-identity-agent"}
        "eks-pod-identity-agent": "v1.3.10-eksbuild.1",
        # renovate: eksAddonsFilter={"kubernetesVersion":"1.36","addonName":"aws-ebs-csi-driver"}
        "aws-ebs-csi-driver": "v1.64.0-eksbuild.1",
    },
}

# --- NVIDIA Network Operator images (components/network) -----------------------------------------
# NicClusterPolicy images for network-operator 26.4.1, from that release's full CR example:
# https://docs.nvidia.com/networking/display/kubernetes2641/customizations/cr-full-example.html
# (component images are tagged `network-operator-v<release>`; bump with NETWORK_OPERATOR).
NETWORK_OPERATOR_IMAGE_REPOSITORY = "nvcr.io/nvidia/mellanox"
NETWORK_OPERATOR_COMPONENT_TAG = f"network-operator-v{NETWORK_OPERATOR.version}"
DOCA_DRIVER = ImagePin(
    repository="nvcr.io/nvidia/mellanox/doca-driver",
    tag="doca3.4.1-26.04-1.1.0.0-1",
    source="https://docs.nvidia.com/networking/display/kubernetes2641/customizations/cr-full-example.html",
    released="2026-07-24",  # with network-operator 26.4.1
)
DOCA_DRIVER_IMAGE = DOCA_DRIVER.repository.rsplit("/", 1)[1]
DOCA_DRIVER_VERSION = DOCA_DRIVER.tag

# --- Kubeflow (components/training/kubeflow.py) --------------------------------------------------
# Parts without a Helm chart install from upstream kustomize manifests at these git tags.
KUBEFLOW_TRAINING_OPERATOR = GitRefPin(
    repository="kubeflow/trainer",
    ref="v1.9.4",
    source="https://github.com/kubeflow/trainer/tree/v1.9.4/manifests/overlays/standalone",
    released="2026-08-18",
)
# Pipelines tags have no "v"; install steps:
# https://www.kubeflow.org/docs/components/pipelines/operator-guides/installation/
KUBEFLOW_PIPELINES = GitRefPin(
    repository="kubeflow/pipelines",
    ref="2.17.0",
    source="https://github.com/kubeflow/pipelines/tree/2.17.0/manifests/kustomize",
    released="2026-07-09",
)
KATIB = GitRefPin(
    repository="kubeflow/katib",
    ref="v0.19.0",
    source="https://github.com/kubeflow/katib/tree/v0.19.0/manifests/v1beta1/installs",
    released="2025-10-30",  # newest Katib release on 2026-06-22 (its repository's last commit)
)
# The notebook controller moved from the retired kubeflow/kubeflow repository to kubeflow/notebooks
# (1.x line; 2.0 is in beta): https://github.com/kubeflow/notebooks/tree/v1.11.0/components/notebook-controller
KUBEFLOW_NOTEBOOKS = GitRefPin(
    repository="kubeflow/notebooks",
    ref="v1.11.0",
    source="https://github.com/kubeflow/notebooks/releases/tag/v1.11.0",
    released="2026-06-04",
)
KUBEFLOW_TRAINING_OPERATOR_REF = KUBEFLOW_TRAINING_OPERATOR.ref
KUBEFLOW_PIPELINES_REF = KUBEFLOW_PIPELINES.ref
KATIB_REF = KATIB.ref
KUBEFLOW_NOTEBOOKS_REF = KUBEFLOW_NOTEBOOKS.ref
# JobSet, which Trainer v2 runs TrainJobs on, comes as kubeflow-trainer 2.3.0's pinned chart dependency
# (condition jobset.install): https://github.com/kubeflow/trainer/blob/v2.3.0/charts/kubeflow-trainer/Chart.yaml
KUBEFLOW_TRAINER_JOBSET_VERSION = "0.12.0"
# Image of the torch-distributed ClusterTrainingRuntime, as in upstream's runtime at v2.3.0.
TORCH_RUNTIME = ImagePin(
    repository="pytorch/pytorch",
    tag="2.13.0-cuda13.0-cudnn9-runtime",
    source="https://github.com/kubeflow/trainer/blob/v2.3.0/manifests/base/runtimes/torch_distributed.yaml",
    released="2026-07-21",
)
TORCH_RUNTIME_IMAGE = TORCH_RUNTIME.image

# --- Knative Serving for KServe Serverless (components/serving/knative.py) ------------------------
# Release YAMLs serving-crds.yaml/serving-core.yaml at tag knative-v<version>. Knative supports its
# two newest minors (knative/community mechanics/RELEASE-VERSIONING-PRINCIPLES.md); 1.23 needs
# Kubernetes >= 1.34 (vendor/knative.dev/pkg/version/version.go at knative-v1.23.0). KServe 0.20
# tests Knative 1.21.1 (kserve-deps.env at v0.20.0) and uses only serving.knative.dev/v1, which 1.23
# still serves.
KNATIVE_SERVING = GitRefPin(
    repository="knative/serving",
    ref="knative-v1.23.0",
    source="https://github.com/knative/serving/releases/tag/knative-v1.23.0",
    released="2026-07-29",
)
# net-kourier has its own patch releases per Knative minor; keep the minor equal to Serving's.
KNATIVE_KOURIER = GitRefPin(
    repository="knative-extensions/net-kourier",
    ref="knative-v1.23.0",
    source="https://github.com/knative-extensions/net-kourier/releases/tag/knative-v1.23.0",
    released="2026-07-28",
)
KNATIVE_SERVING_VERSION = KNATIVE_SERVING.ref.removeprefix("knative-v")
KNATIVE_KOURIER_VERSION = KNATIVE_KOURIER.ref.removeprefix("knative-v")
# Knative 1.23's minimum Kubernetes (DefaultKubernetesMinVersion, knative.dev/pkg at knative-v1.23.0)
KNATIVE_MIN_KUBERNETES = "1.34"

# --- Kubeflow Trainer v2 runtimes (components/training/runtimes.py) -------------------------------
# The torch runtime runs TORCH_RUNTIME (upstream's torch-distributed image at v2.3.0, above); the
# DeepSpeed/MPI runtime upstream's deepspeed-distributed image, whose tag is the chart version
# (`trainer.runtimeImage` in charts/kubeflow-trainer/templates/_helpers.tpl at v2.3.0).
# Bump with KUBEFLOW_TRAINER. EFA needs an image carrying aws-ofi-nccl (AWS DLCs): set `image`.
TRAINER_TORCH_IMAGE = TORCH_RUNTIME_IMAGE
DEEPSPEED_RUNTIME = ImagePin(
    repository="ghcr.io/kubeflow/trainer/deepspeed-runtime",
    tag="v2.3.0",
    source="https://github.com/kubeflow/trainer/tree/v2.3.0/charts/kubeflow-trainer/files/runtimes",
    released=KUBEFLOW_TRAINER.released,  # published with the v2.3.0 release
)
DEEPSPEED_RUNTIME_IMAGE = DEEPSPEED_RUNTIME.image

# --- Spark operator and MLflow (components/training/spark.py, mlflow.py) --------------------------
# The chart versions in ../shared/upstream/charts-src (SOURCES.md), read 2026-11-26.
SPARK_OPERATOR = ChartPin(
    repository="https://kubeflow.github.io/spark-operator",
    chart="spark-operator",
    version="2.5.2",
    source="https://github.com/kubeflow/spark-operator/blob/v2.5.2/charts/spark-operator-chart/Chart.yaml",
    # not earlier than: kubeflow/community-distribution#3506 took v2.5.1 on 2026-06-16
    released="2026-06-16",
)
# community-charts/mlflow 1.11.5 runs MLflow 3.15.1 (its appVersion; image burakince/mlflow:3.15.1)
MLFLOW = ChartPin(
    repository="https://community-charts.github.io/helm-charts",
    chart="mlflow",
    version="1.11.5",
    source="https://github.com/community-charts/helm-charts/blob/mlflow-1.11.5/charts/mlflow/Chart.yaml",
    # not earlier than: community-charts/helm-charts#570 (MLflow 3.15.1) merged 2026-08-07
    released="2026-08-07",
)

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
    # KEDA v2.20.2 (kedacore/keda releases); downstream updates to it from 2026-08-01
    released="2026-08-01",
)

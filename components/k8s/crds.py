"""How each chart's CustomResourceDefinitions survive the chart's removal or upgrade.

Deleting a CRD deletes every custom resource of its kind (every RayCluster, InferenceService or
ClusterPolicy), so no operator removal may take its CRDs with it. Helm never deletes CRDs that a
chart ships in its ``crds/`` folder, and keeps templated ones annotated
``helm.sh/resource-policy: keep``. Charts that template their CRDs without that annotation get a
guarded release: ``protect`` (removing it needs a deliberate ``pulumi state unprotect``) and
``retain_on_delete`` (``pulumi destroy`` leaves the release, and so its CRDs, installed).
"""

from __future__ import annotations

from typing import Literal

CrdHandling = Literal["no-crds", "crds-folder", "kept-by-chart", "guarded-release"]

CHART_CRDS: dict[str, tuple[CrdHandling, str]] = {
    "gpu-operator": ("crds-folder", "deployments/gpu-operator/crds; operator.cleanupCRD stays false"),
    "network-operator": ("crds-folder", "deployment/network-operator/crds; upgradeCRDs hook"),
    "kuberay-operator": ("crds-folder", "helm-chart/kuberay-operator/crds"),
    "whereabouts-chart": ("crds-folder", "deployment/whereabouts-chart/crds"),
    "fluid": ("crds-folder", "charts/fluid/fluid/crds; crdUpgrade job applies new versions"),
    "cert-manager": ("kept-by-chart", "templated CRDs annotated keep with crds.keep: true"),
    "kserve-crd": ("guarded-release", "the chart is only templated CRDs, installed apart from KServe"),
    "kueue": ("guarded-release", "CRDs are chart templates (charts/kueue/templates/crd)"),
    "kubeflow-trainer": ("guarded-release", "CRDs are chart templates (crds.enabled)"),
    "volcano": ("guarded-release", "CRDs are chart templates"),
    "keda": ("guarded-release", "templates/crds without helm.sh/resource-policy: keep (crds.install)"),
    "kserve-resources": ("no-crds", "the controller only; CRDs come from kserve-crd"),
    "kserve-runtime-configs": ("no-crds", "ClusterServingRuntime objects only"),
    "juicefs-csi-driver": ("no-crds", "CSI driver"),
    "cluster-autoscaler": ("no-crds", ""),
    "aws-efa-k8s-device-plugin": ("no-crds", ""),
    "spark-operator": ("crds-folder", "charts/spark-operator-chart/crds; hook.upgradeCrd stays false"),
    "mlflow": ("no-crds", "the tracking server; its data is in PostgreSQL and S3"),
    "kube-prometheus-stack": ("guarded-release", "crds subchart templates the Prometheus operator CRDs"),
}


def crd_handling(chart: str) -> CrdHandling:
    """How ``chart``'s CRDs survive; a chart missing from the table is a library bug."""
    try:
        return CHART_CRDS[chart][0]
    except KeyError:
        raise KeyError(
            f"chart {chart!r} has no entry in gpu_platform.k8s.crds.CHART_CRDS: say how its CRDs "
            "survive removal before installing it"
        ) from None

"""Readiness errors each environment still has, until the fixes of issue 13 land.

tests/test_readiness_environments.py asserts each environment's errors are exactly these: a fix
must remove its lines here, and a new error fails the suite. tests/test_cli.py expects exit 3
for an environment while its list is not empty.
"""

KUBEFLOW_PIPELINES_CLAIMS = {
    ("storage", "PersistentVolumeClaim/kubeflow/minio-pvc (kustomize)"),
    ("storage", "PersistentVolumeClaim/kubeflow/mysql-pv-claim (kustomize)"),
}
PROMETHEUS_VOLUME = ("storage", "helm/monitoring/kube-prometheus-stack values.prometheus.prometheusSpec"
                                ".storageSpec.volumeClaimTemplate")

REMAINING: dict[str, set[tuple[str, str]]] = {
    "dev": set(),
    "staging": {
        *KUBEFLOW_PIPELINES_CLAIMS,
        PROMETHEUS_VOLUME,
    },
    "prod": {
        *KUBEFLOW_PIPELINES_CLAIMS,
        PROMETHEUS_VOLUME,
    },
    "onprem": {
        ("network", "Namespace/ml"),
        PROMETHEUS_VOLUME,
    },
}

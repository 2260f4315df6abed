"""MLflow (RDS + S3 through IRSA on AWS, a given endpoint on-prem) and the Spark operator."""

import json

import pytest
from component_outputs import resolved_outputs

from gpu_platform.core.pools import PoolPlacement
from gpu_platform.plan.model import helm_release_manifest, kubernetes_object
from gpu_platform.training import Mlflow, MlflowArgs, SparkOperator, SparkOperatorArgs
from gpu_platform.training.mlflow import mlflow_values
from gpu_platform.training.spark import spark_operator_values

RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"
MLFLOW = "gpu-platform:training:Mlflow"
EXTERNAL = {
    "backend": "external",
    "external": {"host": "pg.lab", "password": "pw", "bucket": "mlflow",
                 "endpointUrl": "https://minio.lab:9000", "accessKey": "ak", "secretKey": "sk"},
}
AWS = {"subnetIds": ["subnet-1"], "securityGroupIds": ["sg-1"],
       "oidcProviderArn": "arn:aws:iam::1:oidc-provider/oidc.eks", "oidcProviderUrl": "https://oidc.eks/id/X"}
DATABASE = {"kind": "postgres", "username": "mlflow", "database": "mlflow", "password": "pw"}


def test_prod_mlflow_keeps_its_stores_private_protected_and_retained(plan_env, conformance):
    plan = plan_env("prod")
    db = plan.one("aws:rds/instance:Instance", "platform-training-mlflow-postgres")
    assert (db.protect, db.retain_on_delete) == (True, True)
    assert db.inputs["publiclyAccessible"] is False
    assert db.inputs["deletionProtection"] is True
    assert db.inputs["storageEncrypted"] is True
    bucket = plan.one("aws:s3/bucket:Bucket", "platform-training-mlflow-artifacts-bucket")
    assert (bucket.protect, bucket.retain_on_delete) == (True, True)
    role = plan.one("aws:iam/role:Role", "platform-training-mlflow-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    (condition,) = [s["Condition"]["StringEquals"] for s in trust["Statement"]]
    assert "system:serviceaccount:mlflow:mlflow" in condition.values()
    release = helm_release_manifest(plan.one(RELEASE, "platform-training-mlflow-chart"))
    assert (release["chart"], release["version"], release["namespace"]) == ("mlflow", "1.11.5", "mlflow")
    values = release["values"]
    # credentials only in the Secret; the chart reads them from there
    assert values["backendStore"]["existingDatabaseSecret"]["name"] == "mlflow-db"
    assert values["backendStore"]["postgres"]["password"] == ""
    assert values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"].endswith(
        "platform-training-mlflow-role")
    assert "existingSecret" not in values["artifactRoot"]["s3"]  # no access keys on AWS
    # namespace mlflow enforces Pod Security restricted, which requires a seccomp profile
    assert values["podSecurityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    ns = kubernetes_object(plan.one("kubernetes:core/v1:Namespace", "platform-training-mlflow-ns"))
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    secret = plan.one(SECRET, "platform-training-mlflow-mlflow-db")
    assert kubernetes_object(secret)["stringData"] == {}  # secret as a whole: redacted in the plan
    conformance.assert_conformant(conformance.validate_helm_values("mlflow", mlflow_values(
        MlflowArgs.model_validate({"aws": {"database": DATABASE}, **AWS}), db_host="db", bucket="b",
        role_arn="arn")))


def test_external_stores_take_credentials_from_secrets(run_component, conformance):
    plan = run_component(lambda: Mlflow("mlflow", EXTERNAL))
    assert not plan.find("aws:rds/instance:Instance")
    values = helm_release_manifest(plan.one(RELEASE, "mlflow-chart"))["values"]
    assert values["backendStore"]["postgres"]["host"] == "pg.lab"
    assert (values["replicaCount"], values["resources"]) == (2, {  # the seed's server
        "requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"cpu": "4", "memory": "8Gi"}})
    assert values["artifactRoot"]["s3"]["existingSecret"] == {
        "name": "mlflow-s3", "keyOfAccessKeyId": "AWS_ACCESS_KEY_ID",
        "keyOfSecretAccessKey": "AWS_SECRET_ACCESS_KEY"}
    assert values["extraEnvVars"] == {"MLFLOW_S3_ENDPOINT_URL": "https://minio.lab:9000"}
    assert sorted(r.name for r in plan.find(SECRET)) == ["mlflow-mlflow-db", "mlflow-mlflow-s3"]
    assert "pw" not in json.dumps(values) and "sk" not in json.dumps(values)
    conformance.assert_conformant(conformance.validate_helm_values("mlflow", values))
    assert resolved_outputs(run_component, lambda: Mlflow("mlflow", EXTERNAL),
                            "namespace", "release_name", "tracking_uri", "bucket_name") == {
        "namespace": "mlflow", "release_name": "mlflow", "tracking_uri": "http://mlflow.mlflow.svc:80",
        "bucket_name": "mlflow"}


def test_mlflow_without_its_stores_is_refused(refused):
    err = refused(lambda: Mlflow("mlflow", {"backend": "aws"}))
    assert [str(i) for i in err.issues] == [
        "aws: is required with backend aws (database: kind postgres and its password)",
        "subnetIds: is required with backend aws (subnetIds, securityGroupIds, oidcProviderArn, "
        "oidcProviderUrl: the EKS cluster's private subnets, security group and OIDC provider)",
    ]
    err = refused(lambda: Mlflow("mlflow", {"backend": "external", "aws": {"database": DATABASE},
                                            "memory": "16Gi"}))
    assert [str(i) for i in err.issues] == [
        'memory: must be <= memoryLimit (8Gi) (got "16Gi")',
        "external: is required with backend external (host, password, bucket, endpointUrl, accessKey, "
        "secretKey)",
        "aws: is only used with backend aws; remove it",
    ]


def test_mlflow_on_an_existing_cluster_needs_external_stores(plan_env):
    from gpu_platform.config import ConfigError
    with pytest.raises(ConfigError) as caught:
        plan_env("onprem", overrides={"gpu-platform:training": {
            "enabled": True, "teams": {"ml": {"gpuQuota": 8}},
            "mlflow": {"enabled": True, "aws": {"database": DATABASE}}}})
    assert [str(i) for i in caught.value.issues] == [
        "training.mlflow.backend: aws needs the EKS cluster this platform creates (cluster.kind: eks); on an "
        'existing cluster use backend: external (got "aws")']


def test_prod_spark_operator_watches_its_job_namespace(plan_env, conformance):
    plan = plan_env("prod")
    release = helm_release_manifest(plan.one(RELEASE, "platform-training-spark-operator-chart"))
    assert (release["chart"], release["version"], release["namespace"]) == (
        "spark-operator", "2.5.2", "spark-operator")
    assert release["values"]["spark"] == {"jobNamespaces": ["ml-data"],
                                          "serviceAccount": {"create": True, "name": "spark"}}
    ns = kubernetes_object(plan.one("kubernetes:core/v1:Namespace",
                                    "platform-training-spark-operator-jobs-ml-data"))
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    conformance.assert_conformant(conformance.validate_helm_values("spark-operator", release["values"]))


def test_spark_operator_on_a_pool_under_volcano_in_team_namespaces(run_component, conformance):
    pools = {"cpu": PoolPlacement.model_validate({"taints": [{"key": "batch", "value": "true"}]})}
    args = SparkOperatorArgs.model_validate({"jobNamespaces": ["ml"], "pool": "cpu", "pools": pools,
                                             "existingNamespaces": ["ml"], "volcano": True})
    values = spark_operator_values(args)
    placed = {"nodeSelector": {"gpu-platform.io/pool": "cpu"}, "tolerations": [
        {"key": "batch", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]}
    assert {k: values["controller"][k] for k in placed} == placed
    assert {k: values["webhook"][k] for k in placed} == placed
    assert values["controller"]["batchScheduler"] == {"enable": True, "default": "volcano"}
    conformance.assert_conformant(conformance.validate_helm_values("spark-operator", values))
    plan = run_component(lambda: SparkOperator("spark", args))
    assert not plan.find("kubernetes:core/v1:Namespace", "spark-jobs-ml")  # the team's namespace exists
    assert resolved_outputs(run_component, lambda: SparkOperator("spark", args),
                            "namespace", "release_name", "job_namespaces", "service_account") == {
        "namespace": "spark-operator", "release_name": "spark-operator", "job_namespaces": ["ml"],
        "service_account": "spark"}


def test_spark_operator_refuses_bad_namespaces_and_pools(refused):
    bad = {"jobNamespaces": ["a", "a", "spark-operator"], "pool": "gpu"}
    err = refused(lambda: SparkOperator("spark", bad))
    assert str(err) == (
        "invalid args of SparkOperator 'spark' (3 errors):\n"
        '  - jobNamespaces.1: is listed twice (got "a")\n'
        "  - jobNamespaces.2: must not be the operator's namespace (jobs run users' images under Pod "
        'Security baseline) (got "spark-operator")\n'
        '  - pool: unknown GPU pool; known pools: none (got "gpu")')


def test_onprem_mlflow_uses_the_labs_endpoints_and_creates_no_cloud_store(plan_env, conformance):
    plan = plan_env("onprem")
    values = helm_release_manifest(plan.one(RELEASE, "platform-training-mlflow-chart"))["values"]
    assert values["backendStore"]["postgres"]["host"] == "postgres.lab"
    assert values["artifactRoot"]["s3"]["bucket"] == "mlflow"
    assert values["extraEnvVars"] == {"MLFLOW_S3_ENDPOINT_URL": "https://minio.lab:9000"}
    assert "annotations" not in values["serviceAccount"]  # no IRSA off AWS
    assert sorted(r.name for r in plan.find(SECRET) if r.name.startswith("platform-training-mlflow")) == [
        "platform-training-mlflow-mlflow-db", "platform-training-mlflow-mlflow-s3"]
    assert not [r for r in plan.resources if r.type.startswith("aws:")]
    conformance.assert_conformant(conformance.validate_helm_values("mlflow", values))

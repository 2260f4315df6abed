"""Every stateful resource in every environment carries its guards; every type is classified."""

import pulumi
import pulumi_kubernetes as k8s
import pytest

from gpu_platform.k8s.crds import CHART_CRDS
from gpu_platform.plan.model import helm_release_manifest
from gpu_platform.plan.policy import GENERIC
from gpu_platform.plan.safety import guard_problems, is_custom_resource
from gpu_platform.policy import POLICY, STATEFUL
from gpu_platform.testing.fixtures import stacks

ENVIRONMENTS = stacks()


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_stateful_resource_is_guarded_and_every_type_classified(plan_env, env):
    assert guard_problems(plan_env(env)) == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_chart_says_how_its_crds_survive(plan_env, env):
    charts = {helm_release_manifest(r)["chart"] for r in plan_env(env).helm_releases()}
    assert charts - set(CHART_CRDS) == set()


def test_gpu_operator_never_cleans_up_its_crds(plan_env):
    for env in ENVIRONMENTS:
        release = plan_env(env).one("kubernetes:helm.sh/v3:Release", "platform-gpu-operator-chart")
        assert release.inputs["values"].get("operator", {}).get("cleanupCRD") in (None, False)


def test_data_stores_exist_where_expected(plan_env):
    prod_types = {r.type for r in plan_env("prod")}
    assert {"aws:s3/bucket:Bucket", "aws:kms/key:Key", "aws:eks/cluster:Cluster"} <= prod_types
    assert set(STATEFUL) & prod_types  # the check above is not vacuous


def test_unguarded_stateful_resource_is_reported(run_component):
    def program():
        k8s.core.v1.PersistentVolumeClaim(
            "ckpt",
            metadata={"name": "ckpt", "namespace": "ml"},
            spec={"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Ti"}}},
            opts=pulumi.ResourceOptions(delete_before_replace=True),
        )

    assert guard_problems(run_component(program)) == [
        "kubernetes:core/v1:PersistentVolumeClaim ckpt: must be protected (datasets, checkpoints, models)",
        "kubernetes:core/v1:PersistentVolumeClaim ckpt: must be retained on delete (datasets, "
        "checkpoints, models)",
        "kubernetes:core/v1:PersistentVolumeClaim ckpt: must not be delete-before-replace (datasets, "
        "checkpoints, models)",
    ]


def test_unclassified_type_is_reported(run_component):
    import pulumi_aws as aws

    def program():
        aws.dynamodb.Table("t", attributes=[{"name": "id", "type": "S"}], hash_key="id",
                           billing_mode="PAY_PER_REQUEST")

    assert guard_problems(run_component(program)) == [
        "aws:dynamodb/table:Table: not classified by the plan policy (gpu-platform)"
    ]


def test_the_installed_policy_is_this_librarys():
    # registered as an entry point in pyproject.toml; a stale install lacks it: pip install -e .
    from gpu_platform.plan.policy import default_policy

    assert default_policy().name == "gpu-platform"
    assert default_policy().stateful == POLICY.stateful


def test_the_engine_without_a_policy_classifies_nothing(run_component):
    def program():
        k8s.core.v1.ConfigMap("cm", metadata={"name": "cm"}, data={"a": "b"})
        k8s.apiextensions.CustomResource(
            "rc", api_version="ray.io/v1", kind="RayCluster", metadata={"name": "rc"}, spec={}
        )

    # the custom resource needs no entry (its CRD is what must survive); the ConfigMap does
    assert guard_problems(run_component(program), GENERIC) == [
        "kubernetes:core/v1:ConfigMap: not classified by the plan policy (generic)"
    ]


def test_a_helm_release_is_guarded_by_its_charts_crd_handling(run_component):
    def program():
        k8s.helm.v3.Release("kueue", chart="kueue", version="0.1.0")
        k8s.helm.v3.Release("kuberay", chart="kuberay-operator", version="0.1.0")

    assert guard_problems(run_component(program)) == [
        "kubernetes:helm.sh/v3:Release kueue: must be protected (its CRDs are chart templates that "
        "go with the release)",
        "kubernetes:helm.sh/v3:Release kueue: must be retained on delete (its CRDs are chart "
        "templates that go with the release)",
    ]


def test_custom_resources_are_recognised():
    assert is_custom_resource("kubernetes:ray.io/v1:RayCluster")
    assert not is_custom_resource("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    assert not is_custom_resource("kubernetes:core/v1:Pod")

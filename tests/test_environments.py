"""Every environment plans from the same program; each has the shape its README section promises."""

import pytest

from gpu_platform.testing.fixtures import ENVIRONMENTS

PROVIDER = "pulumi:providers:kubernetes"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_plans_one_platform_with_one_kubernetes_provider(plan_env, env):
    plan = plan_env(env)
    platform = plan.one("gpu-platform:index:Platform", "platform")
    provider = plan.one(PROVIDER, "platform-k8s")
    assert provider.parent == platform.urn
    assert plan.outputs["environment"] == env


def test_onprem_uses_its_kubeconfig_and_creates_no_aws_resources(plan_env):
    plan = plan_env("onprem")
    assert plan.one(PROVIDER, "platform-k8s").inputs == {
        "kubeconfig": "~/.kube/onprem.yaml", "context": "onprem-admin",
    }
    assert [r.type for r in plan if r.type.startswith(("aws:", "pulumi:providers:aws"))] == []


def test_dev_has_small_gpu_pools_for_notebooks_and_the_model_server(plan_env):
    # the model server has its own whole A10G: 0.85 of a quarter-shared one is not its share
    pools = plan_env("dev").outputs["gpuPools"]
    assert {name: p["nodeLabels"]["gpu-platform.io/role"] for name, p in pools.items()} == {
        "a10g": "interactive", "serve": "inference",
    }


def test_prod_separates_training_and_inference_pools(plan_env):
    pools = plan_env("prod").outputs["gpuPools"]
    assert {name: p["nodeLabels"]["gpu-platform.io/role"] for name, p in pools.items()} == {
        "train": "training", "infer": "inference", "notebooks": "interactive",
    }

"""GpuPlatform under the contract: the environment config (typed or a mapping) is validated
before anything registers, and the outputs of its parts are registered for users to wire on."""

import pytest
from component_outputs import run_program_plan

from gpu_platform.platform import GpuPlatform
from gpu_platform.testing.fixtures import component_config

PLATFORM = "gpu-platform:index:Platform"
EKS_ENV = {
    "cluster": {"kind": "eks"},
    "aws": {
        "cluster": {"name": "gpu-test", "vpc": {"availabilityZones": ["us-east-1a", "us-east-1b"]}},
        "nodePools": {"a10g": {"instanceType": "g5.xlarge"}},
    },
    "gpuPools": {"a10g": {"role": "interactive", "gpu": {"model": "A10G", "count": 1},
                          "driver": "preinstalled"}},
    "monitoring": {"installPrometheusStack": True},
}


def test_platform_refuses_an_invalid_environment_before_registering(refused):
    bad = {**EKS_ENV, "gpuPools": {"a10g": {**EKS_ENV["gpuPools"]["a10g"], "minSize": 3, "maxSize": 2,
                                            "sharing": {"mig": {"profiles": {"1g.10gb": 7}}}}}}
    err = refused(lambda: GpuPlatform("platform", bad))
    assert str(err) == (
        "invalid args of GpuPlatform 'platform' (2 errors):\n"
        "  - gpuPools.a10g.minSize: must be <= maxSize (2) (got 3)\n"
        "  - gpuPools.a10g.sharing.mig: A10G does not support MIG; MIG-capable GPUs: A30, A100-40GB, "
        "A100-80GB, H100-80GB, H200-141GB, B200, GB200, B300, RTX-PRO-6000"
    )


@pytest.fixture(scope="module")
def built():
    return run_program_plan(lambda: GpuPlatform("platform", EKS_ENV),
                            config=component_config({"region": "us-east-1"}, namespace="aws"))


def test_platform_registers_the_outputs_of_its_parts(built):
    plan = built
    outputs = plan.one(PLATFORM, "platform").outputs
    assert outputs == {
        "gpuPools": ["a10g"],
        "clusterName": "gpu-test",
        "kubeconfig": "[secret]",
        "oidcProviderArn": "arn:aws:openidconnectprovider:us-east-1:123456789012:platform-aws-eks-oidc",
        "oidcProviderUrl": "oidc.eks.us-east-1.amazonaws.com/id/PLATFORM-AWS-EKS-CLUSTER",
        "gpuOperatorNamespace": "gpu-operator",
        "monitoringNamespace": "monitoring",
        "prometheusUrl": "http://kube-prometheus-stack-prometheus.monitoring.svc:9090",
        "gpuAlertsRuleName": "gpu-platform-alerts",
    }
    assert plan.one(PLATFORM, "platform").output_secret_paths == ["kubeconfig"]


def test_charts_wait_for_the_system_pool_and_the_prometheus_crds(built):
    plan = built
    system_pool = plan.one("aws:eks/nodeGroup:NodeGroup", "platform-aws-eks-system").urn
    prometheus = plan.one("kubernetes:helm.sh/v3:Release", "platform-prometheus-chart")
    operator = plan.one("kubernetes:helm.sh/v3:Release", "platform-gpu-operator-chart")
    assert system_pool in prometheus.dependencies
    assert {system_pool, prometheus.urn} <= set(operator.dependencies)


def test_eks_stacks_export_the_cluster_name_and_a_secret_kubeconfig(plan_env):
    dev = plan_env("dev")
    assert (dev.outputs["clusterName"], dev.outputs["kubeconfig"]) == ("gpu-dev", "[secret]")
    assert dev.outputs["prometheusUrl"] == "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
    onprem = plan_env("onprem")  # an existing cluster: its kubeconfig is the user's own
    assert "clusterName" not in onprem.outputs and "kubeconfig" not in onprem.outputs


def test_the_environment_refuses_pools_that_disagree_on_the_mig_strategy(refused):
    """The operator's own check, run by the environment before anything registers."""
    def pool(mig):
        return {"role": "inference", "gpu": {"model": "A100-80GB", "count": 1}, "sharing": {"mig": mig}}

    env = {"cluster": {"kind": "existing"}, "gpuPools": {
        "small": pool({"profiles": {"1g.10gb": 7}, "strategy": "single"}),
        "mixed": pool({"profiles": {"3g.40gb": 1, "1g.10gb": 4}})}}
    err = refused(lambda: GpuPlatform("platform", env))
    assert [str(i) for i in err.issues] == [
        "gpuPools: the MIG layouts of pools small declare strategy 'single' but mixed need 'mixed'; "
        "mig.strategy is one setting for the whole cluster"
    ]

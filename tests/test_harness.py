"""The offline engine captures what the real engine would receive: parents, dependencies,
options, secrets, outputs, and engine-style URNs; unknown invokes fail naming the token."""

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest

from gpu_platform.plan.capture import SECRET, UnknownInvokeError
from gpu_platform.plan.runner import StackConfig

NS = "kubernetes:core/v1:Namespace"


class Box(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("test:index:Box", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.ns = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={"name": "data"},
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(protect=True, retain_on_delete=True)
            ),
        )
        self.secret = k8s.core.v1.Secret(
            f"{name}-creds",
            metadata={"name": "creds", "namespace": "data"},
            string_data={"password": pulumi.Output.secret("fixture-password-123")},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.ns]),
        )
        self.inner = Inner(f"{name}-inner", pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


class Inner(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("test:index:Inner", name, None, opts)
        self.cm = k8s.core.v1.ConfigMap(
            f"{name}-cm",
            metadata={"name": "cm", "namespace": "data"},
            data={"replicas": "3"},
            opts=pulumi.ResourceOptions(
                parent=self,
                delete_before_replace=True,
                aliases=[pulumi.Alias(name="old-cm")],
            ),
        )
        self.register_outputs({})


def program():
    box = Box("box")
    pulumi.export("namespace", box.ns.metadata.name)
    pulumi.export("password", pulumi.Config().require_secret("password"))
    pulumi.export("count", 3)


@pytest.fixture
def plan(run_component):
    config = StackConfig({"gpu-platform:password": "fixture-config-secret"},
                         frozenset({"gpu-platform:password"}))
    return run_component(program, config=config)


def test_parents_are_urns_of_the_enclosing_component(plan):
    box = plan.one("test:index:Box", "box")
    ns = plan.one(NS, "box-ns")
    stack_urn = "urn:pulumi:test::gpu-platform::pulumi:pulumi:Stack::gpu-platform-test"
    assert box.parent == plan.stack_urn == stack_urn
    assert ns.parent == box.urn
    assert sorted(c.name for c in plan.children(box)) == ["box-creds", "box-inner", "box-ns"]


def test_urns_follow_the_engine_not_the_sdk_mock(plan):
    # top-level: no "pulumi:pulumi:Stack$"; nested: the whole parent type chain
    assert plan.one("test:index:Box", "box").urn == "urn:pulumi:test::gpu-platform::test:index:Box::box"
    assert plan.one("kubernetes:core/v1:ConfigMap", "box-inner-cm").urn == (
        "urn:pulumi:test::gpu-platform::test:index:Box$test:index:Inner$"
        "kubernetes:core/v1:ConfigMap::box-inner-cm"
    )


def test_dependencies_are_captured(plan):
    ns = plan.one(NS, "box-ns")
    secret = plan.one("kubernetes:core/v1:Secret", "box-creds")
    assert secret.dependencies == [ns.urn]


def test_resource_options_are_captured(plan):
    ns = plan.one(NS, "box-ns")
    cm = plan.one("kubernetes:core/v1:ConfigMap", "box-inner-cm")
    assert (ns.protect, ns.retain_on_delete, ns.delete_before_replace) == (True, True, False)
    assert (cm.protect, cm.retain_on_delete, cm.delete_before_replace) == (False, False, True)
    assert cm.aliases and cm.aliases[0]["name"] == "old-cm"


def test_secret_inputs_are_replaced_and_their_paths_recorded(plan):
    secret = plan.one("kubernetes:core/v1:Secret", "box-creds")
    assert secret.inputs["stringData"] == SECRET
    assert secret.secret_paths == ["stringData"]
    assert "fixture-password-123" not in str(plan.to_dict())


def test_stack_outputs_keep_secrets_secret(plan):
    assert plan.outputs == {"namespace": "data", "password": SECRET, "count": 3}
    assert "fixture-config-secret" not in str(plan.to_dict())


def test_kubernetes_objects_are_rendered_as_manifests(plan):
    objects = {o["metadata"]["name"]: o for o in plan.kubernetes_objects()}
    assert objects["cm"] == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cm", "namespace": "data"},
        "data": {"replicas": "3"},
    }


def test_unknown_invoke_fails_naming_the_token(run_component):
    def program():
        aws.ec2.get_ami(most_recent=True, owners=["amazon"])

    with pytest.raises(UnknownInvokeError, match="'aws:ec2/getAmi:getAmi'"):
        run_component(program)


def test_each_run_starts_a_fresh_root_stack(run_component):
    first = run_component(lambda: k8s.core.v1.Namespace("a", metadata={"name": "a"}))
    second = run_component(lambda: k8s.core.v1.Namespace("b", metadata={"name": "b"}))
    assert [r.name for r in first] == ["a"]
    assert [r.name for r in second] == ["b"]


def test_explicit_providers_are_recorded_by_urn(run_component):
    def program():
        provider = k8s.Provider("k8s", context="ctx")
        k8s.core.v1.Namespace("n", metadata={"name": "n"},
                              opts=pulumi.ResourceOptions(provider=provider))

    plan = run_component(program)
    assert plan.one(NS, "n").provider == plan.one("pulumi:providers:kubernetes", "k8s").urn


def test_whole_secret_maps_are_redacted_in_manifests_but_stay_valid_objects(plan):
    [secret] = [o for o in plan.kubernetes_objects() if o["kind"] == "Secret"]
    assert secret["stringData"] == {}
    assert secret["metadata"]["annotations"] == {"gpu-platform.io/plan-redacted": "stringData"}


def test_computed_outputs_make_irsa_trust_policies_concrete(plan_env):
    import json

    role = plan_env("prod").one("aws:iam/role:Role", "platform-aws-addons-autoscaler-role")
    conditions = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]
    issuer = "oidc.eks.us-east-1.amazonaws.com/id/PLATFORM-AWS-EKS-CLUSTER"
    assert conditions["StringEquals"] == {
        f"{issuer}:sub": "system:serviceaccount:kube-system:cluster-autoscaler",
        f"{issuer}:aud": "sts.amazonaws.com",
    }

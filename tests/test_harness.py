"""The offline engine captures what the real engine would receive: parents, dependencies,
options, secrets, outputs, and engine-style URNs; unknown invokes fail naming the token."""

from pathlib import Path

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


# --- the harness outside this repository: any project, stack, name and config namespace ----------

from gpu_platform.testing import fixtures as harness  # noqa: E402

USER_PROGRAM = '''
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

config = pulumi.Config()  # the project's own namespace
k8s.core.v1.Namespace("team", metadata={"name": config.require("namespace")})
pulumi.export("replicas", pulumi.Config("ray").require_int("replicas"))
'''


def user_project(folder, name="team-gpu", stacks=("dev",)):
    """A user's own Pulumi project: Pulumi.yaml, a program, one stack file per stack."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
    (folder / "__main__.py").write_text(USER_PROGRAM)
    for stack in stacks:
        (folder / f"Pulumi.{stack}.yaml").write_text(
            f"config:\n  {name}:namespace: {stack}-ml\n  ray:replicas: 2\n"
        )
    return folder


def test_plan_env_plans_any_project_directory_under_its_own_name(plan_env, tmp_path):
    folder = user_project(tmp_path / "team", stacks=("dev", "prod"))
    plan = plan_env("prod", project_dir=folder)
    assert (plan.project, plan.stack) == ("team-gpu", "prod")
    assert [r.urn for r in plan] == ["urn:pulumi:prod::team-gpu::kubernetes:core/v1:Namespace::team"]
    assert plan.one(NS, "team").inputs["metadata"] == {"name": "prod-ml"}
    assert plan.outputs == {"replicas": 2}
    assert harness.stacks(folder) == ["dev", "prod"] and harness.project_name(folder) == "team-gpu"


def test_the_session_project_is_found_from_the_rootdir_not_from_the_installed_package():
    # this repository's conftest plans this repository: its Pulumi.yaml, its stacks
    root = Path(__file__).resolve().parents[1]
    assert harness.project_dir() == root == harness.PROJECT_DIR
    assert harness.project_name() == "gpu-platform"
    assert harness.ENVIRONMENTS == ("dev", "onprem", "prod", "staging")
    assert harness.find_project_dir(root / "components" / "plan") == root
    assert harness.find_project_dir(Path("/")) is None


def test_run_component_runs_under_any_project_name_and_config_namespace(run_component):
    def program():
        k8s.core.v1.Namespace("ns", metadata={"name": pulumi.Config("acme").require("namespace")})

    plan = run_component(program, project="team-gpu", stack="ci", config={"namespace": "ml"},
                         config_namespace="acme")
    assert plan.one(NS, "ns").urn == "urn:pulumi:ci::team-gpu::kubernetes:core/v1:Namespace::ns"
    assert plan.one(NS, "ns").inputs["metadata"] == {"name": "ml"}


def test_a_mapping_config_defaults_to_the_projects_namespace(run_component):
    def program():
        pulumi.export("pools", pulumi.Config().require_object("pools"))

    assert run_component(program, project="team-gpu", config={"pools": {"a": 1}}).outputs == {
        "pools": {"a": 1}
    }
    assert run_component(program, config={"pools": ["x"]}).outputs == {"pools": ["x"]}  # gpu-platform


def test_component_config_names_its_namespace():
    assert harness.component_config({"a": "x", "b": {"c": 1}}, "acme") == StackConfig(
        {"acme:a": "x", "acme:b": '{"c": 1}'}
    )
    assert harness.component_config({"a": 1}) == StackConfig({"gpu-platform:a": "1"})


def test_config_namespace_with_a_stack_config_is_a_mistake(run_component):
    with pytest.raises(TypeError, match="config_namespace applies to a {key: value} config"):
        run_component(lambda: None, config=StackConfig(), config_namespace="acme")


def test_check_plan_reports_every_object_and_helm_values_problem(run_component, conformance):
    def program():
        k8s.core.v1.ConfigMap("cm", metadata={"name": "cm", "labels": {"bad key!": "x"}},
                              data={"a": "b"})
        k8s.apps.v1.Deployment("web", metadata={"name": "web"}, spec={
            "replica": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}},
        })
        k8s.helm.v3.Release("gpu", chart="gpu-operator", version="v25.3.0",
                            values={"driver": {"enabld": False}})

    plan = run_component(program)
    problems = conformance.check_plan(plan)
    assert [p.split(" [Kubernetes")[0] for p in problems] == [
        "Deployment/web: spec.replica: field not declared in the schema (the API server would drop "
        "it) (did you mean 'replicas'?)",
        "ConfigMap/cm: metadata.labels[\"bad key!\"]: invalid key: name part 'bad key!' must be at "
        "most 63 characters, alphanumeric at both ends, '-', '_' or '.' between",
        "helm/gpu-operator: driver.enabld: not a key of the chart's values.yaml (did you mean "
        "'enabled'?)",
    ]
    with pytest.raises(AssertionError, match=r"^3 conformance problem\(s\):\nDeployment/web: "):
        conformance.assert_plan(plan)
    assert conformance.check_plan(run_component(lambda: k8s.core.v1.ConfigMap(
        "ok", metadata={"name": "ok"}, data={"a": "b"}))) == []

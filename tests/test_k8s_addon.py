"""The addon shape: namespace with Pod Security labels, pinned Helm release, merged values."""

import pulumi

from gpu_platform.k8s.addon import helm_release, namespace
from gpu_platform.k8s.values import deep_merge, key_paths
from gpu_platform.plan.model import helm_release_manifest
from gpu_platform.versions import CERT_MANAGER, KUEUE


def test_deep_merge_merges_maps_and_replaces_everything_else():
    base = {"driver": {"enabled": True, "version": "1"}, "tolerations": [{"key": "a"}]}
    override = {"driver": {"enabled": False}, "tolerations": [{"key": "b"}]}
    assert deep_merge(base, override) == {
        "driver": {"enabled": False, "version": "1"},
        "tolerations": [{"key": "b"}],
    }
    assert base["driver"]["enabled"] is True  # inputs are not mutated


def test_key_paths_lists_leaves():
    assert key_paths({"a": {"b": 1, "c": {}}, "d": [1]}) == ["a.b", "a.c", "d"]


def test_namespace_always_carries_an_enforce_label(run_component):
    plan = run_component(lambda: namespace("ns", "gpu-operator", "privileged",
                                           pulumi.ResourceOptions()))
    labels = plan.one("kubernetes:core/v1:Namespace", "ns").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    assert labels["app.kubernetes.io/managed-by"] == "pulumi"


def test_helm_release_is_pinned_for_https_and_oci_repositories(run_component):
    def program():
        helm_release("cm", CERT_MANAGER, release_name="cert-manager", namespace="cert-manager",
                     values={"crds": {"enabled": True}}, opts=pulumi.ResourceOptions())
        helm_release("kueue", KUEUE, release_name="kueue", namespace="kueue-system",
                     values={}, opts=pulumi.ResourceOptions())

    plan = run_component(program)
    cert_manager = helm_release_manifest(plan.one("kubernetes:helm.sh/v3:Release", "cm"))
    assert cert_manager == {
        "release": "cert-manager", "repository": "https://charts.jetstack.io",
        "chart": "cert-manager", "version": "v1.21.1", "namespace": "cert-manager",
        "values": {"crds": {"enabled": True}},
    }
    kueue = helm_release_manifest(plan.one("kubernetes:helm.sh/v3:Release", "kueue"))
    assert (kueue["repository"], kueue["chart"], kueue["version"]) == (
        "oci://registry.k8s.io/kueue/charts", "kueue", "0.19.2"
    )


def test_custom_resource_declares_the_rendered_manifest(run_component):
    from gpu_platform.k8s.objects import custom_resource

    manifest = {
        "apiVersion": "ray.io/v1", "kind": "RayCluster",
        "metadata": {"name": "r", "namespace": "ml"}, "spec": {"rayVersion": "2.52.0"},
    }
    plan = run_component(lambda: custom_resource("r", manifest, pulumi.ResourceOptions()))
    assert plan.one("kubernetes:ray.io/v1:RayCluster", "r").inputs == manifest


def test_custom_resource_refuses_fields_it_would_drop():
    import pytest

    from gpu_platform.k8s.objects import custom_resource

    manifest = {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {}, "status": {}}
    with pytest.raises(ValueError, match=r"RayCluster r: fields \['status'\] cannot be declared"):
        custom_resource("r", manifest, pulumi.ResourceOptions())


def test_operator_install_is_a_labelled_namespace_then_the_pinned_chart_in_it(run_component):
    from gpu_platform.k8s.addon import operator_install

    class Parent(pulumi.ComponentResource):
        def __init__(self):
            super().__init__("test:index:Parent", "op")
            operator_install("op", KUEUE, parent=self, release_name="kueue",
                             namespace_name="kueue-system", pod_security="baseline", values={})

    plan = run_component(Parent)
    ns = plan.one("kubernetes:core/v1:Namespace", "op-ns")
    release = plan.one("kubernetes:helm.sh/v3:Release", "op-chart")
    assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert (release.inputs["namespace"], release.inputs["version"]) == ("kueue-system", "0.19.2")
    assert release.dependencies == [ns.urn]
    assert ns.parent == release.parent == plan.one("test:index:Parent", "op").urn


def test_operator_install_into_an_existing_namespace_creates_none(run_component):
    from gpu_platform.k8s.addon import operator_install

    class Parent(pulumi.ComponentResource):
        def __init__(self):
            super().__init__("test:index:Parent", "op")
            operator_install("op", KUEUE, parent=self, release_name="kueue", namespace_name="shared-ops",
                             pod_security="baseline", values={}, create_namespace=False)

    plan = run_component(Parent)
    assert plan.find("kubernetes:core/v1:Namespace") == []
    release = plan.one("kubernetes:helm.sh/v3:Release", "op-chart")
    assert (release.inputs["namespace"], release.dependencies) == ("shared-ops", [])

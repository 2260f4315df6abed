"""child_options: a component's children wait for what the component was told to wait for."""

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform.core.component import child_options, depends_on_of


def test_depends_on_of_normalises_one_resource_a_list_and_none(run_component):
    def program():
        ns = k8s.core.v1.Namespace("a")
        assert depends_on_of(None) == [] and depends_on_of(pulumi.ResourceOptions()) == []
        assert depends_on_of(pulumi.ResourceOptions(depends_on=ns)) == [ns]
        assert depends_on_of(pulumi.ResourceOptions(depends_on=[ns])) == [ns]

    run_component(program)


def test_children_wait_for_the_components_depends_on(run_component):
    class Box(pulumi.ComponentResource):
        def __init__(self, name, opts=None):
            super().__init__("test:index:Box", name, None, opts)
            first = k8s.core.v1.Namespace(f"{name}-first", opts=child_options(self, opts))
            k8s.core.v1.Namespace(f"{name}-second", opts=child_options(self, opts, depends_on=[first]))
            self.register_outputs({})

    def program():
        before = k8s.core.v1.Namespace("before")
        Box("box", pulumi.ResourceOptions(depends_on=[before]))

    plan = run_component(program)
    before = plan.one("kubernetes:core/v1:Namespace", "before").urn
    first = plan.one("kubernetes:core/v1:Namespace", "box-first")
    second = plan.one("kubernetes:core/v1:Namespace", "box-second")
    assert first.dependencies == [before]
    assert sorted(second.dependencies) == sorted([before, first.urn])
    assert first.parent == plan.one("test:index:Box", "box").urn


def test_a_resource_named_twice_is_waited_for_once(run_component):
    def program():
        before = k8s.core.v1.Namespace("before")
        parent = pulumi.ComponentResource("test:index:Box", "box")
        opts = child_options(parent, pulumi.ResourceOptions(depends_on=[before]), depends_on=[before])
        assert opts.depends_on == [before]

    run_component(program)


def test_pool_tolerations_are_deduplicated_but_keep_taints_that_differ_only_in_effect():
    from gpu_platform.core.pools import PoolPlacement, all_pool_tolerations

    gpu = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
    pools = {
        "a": PoolPlacement.model_validate({"taints": [gpu]}),
        "b": PoolPlacement.model_validate({"taints": [gpu, {**gpu, "effect": "NoExecute"}]}),
        "c": PoolPlacement.model_validate(
            {"taints": [{"key": "team", "value": "llm", "effect": "NoSchedule"}]}),
    }
    assert [(t["key"], t["effect"]) for t in all_pool_tolerations(pools)] == [
        ("nvidia.com/gpu", "NoSchedule"), ("nvidia.com/gpu", "NoExecute"), ("team", "NoSchedule"),
    ]

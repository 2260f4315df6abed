"""component_args: the contract's validation step, and the refusal harness around it."""

from collections.abc import Iterator

import pulumi
import pytest
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigError, ConfigIssue, component_args
from gpu_platform.config.args import InputStr, InputStrList
from gpu_platform.config.errors import issue
from gpu_platform.testing.fixtures import refusal


class RangeArgs(ComponentArgs):
    min_size: int = Field(ge=0)
    max_size: int = Field(ge=0)
    arn: InputStr | None = None

    def issues(self) -> Iterator[ConfigIssue]:
        if self.min_size > self.max_size:
            yield issue("minSize", f"must be <= maxSize ({self.max_size})", self.min_size)


class Ranged(pulumi.ComponentResource):
    def __init__(self, name: str, args: RangeArgs, opts: pulumi.ResourceOptions | None = None):
        args = component_args(RangeArgs, args, component="Ranged", name=name)
        super().__init__("test:index:Ranged", name, None, opts)
        self.register_outputs({})


def test_typed_args_pass_through_unchanged():
    args = RangeArgs(min_size=1, max_size=2)
    assert component_args(RangeArgs, args, component="Ranged", name="r") is args


def test_a_mapping_is_validated_with_camel_case_keys():
    assert component_args(RangeArgs, {"minSize": 1, "maxSize": 3}, component="Ranged", name="r").max_size == 3


def test_cross_field_problems_of_typed_args_are_refused_naming_the_field():
    with pytest.raises(ConfigError) as caught:
        component_args(RangeArgs, RangeArgs(min_size=5, max_size=1), component="Ranged", name="r")
    assert str(caught.value) == (
        "invalid args of Ranged 'r' (1 error):\n  - minSize: must be <= maxSize (1) (got 5)"
    )


def test_field_problems_of_a_mapping_are_refused_naming_the_field():
    with pytest.raises(ConfigError) as caught:
        component_args(RangeArgs, {"minSize": -1, "maxSize": 1, "maxSise": 2}, component="Ranged", name="r")
    assert [str(i) for i in caught.value.issues] == [
        "minSize: must be >= 0 (got -1)",
        "maxSise: unknown key; did you mean 'maxSize'? allowed keys: arn, maxSize, minSize",
    ]


def test_anything_else_is_refused():
    with pytest.raises(ConfigError, match=r"\(root\): must be a RangeArgs or a mapping of its fields"):
        component_args(RangeArgs, 42, component="Ranged", name="r")  # type: ignore[arg-type]


def test_refusal_sees_the_error_before_any_registration():
    error = refusal(lambda: Ranged("r", RangeArgs(min_size=5, max_size=1)))
    assert error.issues[0].path == "minSize"


def test_refusal_fails_when_something_was_registered_first():
    def late():
        pulumi.ComponentResource("test:index:Other", "other")
        Ranged("r", RangeArgs(min_size=5, max_size=1))

    with pytest.raises(AssertionError, match="registered before the error"):
        refusal(late)


def test_wired_values_take_outputs_and_check_plain_values():
    wired = pulumi.Output.from_input("arn:aws:iam::1:oidc-provider/x")
    assert RangeArgs(min_size=0, max_size=1, arn=wired).arn is wired
    with pytest.raises(ConfigError) as caught:
        component_args(RangeArgs, {"minSize": 0, "maxSize": 1, "arn": 7}, component="Ranged", name="r")
    assert caught.value.issues[0].path == "arn"


class ListArgs(ComponentArgs):
    ids: InputStrList = ()


def test_wired_lists_take_outputs_as_items_and_check_the_rest():
    wired = pulumi.Output.from_input("subnet-1")
    assert ListArgs(ids=[wired, "subnet-2"]).ids == [wired, "subnet-2"]
    with pytest.raises(ConfigError):
        component_args(ListArgs, {"ids": [wired, 3]}, component="L", name="l")


def test_a_bad_item_beside_outputs_is_named_by_its_own_index():
    wired = pulumi.Output.from_input("subnet-1")
    with pytest.raises(ConfigError) as caught:
        component_args(ListArgs, {"ids": [wired, 7]}, component="L", name="l")
    assert str(caught.value.issues[0]) == (
        'ids: item 1 must be a string or a pulumi Output (got ["<Output>", 7])'
    )


class SpecModel(ComponentArgs):
    size: int = 1
    label: str = "x"


class SpecArgs(SpecModel):
    name: str


def test_args_from_spec_copies_the_spec_and_adds_what_the_component_needs():
    from gpu_platform.config.args import args_from_spec

    spec = SpecModel(size=3)
    assert args_from_spec(SpecArgs, spec, name="n") == SpecArgs(size=3, label="x", name="n")
    # only_set: a default the config did not give is not copied (the args model's default applies)
    only = args_from_spec(SpecArgs, spec, only_set=True, name="n")
    assert only.model_fields_set == {"size", "name"}

"""The component contract's first step: typed args, validated before anything is registered.

Every ``pulumi.ComponentResource`` in the library is ``X(name, args, opts=None)``. Its first
line is ``args = component_args(XArgs, args, component="X", name=name)``, which

- accepts the typed args model, or a mapping with the same (camelCase or snake_case) keys, as a
  user's own program might read it from config;
- runs every field check (pydantic) and every cross-field check (each model's ``issues()``,
  recursively, see ``collect_issues``);
- raises one ``ConfigError`` with one line per problem, each naming the field's dotted path,
  the value and what is allowed, before ``super().__init__`` registers the component.

``ComponentArgs`` is the base of args models: strict like ``ConfigModel``, and able to carry
``pulumi.Input`` values (Outputs of other resources, e.g. an OIDC provider ARN).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, TypeVar

from pulumi import Output
from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic.functional_validators import PlainValidator
from pydantic_core import PydanticCustomError

from gpu_platform.config.base import ConfigModel
from gpu_platform.config.errors import ConfigError, collect_issues, issue, validate_model

A = TypeVar("A", bound=BaseModel)


def _output_or(plain: Any) -> PlainValidator:
    adapter: TypeAdapter[Any] = TypeAdapter(plain)

    def check(value: Any) -> Any:
        if isinstance(value, Output):
            return value
        if isinstance(value, (list, tuple)) and any(isinstance(item, Output) for item in value):
            # check the plain items where they stand, so an error names the right index
            for index, item in enumerate(value):
                if not isinstance(item, (str, Output)):
                    raise PydanticCustomError(
                        "wired_item", "item {index} must be a string or a pulumi Output", {"index": index}
                    )
            return list(value)
        return adapter.validate_python(value, strict=True)

    return PlainValidator(check)


# Values wired in from other resources: a plain value, or a pulumi Output of one (pydantic
# cannot build a schema for ``pulumi.Input``; these check the plain case and pass Outputs).
InputStr = Annotated[str | Output[str], _output_or(str)]
InputStrList = Annotated[Sequence[str] | Output[Sequence[str]] | Sequence[str | Output[str]],
                         _output_or(list[str])]


class ComponentArgs(ConfigModel):
    """Base of component args: camelCase aliases, unknown keys forbidden, frozen; arbitrary
    types (``pulumi.Output``, resources) allowed for values wired in from other resources."""

    model_config = ConfigDict(arbitrary_types_allowed=True)


def component_args(model_cls: type[A], args: A | Mapping[str, Any], *, component: str, name: str) -> A:
    """``args`` as a validated ``model_cls``; raises ``ConfigError`` naming each bad field."""
    source = f"args of {component} '{name}'"
    if isinstance(args, model_cls):
        problems = list(collect_issues(args))
        if problems:
            raise ConfigError(problems, source=source)
        return args
    if isinstance(args, Mapping):
        return validate_model(model_cls, args, source=source)
    raise ConfigError(
        [issue("", f"must be a {model_cls.__name__} or a mapping of its fields", type(args).__name__)],
        source=source,
    )


def args_from_spec(
    model_cls: type[A], spec: BaseModel, *, only_set: bool = False, **extra: Any
) -> A:
    """Args for a component built from a config spec: the spec's fields (only those the config
    set, with ``only_set``: a spec whose defaults must not count as given) plus ``extra``
    (what the component needs from outside: its object name, pools, the workload context ...)."""
    names = spec.model_fields_set if only_set else type(spec).model_fields
    return model_cls.model_validate({**{name: getattr(spec, name) for name in names}, **extra})


__all__ = ["ComponentArgs", "InputStr", "InputStrList", "args_from_spec", "component_args"]

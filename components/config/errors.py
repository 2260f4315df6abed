"""Collecting configuration errors and reporting them all at once.

Every error names its dotted path (as written in the stack's config), the bad value and what is
allowed. Structural errors (types, unknown keys, ranges) come from pydantic; semantic errors
(min > max, references to unknown pools) come from each model's ``issues()`` method, which
reports paths relative to the model. Both are raised together as one ``ConfigError`` before
any resource is registered.

``ConfigError`` subclasses ``pulumi.RunError`` so that ``pulumi up`` prints the message
without a Python traceback.
"""

from __future__ import annotations

import difflib
import json
import types
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi
from pydantic import BaseModel, ValidationError

_MISSING = object()
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a configuration: where, what was given, and what is allowed."""

    path: str
    message: str
    value: Any = _MISSING

    def prefixed(self, prefix: str) -> ConfigIssue:
        if not prefix:
            return self
        path = f"{prefix}.{self.path}" if self.path else prefix
        return ConfigIssue(path, self.message, self.value)

    def __str__(self) -> str:
        where = self.path or "(root)"
        if self.value is _MISSING:
            return f"{where}: {self.message}"
        return f"{where}: {self.message} (got {render_value(self.value)})"


class ConfigError(pulumi.RunError):
    """A configuration with one or more errors; ``str()`` lists one line per error."""

    def __init__(self, issues: Sequence[ConfigIssue], *, source: str = "configuration"):
        self.issues = list(issues)
        self.source = source
        count = len(self.issues)
        header = f"invalid {source} ({count} error{'s' if count != 1 else ''}):"
        lines = [header, *(f"  - {issue}" for issue in self.issues)]
        super().__init__("\n".join(lines))


def render_value(value: Any) -> str:
    """A short, YAML-like rendering of a bad value for an error message."""
    try:
        text = json.dumps(value, sort_keys=True, default=_plain)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _plain(value: Any) -> str:
    # an Output's value is unknown while validating (and str() of one only warns)
    return "<Output>" if isinstance(value, pulumi.Output) else str(value)


def issue(path: str, message: str, value: Any = _MISSING) -> ConfigIssue:
    """Shorthand used by models' ``issues()`` methods."""
    return ConfigIssue(path, message, value)


def validate_model(
    model_cls: type[M], data: Any, *, prefix: str = "", source: str = "configuration"
) -> M:
    """Validate ``data`` into ``model_cls``, raising one ``ConfigError`` with every problem."""
    try:
        model = model_cls.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            [_from_pydantic(model_cls, err).prefixed(prefix) for err in exc.errors()],
            source=source,
        ) from None
    semantic = [i.prefixed(prefix) for i in collect_issues(model)]
    if semantic:
        raise ConfigError(semantic, source=source)
    return model


def collect_issues(model: BaseModel, path: str = "") -> Iterator[ConfigIssue]:
    """Walk a validated model tree and yield every ``issues()`` finding with its full path."""
    for name, field in type(model).model_fields.items():
        key = field.alias or name
        child_path = f"{path}.{key}" if path else key
        yield from _walk(getattr(model, name), child_path)
    own = getattr(model, "issues", None)
    if callable(own):
        for found in own():
            yield found.prefixed(path)


def _walk(value: Any, path: str) -> Iterator[ConfigIssue]:
    if isinstance(value, BaseModel):
        yield from collect_issues(value, path)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}.{index}")


# --- pydantic errors, rewritten to say what is allowed ---------------------------------------

_BOUNDS = {
    "greater_than_equal": ("ge", "must be >= {}"),
    "greater_than": ("gt", "must be > {}"),
    "less_than_equal": ("le", "must be <= {}"),
    "less_than": ("lt", "must be < {}"),
}
# Plain-words descriptions of regular expressions used in models, registered where defined.
PATTERN_HINTS: dict[str, str] = {}

_TYPES = {
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string",
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "list_type": "must be a list",
    "missing": "is required",
}


def _from_pydantic(model_cls: type[BaseModel], err: Mapping[str, Any]) -> ConfigIssue:
    loc = [part for part in err["loc"] if not _is_type_tag(part)]
    path = ".".join(str(part) for part in loc)
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input", _MISSING)
    if kind == "missing":
        return ConfigIssue(path, "is required")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model_cls, loc[:-1])
        message = "unknown key"
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        if close:
            message += f"; did you mean '{close[0]}'?"
        if allowed:
            message += f"{'' if close else ';'} allowed keys: {', '.join(allowed)}"
        return ConfigIssue(path, message)
    if kind in _BOUNDS:
        key, template = _BOUNDS[kind]
        return ConfigIssue(path, template.format(ctx.get(key)), value)
    if kind in ("literal_error", "enum"):
        return ConfigIssue(path, f"must be one of {ctx.get('expected')}", value)
    if kind == "string_too_short":
        minimum = ctx.get("min_length", 1)
        text = "must not be empty" if minimum == 1 else f"must be at least {minimum} characters"
        return ConfigIssue(path, text, value)
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern")
        hint = PATTERN_HINTS.get(str(pattern), f"must match the pattern {pattern}")
        return ConfigIssue(path, hint, value)
    if kind in _TYPES:
        return ConfigIssue(path, _TYPES[kind], value)
    if kind in ("value_error", "assertion_error"):
        message = str(ctx.get("error", err["msg"]))
        return ConfigIssue(path, message, value)
    return ConfigIssue(path, err["msg"][:1].lower() + err["msg"][1:], value)


def _is_type_tag(part: Any) -> bool:
    # pydantic adds union member names ('function-after[...]', 'int', 'str') to error locations
    return isinstance(part, str) and ("[" in part or part in {"int", "str", "float", "bool"})


def _allowed_keys(model_cls: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    model = _model_at(model_cls, loc)
    if model is None:
        return []
    return sorted(field.alias or name for name, field in model.model_fields.items())


def _model_at(model_cls: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    """Follow an error location through fields, maps and lists to the model that owns it."""
    current: Any = model_cls
    for part in loc:
        for candidate in _models_in(current):
            field = _field_by_key(candidate, part)
            if field is not None:
                current = field
                break
        else:
            # a map key or list index: step into the container's item type
            current = _container_item(current)
            if current is None:
                return None
    models = list(_models_in(current))
    return models[0] if models else None


def _field_by_key(model: type[BaseModel], key: Any) -> Any:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field.annotation
    return None


def _models_in(annotation: Any) -> Iterable[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        yield from _models_in(typing.get_args(annotation)[0])
    elif origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _models_in(arg)


def _container_item(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _container_item(args[0])
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            item = _container_item(arg)
            if item is not None:
                return item
        return None
    if origin in (dict, Mapping, typing.Mapping) and len(args) == 2:
        return args[1]
    if origin in (list, tuple, Sequence) and args:
        return args[0]
    return None

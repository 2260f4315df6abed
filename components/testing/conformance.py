"""Conformance checks: what the library renders against the upstream schemas it targets.

The upstream data (CRD schemas, Helm chart values) lives outside the repository, in
``<repo>/../shared/upstream`` (or wherever ``GPU_PLATFORM_UPSTREAM`` points), and is read from
there at test time; it is never copied into the project. See :func:`upstream_root`.

Why strict: the Kubernetes API server silently drops (prunes) fields a schema does not declare,
and Helm silently ignores values keys a chart never reads. A typo such as ``spec.replica`` or
``driver.enabld`` therefore deploys "successfully" and does nothing. Every check here turns such a
silent no-op into a test failure.

Rules, in brief:

* Built-in API groups (core ``v1``, ``apps``, ``batch``, ``rbac.authorization.k8s.io``, ...)
  are validated with the JSON schemas shipped by ``kubernetes-validate`` in its *strict* flavour
  (``additionalProperties: false`` everywhere), once per Kubernetes minor in
  ``KUBERNETES_MINORS``. A minor the installed kubernetes-validate does not ship, or a kind/version
  it has no schema for in a minor (``SchemaNotFoundError``: the API is not served there), is a
  failure, never a warning. Validators are built from kubernetes-validate's own schema files and
  version lookup, but cached, and every error is reported (``kubernetes_validate.validate``
  re-reads the 1.3 MB definitions file on each call and stops at the first error).
* Custom resources are validated against ``crds/<group>/<Kind>_<version>.json`` (one CRD
  version's ``openAPIV3Schema``); a missing file is a failure. The schema is transformed (on a
  copy) to mimic the API server:

  - an object node that declares ``properties`` or ``type: object`` but no
    ``additionalProperties`` rejects undeclared keys (pruning made loud), except on nodes with
    ``x-kubernetes-preserve-unknown-fields: true``. As in the API server, that flag covers the
    node itself and anything below an undeclared key; declared nested objects without the flag
    are still pruned, so they are still strict;
  - ``x-kubernetes-int-or-string`` accepts an integer or a string; ``nullable: true`` accepts null;
  - ``required`` fields whose schema has a ``default`` are not required (the API server defaults
    them before validating);
  - ``x-kubernetes-list-type: set`` items must be unique, ``map`` items unique by their
    ``x-kubernetes-list-map-keys``;
  - ``metadata`` (CRDs declare it as a bare ``type: object``) is checked against ObjectMeta's
    field names and types here: labels and annotations are maps of string to string.

  CEL rules (``x-kubernetes-validations``) and ``format`` are not evaluated.
* Every object: ``metadata.name`` (or ``generateName``) is required; label keys and values and
  annotation keys must be syntactically valid (the API server rejects them otherwise).
* Helm values: every key path must exist in the chart's ``values.yaml``; see
  :meth:`Conformance.validate_helm_values` for the free-form exceptions. When the chart ships a
  ``values.schema.json``, the user values merged over the defaults are also validated against it,
  as Helm does at install time.

Every method returns a list of problem strings, empty when conformant, each starting with a
locator such as ``RayCluster/ml/demo: spec.workerGroupSpecs[0].foo: ...`` or
``helm/gpu-operator: driver.enabld: ...``.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import kubernetes_validate.utils as kv_utils
import yaml
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from gpu_platform.plan.model import BUILTIN_API_GROUPS, Plan, helm_release_manifest
from gpu_platform.versions import KUBERNETES_MINORS

__all__ = [
    "BUILTIN_API_GROUPS",
    "UPSTREAM_ENV",
    "Conformance",
    "assert_conformant",
    "upstream_root",
]

#: Environment variable naming the upstream folder explicitly (overrides discovery).
UPSTREAM_ENV = "GPU_PLATFORM_UPSTREAM"

_MAX_MESSAGE = 300

#: Upstream folders named apart from the published chart (whereabouts publishes "whereabouts-chart").
UPSTREAM_CHART_DIRS: dict[str, str] = {"whereabouts-chart": "whereabouts"}

# ObjectMeta as a client may send it. CRD schemas declare metadata as a bare ``type: object``
# (the API server validates it as ObjectMeta itself), so it is checked against this instead.
_STRING_MAP: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"}}
_OBJECT_META_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "generateName": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
        "finalizers": {"type": "array", "items": {"type": "string"}},
        "ownerReferences": {"type": "array", "items": {"type": "object"}},
        "uid": {"type": "string"},
        "resourceVersion": {"type": "string"},
        "generation": {"type": "integer"},
        "creationTimestamp": {"type": ["string", "null"]},
        "deletionTimestamp": {"type": ["string", "null"]},
        "deletionGracePeriodSeconds": {"type": "integer"},
        "managedFields": {"type": "array", "items": {"type": "object"}},
        "selfLink": {"type": "string"},
    },
}

# Label/annotation syntax (k8s.io/apimachinery/pkg/util/validation).
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SIMPLE_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")


# --------------------------------------------------------------------------- upstream folder


def upstream_root() -> Path | None:
    """The upstream schemas folder, or None when it cannot be found.

    ``$GPU_PLATFORM_UPSTREAM`` wins when set (trusted as given: a wrong path then fails loudly in
    :class:`Conformance` instead of silently skipping). Otherwise, walking up from the current
    working directory and then from this file, the first ``<dir>/shared/upstream`` folder is
    used; for a checkout at ``<dir>/main`` (any folder name) that is ``<repo>/../shared/upstream``.
    """
    env = os.environ.get(UPSTREAM_ENV)
    if env:
        return Path(env).expanduser()
    starts: list[Path] = []
    try:
        starts.append(Path.cwd())
    except OSError:  # the working directory was removed
        pass
    starts.append(Path(__file__).resolve().parent)
    return _find_upstream(starts)


def _find_upstream(starts: Iterable[Path]) -> Path | None:
    for start in starts:
        for folder in (start, *start.parents):
            candidate = folder / "shared" / "upstream"
            if candidate.is_dir():
                return candidate
    return None


# --------------------------------------------------------------------------- small helpers


def assert_conformant(problems: Sequence[str]) -> None:
    """Raise AssertionError listing every problem, one per line, when there are any."""
    if problems:
        raise AssertionError(
            f"{len(problems)} conformance problem(s):\n" + "\n".join(str(p) for p in problems)
        )


def _format_path(parts: Iterable[Any]) -> str:
    """``spec.workerGroupSpecs[0].foo``; keys that are not plain identifiers are bracketed."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _SIMPLE_KEY.match(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{json.dumps(str(part))}]"
    return out or "<root>"


def _short(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 3] + "..."


def _did_you_mean(word: str, candidates: Iterable[Any]) -> str:
    names = sorted({str(c) for c in candidates})
    matches = difflib.get_close_matches(str(word), names, n=3, cutoff=0.6)
    if not matches:
        return ""
    return " (did you mean " + ", ".join(repr(m) for m in matches) + "?)"


def _locator(obj: Mapping[str, Any]) -> str:
    kind = obj.get("kind") or "<no kind>"
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    name = meta.get("name")
    if not name:
        generate = meta.get("generateName")
        name = f"{generate}*" if generate else "<unnamed>"
    namespace = meta.get("namespace")
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


_API_SERVER_DROPS = "the API server would drop"


def _schema_errors(
    validator: Any, instance: Any, consequence: str = _API_SERVER_DROPS
) -> list[tuple[str, str]]:
    """(path, message) for every error, undeclared fields reported one per field."""
    found: set[tuple[str, str]] = set()
    for error in validator.iter_errors(instance):
        found.update(_explain(error, consequence))
    return sorted(found)


def _explain(error: ValidationError, consequence: str) -> Iterator[tuple[str, str]]:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if (
        error.validator == "additionalProperties"
        and error.validator_value is False
        and isinstance(error.instance, Mapping)
    ):
        declared = schema.get("properties") or {}
        patterns = schema.get("patternProperties") or {}
        for key in error.instance:
            if key in declared or any(re.search(p, str(key)) for p in patterns):
                continue
            where = _format_path([*error.absolute_path, key])
            if declared:
                why = f"field not declared in the schema ({consequence} it)"
            else:
                why = f"field not allowed: the schema declares no fields here ({consequence} it)"
            yield where, why + _did_you_mean(key, declared)
        return
    yield _format_path(error.absolute_path), _short(error.message)


def _metadata_syntax(meta: Any) -> list[tuple[str, str]]:
    """Name presence and label/annotation syntax, as the API server checks them."""
    if not isinstance(meta, Mapping):
        return [("metadata", "required, and must be a map")]
    out: list[tuple[str, str]] = []
    if not meta.get("name") and not meta.get("generateName"):
        out.append(("metadata.name", "required (or metadata.generateName)"))
    for field in ("labels", "annotations"):
        entries = meta.get(field)
        if not isinstance(entries, Mapping):
            continue
        for key, value in entries.items():
            where = _format_path(["metadata", field, key])
            key_problem = _qualified_name_problem(str(key))
            if key_problem:
                out.append((where, f"invalid key: {key_problem}"))
            if field == "labels" and isinstance(value, str) and value:
                if len(value) > 63 or not _QUALIFIED_NAME.match(value):
                    out.append(
                        (
                            where,
                            f"invalid label value {value!r}: at most 63 characters, alphanumeric "
                            "at both ends, '-', '_' or '.' between",
                        )
                    )
    return out


def _qualified_name_problem(key: str) -> str | None:
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return f"prefix {prefix!r} must be a DNS subdomain (lowercase, at most 253 characters)"
    if not name or len(name) > 63 or not _QUALIFIED_NAME.match(name):
        return (
            f"name part {name!r} must be at most 63 characters, alphanumeric at both ends, "
            "'-', '_' or '.' between"
        )
    return None


# --------------------------------------------------------------------------- file caches


@functools.cache
def _load_json(path: str) -> Any:
    """Parsed JSON file, shared by every caller: never mutate the result."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


@functools.cache
def _load_yaml(path: str) -> Any:
    """Parsed YAML file, shared by every caller: never mutate the result."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


# --------------------------------------------------------------------------- built-in kinds


@functools.cache
def _kv_versions() -> dict[str, str]:
    """Kubernetes minor -> schema version shipped by the installed kubernetes-validate."""
    return {kv_utils.major_minor(v): v for v in kv_utils.all_versions()}


@functools.cache
def _kv_registry(version: str) -> Registry:
    definitions = kv_utils.schema_contents(
        f"kubernetes-json-schema/v{version}-local-strict/_definitions.json", version
    )
    return Resource.from_contents(definitions) @ Registry()


@functools.cache
def _kv_validator(version: str, kind: str, api_version: str) -> Any | None:
    """kubernetes-validate's strict validator for one kind (None: SchemaNotFoundError)."""
    # Same file naming as kubernetes_validate.validate: rbac.authorization.k8s.io/v1 -> rbac-v1.
    munged = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    filename = f"kubernetes-json-schema/v{version}-local-strict/{kind.lower()}-{munged}.json"
    try:
        schema = kv_utils.schema_contents(filename, version)
    except FileNotFoundError:
        return None
    registry = Resource.from_contents(schema) @ _kv_registry(version)
    return jsonschema.Draft202012Validator(schema, registry=registry)


# --------------------------------------------------------------------------- custom resources


def _list_map_keys(validator: Any, keys: Any, instance: Any, schema: Mapping[str, Any]) -> Any:
    """``x-kubernetes-list-type: map``: items must be unique by their list-map keys."""
    if schema.get("x-kubernetes-list-type") != "map" or not isinstance(instance, list):
        return
    seen: dict[str, int] = {}
    for index, item in enumerate(instance):
        if not isinstance(item, Mapping):
            continue
        identity = json.dumps([item.get(k) for k in keys], sort_keys=True, default=str)
        if identity in seen:
            shown = ", ".join(f"{k}={item.get(k)!r}" for k in keys)
            yield ValidationError(
                f"duplicate entry ({shown}) also at index {seen[identity]}: the list is a map "
                f"keyed by {', '.join(keys)}",
                path=(index,),
            )
        else:
            seen[identity] = index


_CRDValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"x-kubernetes-list-map-keys": _list_map_keys}
)


def _is_object_schema(node: Mapping[str, Any]) -> bool:
    kind = node.get("type")
    return kind == "object" or (isinstance(kind, list) and "object" in kind)


def _is_type_only(branch: Any) -> bool:
    return isinstance(branch, Mapping) and set(branch) == {"type"}


def _strict_crd_schema(node: Any) -> Any:
    """A transformed copy of a structural CRD schema node (the input is never mutated).

    Only the structural skeleton (properties, items, additionalProperties) is descended: allOf,
    anyOf, oneOf and not only validate values and never declare fields, as in the API server.
    """
    if not isinstance(node, Mapping):
        return node
    skeleton = ("properties", "items", "additionalProperties", "required", "type")
    out: dict[str, Any] = {k: v for k, v in node.items() if k not in skeleton}
    properties = node.get("properties")
    if isinstance(properties, Mapping):
        out["properties"] = {k: _strict_crd_schema(v) for k, v in properties.items()}
    if node.get("x-kubernetes-embedded-resource"):
        declared = out.setdefault("properties", {})
        declared.setdefault("apiVersion", {"type": "string"})
        declared.setdefault("kind", {"type": "string"})
        declared.setdefault("metadata", _OBJECT_META_SCHEMA)
    if "items" in node:
        out["items"] = _strict_crd_schema(node["items"])
    extra = node.get("additionalProperties")
    if extra is not None:
        out["additionalProperties"] = _strict_crd_schema(extra)
    elif not node.get("x-kubernetes-preserve-unknown-fields") and (
        "properties" in out or _is_object_schema(node)
    ):
        out["additionalProperties"] = False
    required = node.get("required")
    if isinstance(required, list):
        defaulted = {
            k for k, v in (properties or {}).items() if isinstance(v, Mapping) and "default" in v
        }
        kept = [r for r in required if r not in defaulted]
        if kept:
            out["required"] = kept
    nullable = node.get("nullable") is True
    types: list[str] | None = None
    if node.get("x-kubernetes-int-or-string"):
        types = ["integer", "string"]
        branches = out.get("anyOf")
        if isinstance(branches, list) and all(_is_type_only(b) for b in branches):
            del out["anyOf"]  # the usual {integer} | {string} pair: the type list says it once
    elif "type" in node:
        raw = node["type"]
        types = list(raw) if isinstance(raw, list) else [raw]
    if types is not None:
        if nullable and "null" not in types:
            types.append("null")
        out["type"] = types[0] if len(types) == 1 else types
    if nullable:
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if isinstance(out.get("anyOf"), list):
            out["anyOf"] = [*out["anyOf"], {"type": "null"}]
    if node.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    return out


@functools.cache
def _crd_validator(path: str) -> Any:
    schema = _strict_crd_schema(_load_json(path))
    schema.setdefault("properties", {})["metadata"] = _OBJECT_META_SCHEMA
    return _CRDValidator(schema)


# --------------------------------------------------------------------------- Helm values

_MISSING: Any = object()


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a map"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {_short(repr(value))[:60]}"


def _helm_merge(base: Any, override: Any) -> Any:
    """Helm's coalescing: maps merge recursively; a null override deletes the default."""
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        merged = dict(base)
        for key, value in override.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = _helm_merge(base.get(key), value)
        return merged
    return override


class _ValuesWalker:
    """Walks user values beside the chart's values.yaml (and values.schema.json, if any)."""

    def __init__(self, schema: Mapping[str, Any] | None, free_form: Sequence[str]) -> None:
        self._schema = schema
        self._free_form = tuple(p.strip(".") for p in free_form if p.strip("."))

    def is_free(self, path: str) -> bool:
        return any(
            path == p or path.startswith(p + ".") or path.startswith(p + "[")
            for p in self._free_form
        )

    def resolve(self, node: Any) -> Mapping[str, Any] | None:
        """Follow local ``$ref`` pointers (``#/$defs/...``)."""
        for _ in range(32):
            if not isinstance(node, Mapping):
                return None
            ref = node.get("$ref")
            if not isinstance(ref, str) or not ref.startswith("#") or self._schema is None:
                return node
            target: Any = self._schema
            for token in ref[1:].split("/"):
                if not token:
                    continue
                token = token.replace("~1", "/").replace("~0", "~")
                target = target.get(token) if isinstance(target, Mapping) else None
            node = target
        return None

    def child(self, schema: Mapping[str, Any] | None, key: str) -> Mapping[str, Any] | None:
        if schema is None:
            return None
        properties = schema.get("properties")
        if isinstance(properties, Mapping) and key in properties:
            return self.resolve(properties[key])
        extra = schema.get("additionalProperties")
        return self.resolve(extra) if isinstance(extra, Mapping) else None

    def declares(self, schema: Mapping[str, Any] | None, key: str) -> bool:
        properties = schema.get("properties") if schema is not None else None
        return isinstance(properties, Mapping) and key in properties

    @staticmethod
    def allows_extra(schema: Mapping[str, Any] | None, key: str) -> bool:
        """The schema accepts undeclared ``key`` (explicitly, or by declaring nothing at all)."""
        if schema is None:
            return False
        extra = schema.get("additionalProperties")
        if extra is True or isinstance(extra, Mapping):
            return True
        patterns = schema.get("patternProperties")
        if isinstance(patterns, Mapping) and any(re.search(p, key) for p in patterns):
            return True
        if extra is not None or "properties" in schema:
            return False
        return "type" not in schema or _is_object_schema(schema)

    @staticmethod
    def allows_object(schema: Mapping[str, Any] | None) -> bool:
        return schema is not None and _is_object_schema(schema)

    def walk(
        self, ours: Any, upstream: Any, schema: Mapping[str, Any] | None, path: str
    ) -> Iterator[str]:
        if path and self.is_free(path):
            return
        if isinstance(ours, Mapping):
            yield from self._walk_map(ours, upstream, schema, path)
        elif isinstance(ours, list):
            yield from self._walk_list(ours, upstream, schema, path)
        elif ours is not None and isinstance(upstream, Mapping) and upstream:
            yield f"{path}: is {_describe(ours)}, but upstream's default is a map"

    def _walk_map(
        self,
        ours: Mapping[str, Any],
        upstream: Any,
        schema: Mapping[str, Any] | None,
        path: str,
    ) -> Iterator[str]:
        if upstream is None or (isinstance(upstream, Mapping) and not upstream):
            return  # upstream shows an empty map or null: a free-form map
        if upstream is not _MISSING and not isinstance(upstream, Mapping):
            if not self.allows_object(schema):
                shown = _describe(upstream)
                yield f"{path or '<root>'}: is a map, but upstream's default is {shown}"
                return
            upstream = _MISSING  # the schema allows a map where values.yaml shows a scalar
        if upstream is _MISSING and schema is None:
            return
        known = upstream if isinstance(upstream, Mapping) else {}
        for key, value in ours.items():
            key_path = f"{path}.{key}" if path else str(key)
            if self.is_free(key_path):
                continue
            if key in known:
                yield from self.walk(value, known[key], self.child(schema, key), key_path)
            elif self.declares(schema, key):
                yield from self.walk(value, _MISSING, self.child(schema, key), key_path)
            elif self.allows_extra(schema, str(key)):
                continue
            else:
                declared = (schema or {}).get("properties") or {}
                where = "values.yaml or values.schema.json" if schema else "values.yaml"
                yield (
                    f"{key_path}: not a key of the chart's {where}"
                    + _did_you_mean(key, [*known, *declared])
                )

    def _walk_list(
        self, ours: list[Any], upstream: Any, schema: Mapping[str, Any] | None, path: str
    ) -> Iterator[str]:
        items = self.resolve(schema.get("items")) if schema is not None else None
        if isinstance(upstream, list):
            if upstream and isinstance(upstream[0], Mapping):
                for index, item in enumerate(ours):
                    if isinstance(item, Mapping):
                        yield from self.walk(item, upstream[0], items, f"{path}[{index}]")
        elif upstream is _MISSING:
            if items is not None and isinstance(items.get("properties"), Mapping):
                for index, item in enumerate(ours):
                    if isinstance(item, Mapping):
                        yield from self.walk(item, _MISSING, items, f"{path}[{index}]")
        elif isinstance(upstream, Mapping) and upstream:
            yield f"{path or '<root>'}: is a list, but upstream's default is a map"


# --------------------------------------------------------------------------- the checker


# Values paths whose keys upstream values.yaml cannot show, per chart, each with the reason. Kept
# here (not in callers) so every check of a chart, component or whole environment, agrees.
KNOWN_FREE_FORM: dict[str, tuple[tuple[str, str], ...]] = {
    "gpu-operator": (
        ("daemonsets.tolerations", "Kubernetes tolerations; upstream's example item has no `value`"),
    ),
    "network-operator": (
        ("operator.tolerations", "Kubernetes tolerations; upstream's example item has no `value`"),
    ),
    "cluster-autoscaler": (
        ("extraArgs", "command-line flags; upstream lists them only in comments"),
    ),
    "kube-prometheus-stack": (
        ("kube-state-metrics.metricLabelsAllowlist",
         "a value of the kube-state-metrics subchart (8.4.0 values.yaml has `metricLabelsAllowlist: "
         "[]`), whose values.yaml the upstream folder does not hold"),
    ),
}


class Conformance:
    """Validates rendered objects and Helm values against the upstream folder ``root``."""

    def __init__(self, root: Path, kubernetes_minors: Iterable[str] = KUBERNETES_MINORS) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"upstream folder {self.root} does not exist")
        self.kubernetes_minors: tuple[str, ...] = tuple(
            m[1:] if m.startswith("v") else m for m in kubernetes_minors
        )
        if not self.kubernetes_minors:
            raise ValueError("kubernetes_minors is empty: nothing to validate built-in kinds with")

    # ------------------------------------------------------------------ objects

    @staticmethod
    def assert_conformant(problems: Sequence[str]) -> None:
        """Raise AssertionError listing every problem (one per line) when there is any."""
        assert_conformant(problems)

    def check_plan(self, plan: Plan) -> list[str]:
        """Every problem in a whole plan: each Kubernetes object it declares against its schema,
        then each Helm release's values against its chart (empty when all conform)."""
        problems = self.validate_all(plan.kubernetes_objects())
        for release in plan.helm_releases():
            chart = helm_release_manifest(release)
            problems += self.validate_helm_values(chart["chart"], chart["values"])
        return problems

    def assert_plan(self, plan: Plan) -> None:
        """Raise AssertionError listing every problem ``check_plan`` finds, one per line."""
        assert_conformant(self.check_plan(plan))

    def validate_all(self, objects: Iterable[Mapping[str, Any]]) -> list[str]:
        """validate_object over every object, problems concatenated in order."""
        problems: list[str] = []
        for obj in objects:
            problems.extend(self.validate_object(obj))
        return problems

    def validate_object(self, obj: Mapping[str, Any]) -> list[str]:
        """Problems with one rendered Kubernetes object (empty when it conforms)."""
        if not isinstance(obj, Mapping):
            return [f"<object>: not a map but {type(obj).__name__}"]
        where = _locator(obj)
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if not (isinstance(api_version, str) and api_version and isinstance(kind, str) and kind):
            return [f"{where}: apiVersion and kind must be non-empty strings"]
        group, _, version = api_version.rpartition("/")
        problems = [f"{where}: {p}: {m}" for p, m in _metadata_syntax(obj.get("metadata"))]
        if group in BUILTIN_API_GROUPS:
            problems += self._validate_builtin(obj, where, api_version, kind)
        else:
            problems += self._validate_custom(obj, where, group, version, kind)
        return problems

    def _validate_builtin(
        self, obj: Mapping[str, Any], where: str, api_version: str, kind: str
    ) -> list[str]:
        shipped = _kv_versions()
        by_problem: dict[tuple[str, str], list[str]] = {}
        problems: list[str] = []
        for minor in self.kubernetes_minors:
            version = shipped.get(kv_utils.major_minor(minor))
            if version is None:
                problems.append(
                    f"{where}: kubernetes-validate {kubernetes_validate.__version__} ships no "
                    f"schemas for Kubernetes {minor} (it ships {', '.join(sorted(shipped))})"
                )
                continue
            validator = _kv_validator(version, kind, api_version)
            if validator is None:
                key = (
                    "",
                    f"no schema for {api_version} {kind} in kubernetes-validate "
                    f"{kubernetes_validate.__version__} (SchemaNotFoundError: not served)",
                )
                by_problem.setdefault(key, []).append(minor)
                continue
            for key in _schema_errors(validator, obj):
                by_problem.setdefault(key, []).append(minor)
        for (path, message), minors in by_problem.items():
            located = f"{path}: {message}" if path else message
            problems.append(f"{where}: {located} [Kubernetes {', '.join(minors)}]")
        return problems

    def _validate_custom(
        self, obj: Mapping[str, Any], where: str, group: str, version: str, kind: str
    ) -> list[str]:
        path = self.root / "crds" / group / f"{kind}_{version}.json"
        if not path.is_file():
            others = sorted(p.stem.split("_", 1)[1] for p in path.parent.glob(f"{kind}_*.json"))
            hint = f" (upstream has {kind} {', '.join(others)})" if others else ""
            return [f"{where}: no upstream CRD schema for {group}/{version} {kind}{hint}"]
        validator = _crd_validator(str(path))
        return [f"{where}: {p}: {m}" for p, m in _schema_errors(validator, obj)]

    # ------------------------------------------------------------------ Helm values

    def validate_helm_values(
        self, chart: str, values: Mapping[str, Any], *, free_form: Iterable[str] = ()
    ) -> list[str]:
        """Problems with Helm ``values`` for ``chart`` (empty when every key is known upstream).

        Every key path must exist in ``charts/<chart>/values.yaml``, except:

        * below a path whose upstream value is ``{}`` or null (a free-form map);
        * list items are compared with the upstream list's first item when it is a map, and
          accepted otherwise;
        * with a ``values.schema.json``: keys the schema declares (values.yaml may only show them
          in comments), and keys below a schema node that allows additional or pattern
          properties, or declares no properties at all (a free-form object in JSON Schema);
        * below any dotted prefix in ``free_form`` (callers say why, e.g. "keys upstream only
          documents in comments"); ``a.b`` covers ``a.b``, ``a.b.c`` and ``a.b[0]``.

        A map where upstream has a scalar or list (and the reverse) is a problem. With a schema,
        the values merged over the chart defaults must also validate against it, as in Helm.
        """
        free_form = [*free_form, *(path for path, _why in KNOWN_FREE_FORM.get(chart, ()))]
        where = f"helm/{chart}"
        chart_dir = self.root / "charts" / UPSTREAM_CHART_DIRS.get(chart, chart)
        values_file = chart_dir / "values.yaml"
        if not values_file.is_file():
            return [f"{where}: no upstream values.yaml for chart {chart!r} (looked in {chart_dir})"]
        if not isinstance(values, Mapping):
            return [f"{where}: values must be a map, not {type(values).__name__}"]
        upstream = _load_yaml(str(values_file))
        upstream = upstream if isinstance(upstream, Mapping) else {}
        schema_file = chart_dir / "values.schema.json"
        schema = _load_json(str(schema_file)) if schema_file.is_file() else None
        walker = _ValuesWalker(schema, tuple(free_form))
        root_schema = walker.resolve(schema) if schema is not None else None
        found = list(walker.walk(values, upstream, root_schema, ""))
        problems = [f"{where}: {p}" for p in found]
        if schema is not None:
            reported = {p.split(": ", 1)[0] for p in found}
            validator = jsonschema.validators.validator_for(schema)(schema)
            merged = _helm_merge(upstream, values)
            for path, message in _schema_errors(validator, merged, "Helm would refuse"):
                if path not in reported:
                    problems.append(f"{where}: {path}: {message} (values.schema.json)")
        return problems

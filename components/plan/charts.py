"""Render a plan's Helm releases with a real Helm engine, from chart sources on disk.

``render_releases(plan, charts_dir)`` renders every Helm release of the plan from
``charts_dir/<chart>/`` (whole chart sources, subcharts under ``charts/``, as
``helm template`` takes them) with the release's pinned version checked against the source's
``Chart.yaml`` and the release's full values. The engine is the ``helm`` CLI when it is on PATH
(``helm template --skip-crds``), else the Helm v4 library the ``helm-python-sdk`` wheel bundles
(``helm_python.Chart.load(dir).render(values, name=, namespace=, is_install=True)``, offline:
``lookup`` returns nothing). CRDs (``crds/``) are not rendered; the library declares the CRDs it
needs itself.

Renders are cached in ``cache_dir`` keyed by chart, version, release, namespace, engine and a
hash of the values, so planning again with unchanged values costs a file read.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gpu_platform.plan.model import Plan, helm_release_manifest

CACHE_FORMAT = 1
# How Helm splits a rendered template into documents (helm pkg/release/util SplitManifests).
_SEPARATOR = re.compile(r"(?:^|\s*\n)---\s*")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ChartRenderError(RuntimeError):
    """A chart source is missing, at the wrong version, or fails to render."""


@dataclass(frozen=True)
class RenderedRelease:
    key: str  # "<namespace>/<release>"
    chart: str
    version: str
    objects: list[dict[str, Any]]
    error: str | None = None  # why it could not be rendered (then ``objects`` is empty)


def engine_name() -> str:
    return "helm-cli" if shutil.which("helm") else "helm-python-sdk"


def _same_version(a: str, b: str) -> bool:
    return a.strip().strip('"').removeprefix("v") == b.strip().strip('"').removeprefix("v")


def chart_source(charts_dir: Path, chart: str, version: str) -> Path:
    source = charts_dir / chart
    meta_path = source / "Chart.yaml"
    if not meta_path.is_file():
        raise ChartRenderError(f"no chart source {source}/Chart.yaml for chart {chart} {version}")
    meta = yaml.safe_load(meta_path.read_text()) or {}
    if not _same_version(str(meta.get("version", "")), version):
        raise ChartRenderError(
            f"chart source {source} is version {meta.get('version')}, the plan pins {version}")
    missing = [d["name"] for d in meta.get("dependencies") or []
               if isinstance(d, dict) and d.get("name") and not (source / "charts" / d["name"]).is_dir()
               and not list((source / "charts").glob(f"{d['name']}-*.tgz"))]
    if missing:
        raise ChartRenderError(
            f"chart source {source} lacks the subcharts {', '.join(missing)} (Chart.yaml "
            "dependencies, expected under charts/)")
    return source


def parse_documents(rendered: Mapping[str, str]) -> list[dict[str, Any]]:
    """Kubernetes objects from rendered templates (notes and empty documents dropped)."""
    objects: list[dict[str, Any]] = []
    for path in sorted(rendered):
        if not path.endswith((".yaml", ".yml", ".tpl")) or path.endswith("NOTES.txt"):
            continue
        for text in _SEPARATOR.split(rendered[path]):
            try:
                doc = yaml.load(text, Loader=_Loader)
            except yaml.YAMLError as exc:
                raise ChartRenderError(f"{path} renders invalid YAML: {exc}") from exc
            if isinstance(doc, dict) and doc.get("kind"):
                if doc.get("kind") == "List":
                    objects.extend(i for i in doc.get("items") or [] if isinstance(i, dict))
                else:
                    objects.append(doc)
    return objects


def _render_cli(
    source: Path, release: str, namespace: str, values: Mapping[str, Any]
) -> list[dict[str, Any]]:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as handle:
        json.dump(values, handle)
        handle.flush()
        result = subprocess.run(
            ["helm", "template", release, str(source), "--namespace", namespace, "--skip-crds",
             "-f", handle.name], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ChartRenderError(f"helm template {source.name}: {result.stderr.strip()}")
    return parse_documents({"all.yaml": result.stdout})


def _render_sdk(
    source: Path, release: str, namespace: str, values: Mapping[str, Any]
) -> list[dict[str, Any]]:
    try:
        import helm_python
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ChartRenderError(
            "no Helm engine: put the helm CLI on PATH or install helm-python-sdk "
            "(pip install 'gpu-platform[test]')") from exc
    try:
        chart = helm_python.Chart.load(source)
        try:
            rendered = chart.render(dict(values), name=release, namespace=namespace, is_install=True)
        finally:
            chart.close()
    except helm_python.HelmError as exc:
        raise ChartRenderError(f"rendering {source.name}: {exc}") from exc
    return parse_documents(rendered)


def render_release(source: Path, release: str, namespace: str, values: Mapping[str, Any],
                   engine: str | None = None) -> list[dict[str, Any]]:
    engine = engine or engine_name()
    render = _render_cli if engine == "helm-cli" else _render_sdk
    objects = render(source, release, namespace, values)
    for obj in objects:  # helm template leaves namespaced objects without a namespace
        meta = obj.setdefault("metadata", {})
        if isinstance(meta, dict) and "namespace" not in meta and obj.get("kind") not in _CLUSTER_SCOPED:
            meta["namespace"] = namespace
    return objects


_CLUSTER_SCOPED = frozenset({
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "StorageClass",
    "CSIDriver", "PriorityClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
    "APIService", "PersistentVolume", "IngressClass", "RuntimeClass", "ClusterIssuer",
    "NodeFeatureRule", "ClusterServingRuntime", "ClusterStorageContainer", "ClusterTrainingRuntime",
    "ClusterQueue", "ResourceFlavor", "Queue", "ClusterPolicy", "NicClusterPolicy",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "PodSecurityPolicy",
})


def cache_key(chart: str, version: str, release: str, namespace: str, engine: str,
              values: Mapping[str, Any]) -> str:
    text = json.dumps([CACHE_FORMAT, chart, version, release, namespace, engine, values],
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def render_releases(plan: Plan, charts_dir: Path, cache_dir: Path | None = None,
                    engine: str | None = None) -> list[RenderedRelease]:
    """Every Helm release of the plan, rendered (from the cache when the key matches); a release
    that cannot be rendered is returned with its ``error``."""
    engine = engine or engine_name()
    out: list[RenderedRelease] = []
    for resource in plan.helm_releases():
        manifest = helm_release_manifest(resource)
        chart, version = str(manifest["chart"]), str(manifest["version"])
        release, namespace = str(manifest["release"]), str(manifest["namespace"] or "default")
        values = manifest["values"] or {}
        key = cache_key(chart, version, release, namespace, engine, values)
        cached = cache_dir / f"{chart}-{key}.json" if cache_dir else None
        if cached is not None and cached.is_file():
            objects = json.loads(cached.read_text())
        else:
            try:
                source = chart_source(charts_dir, chart, version)
                objects = render_release(source, release, namespace, values, engine)
            except ChartRenderError as exc:
                out.append(RenderedRelease(f"{namespace}/{release}", chart, version, [], str(exc)))
                continue
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_text(json.dumps(objects))
        out.append(RenderedRelease(f"{namespace}/{release}", chart, version, objects))
    return out

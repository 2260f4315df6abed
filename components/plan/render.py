"""Presenting a plan: a tree of components, a summary by type, plan.json and manifests on disk."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from gpu_platform.plan.capture import Registration
from gpu_platform.plan.charts import RenderedRelease
from gpu_platform.plan.cost import environment_cost, format_cost_table
from gpu_platform.plan.graph import critical_path, format_critical_path
from gpu_platform.plan.manifest_yaml import dump_manifest
from gpu_platform.plan.model import (
    Plan,
    helm_release_manifest,
    is_kubernetes_object,
    kubernetes_object,
)
from gpu_platform.plan.policy import PlanPolicy, resolve
from gpu_platform.plan.summary import Summary
from gpu_platform.plan.summary_text import format_summary


def _flags(resource: Registration) -> str:
    flags = []
    if resource.protect:
        flags.append("protect")
    if resource.retain_on_delete:
        flags.append("retain")
    if resource.delete_before_replace:
        flags.append("delete-before-replace")
    if resource.secret_paths:
        flags.append("secret")
    return f"  [{', '.join(flags)}]" if flags else ""


def print_tree(plan: Plan, out: TextIO) -> None:
    """Components and their children, indented by parent, in registration order."""
    children: dict[str | None, list[Registration]] = {}
    for resource in plan.resources:
        children.setdefault(resource.parent, []).append(resource)

    def walk(parent: str | None, depth: int) -> None:
        for resource in children.get(parent, []):
            out.write(f"{'  ' * depth}{resource.type}  {resource.name}{_flags(resource)}\n")
            walk(resource.urn, depth + 1)

    out.write(f"{plan.project}/{plan.stack}\n")
    walk(plan.stack_urn, 1)
    orphans = [r for r in plan.resources if r.parent is None]
    if orphans:
        walk(None, 1)


def print_summary(plan: Plan, out: TextIO, policy: PlanPolicy | None = None,
                  summary: Summary | None = None) -> None:
    """Counts by type, the deploy-time estimate and node pool cost (durations and prices from
    ``policy``; default: the installed libraries', see ``gpu_platform.plan.policy``); with a
    stack's ``summary`` (``plan.summary``), its cost floor, capacity, prerequisites, node setup,
    pins and placeholders instead of the node pool cost alone."""
    rules = resolve(policy)
    types = plan.types()
    width = max((len(t) for t in types), default=10)
    out.write(f"\n{'resource type':<{width}}  count\n")
    for type_, count in types.items():
        out.write(f"{type_:<{width}}  {count:>5}\n")
    out.write(f"{'total':<{width}}  {len(plan):>5}\n")
    out.write("\n" + format_critical_path(critical_path(plan, rules)))
    if summary is None:
        out.write("\n" + format_cost_table(environment_cost(plan, rules)))
    helm = plan.helm_releases()
    if helm:
        out.write("\nHelm charts:\n")
        for release in helm:
            chart = helm_release_manifest(release)
            out.write(f"  {chart['chart']} {chart['version']} -> {chart['namespace']}\n")
    if summary is not None:
        out.write("\n" + format_summary(summary))


def write_plan(plan: Plan, out_dir: Path, *, findings: list[dict[str, str]] | None = None,
               rendered: Sequence[RenderedRelease] = (),
               summary: dict[str, object] | None = None) -> tuple[Path, Path]:
    """Write ``plan.json`` (with the readiness ``findings`` and the ``summary``) and ``manifests/``
    (one file per object, per Helm install and per object rendered from a chart,
    ``chart-<release>-...``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    plan_path = out_dir / "plan.json"
    document = plan.to_dict()
    if findings is not None:
        document["findings"] = findings
    if summary is not None:
        document["summary"] = summary
    plan_path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    manifests = out_dir / "manifests"
    manifests.mkdir(exist_ok=True)
    for old in manifests.glob("*.yaml"):
        old.unlink()
    used: set[str] = set()
    releases = {r.urn for r in plan.helm_releases()}  # once: a list test per resource is quadratic
    for resource in plan.resources:
        if is_kubernetes_object(resource):
            obj = kubernetes_object(resource)
            meta = obj.get("metadata") or {}
            parts = [obj["kind"], meta.get("namespace", ""), meta.get("name") or resource.name]
            document = obj
        elif resource.urn in releases:
            document = helm_release_manifest(resource)
            parts = ["helm", document["namespace"] or "", document["release"]]
        else:
            continue
        stem = _unique(_slug("-".join(p for p in parts if p)), used)
        (manifests / f"{stem}.yaml").write_text(dump_manifest(document))
    for release in rendered:
        # the text the render cache kept (a CRD costs ~20 ms to dump), else dumped here
        texts = release.manifests if len(release.manifests) == len(release.objects) else None
        for index, obj in enumerate(release.objects):
            meta = obj.get("metadata") or {}
            parts = ["chart", release.key.replace("/", "-"), str(obj.get("kind")),
                     str(meta.get("name", ""))]
            stem = _unique(_slug("-".join(p for p in parts if p)), used)
            (manifests / f"{stem}.yaml").write_text(texts[index] if texts else dump_manifest(obj))
    return plan_path, manifests


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.-]+", "-", text.lower()).strip("-")


def _unique(stem: str, used: set[str]) -> str:
    candidate, counter = stem, 2
    while candidate in used:
        candidate, counter = f"{stem}-{counter}", counter + 1
    used.add(candidate)
    return candidate

"""Readiness of one stack of this project: its environment's facts, its charts rendered from
sources (optional), and the platform's rules, as ``gpu-platform plan`` runs them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gpu_platform.plan.charts import RenderedRelease, render_releases
from gpu_platform.plan.model import Plan
from gpu_platform.plan.readiness import Finding
from gpu_platform.plan.runner import load_project, load_stack_config, stack_config_path
from gpu_platform.readiness import environment_facts, environment_from_config, platform_readiness

CHARTS_RULE = "charts"


@dataclass
class StackReadiness:
    findings: list[Finding]
    rendered: list[RenderedRelease] = field(default_factory=list)
    charts_rendered: bool = False


def stack_readiness(plan: Plan, *, project_dir: Path, stack: str, config_path: Path | None = None,
                    charts_dir: Path | None = None, cache_dir: Path | None = None) -> StackReadiness:
    """The findings for ``stack`` (config from ``config_path``, default its stack file)."""
    namespace = str(load_project(project_dir).get("name", ""))
    config = load_stack_config(config_path or stack_config_path(project_dir, stack))
    facts = environment_facts(environment_from_config(config.values, namespace))
    if charts_dir is None:
        return StackReadiness(platform_readiness(plan, facts))
    rendered = render_releases(plan, charts_dir, cache_dir)
    findings = platform_readiness(plan, facts, {r.key: r.objects for r in rendered if r.error is None})
    failed = [Finding(CHARTS_RULE, "error", f"helm/{r.key}", f"not rendered: {r.error}")
              for r in rendered if r.error is not None]
    partial = [Finding(CHARTS_RULE, "warning", f"helm/{r.key}", warning)
               for r in rendered for warning in r.warnings]
    return StackReadiness(failed + partial + findings, rendered, True)

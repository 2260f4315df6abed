"""Real chart rendering (``gpu-platform plan ENV --charts DIR``): a real Helm engine renders each
release from its chart source, the renders are cached, and the rendered objects reach the
readiness rules, plan.json and manifests/."""

from __future__ import annotations

import json

import pytest
import yaml

from gpu_platform.plan import charts
from gpu_platform.plan.charts import (
    ChartRenderError,
    chart_source,
    parse_documents,
    render_release,
    render_releases,
)
from gpu_platform.plan.manifest_yaml import dump_manifest
from gpu_platform.testing.conformance import upstream_root
from gpu_platform.testing.fixtures import PROJECT_DIR

UPSTREAM = upstream_root()
CHARTS = UPSTREAM / "charts-src" if UPSTREAM else None
needs_charts = pytest.mark.skipif(CHARTS is None or not CHARTS.is_dir(),
                                  reason="../shared/upstream/charts-src is absent")
helm_python = pytest.importorskip("helm_python")




@needs_charts
def test_the_helm_library_renders_a_real_chart_with_the_release_values():
    source = chart_source(CHARTS, "aws-efa-k8s-device-plugin", "v0.5.30").path
    toleration = {"key": "team", "operator": "Equal", "value": "llm", "effect": "NoSchedule"}
    objects = render_release(source, "efa", "kube-system", {"tolerations": [toleration]},
                             engine="helm-python-sdk")
    daemonsets = [o for o in objects if o["kind"] == "DaemonSet"]
    assert len(daemonsets) == 1
    assert daemonsets[0]["metadata"]["namespace"] == "kube-system"
    tolerations = daemonsets[0]["spec"]["template"]["spec"]["tolerations"]
    # the template's own toleration, then the values'
    assert tolerations == [{"key": "CriticalAddonsOnly", "operator": "Exists"}, toleration]


@needs_charts
def test_subcharts_are_rendered():
    source = chart_source(CHARTS, "gpu-operator", "v26.7.0").path
    objects = render_release(source, "gpu-operator", "gpu-operator", {}, engine="helm-python-sdk")
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert ("DaemonSet", "gpu-operator-node-feature-discovery-worker") in names


@needs_charts
def test_a_source_at_another_version_is_refused():
    with pytest.raises(ChartRenderError) as err:
        chart_source(CHARTS, "aws-efa-k8s-device-plugin", "v0.5.29")
    assert str(err.value) == (
        f"chart source {CHARTS}/aws-efa-k8s-device-plugin is version v0.5.30, the plan pins v0.5.29")


def test_a_missing_chart_is_named_and_missing_subcharts_are_listed(tmp_path):
    with pytest.raises(ChartRenderError) as err:
        chart_source(tmp_path, "nothing", "1.0.0")
    assert str(err.value) == f"no chart source {tmp_path}/nothing/Chart.yaml for chart nothing 1.0.0"
    (tmp_path / "parent").mkdir()
    (tmp_path / "parent" / "Chart.yaml").write_text(yaml.safe_dump({
        "apiVersion": "v2", "name": "parent", "version": "1.0.0",
        "dependencies": [{"name": "child", "version": "2.0.0"}]}))
    assert chart_source(tmp_path, "parent", "1.0.0").missing_subcharts == ("child",)


def test_a_chart_without_its_subcharts_renders_the_rest_with_a_warning(tmp_path):
    from gpu_platform.plan.charts import render_releases

    chart = tmp_path / "charts-src" / "parent"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(yaml.safe_dump({
        "apiVersion": "v2", "name": "parent", "version": "1.0.0",
        "dependencies": [{"name": "child", "version": "2.0.0", "condition": "child.enabled"}]}))
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}}\n")

    def program():
        import pulumi_kubernetes as k8s

        k8s.helm.v3.Release("r", name="rel", chart="parent", version="1.0.0", namespace="ns", values={})

    from gpu_platform.plan.runner import run_program

    [release] = render_releases(run_program(program), tmp_path / "charts-src", engine="helm-python-sdk")
    assert release.error is None
    assert [(o["kind"], o["metadata"]["name"]) for o in release.objects] == [("ConfigMap", "rel")]
    assert release.warnings == (
        f"chart source {chart} lacks the subcharts child (Chart.yaml dependencies, expected under "
        "charts/): rendered without them and with their conditions off (child.enabled), their "
        "objects not analysed",
    )
    assert yaml.safe_load((chart / "Chart.yaml").read_text())["dependencies"]  # the source is untouched


@needs_charts
def test_a_published_chart_name_finds_its_source_and_its_recorded_release():
    # whereabouts publishes "whereabouts-chart" 0.9.4 from a source whose Chart.yaml keeps the
    # repository's placeholder 0.1.1; SOURCES.md records the source at the v0.9.4 tag
    source = chart_source(CHARTS, "whereabouts-chart", "0.9.4")
    assert source.path == CHARTS / "whereabouts"
    with pytest.raises(ChartRenderError, match="is version 0.1.1, the plan pins 0.9.3"):
        chart_source(CHARTS, "whereabouts-chart", "0.9.3")


def test_documents_split_as_helm_splits_them():
    rendered = {
        "c/templates/a.yaml": "---# a comment\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
                              "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
        "c/templates/NOTES.txt": "thanks",
        "c/templates/empty.yaml": "\n# nothing\n",
    }
    assert [o["metadata"]["name"] for o in parse_documents(rendered)] == ["a", "b"]


def test_renders_are_cached_by_chart_version_and_values(plan_env, tmp_path, monkeypatch):
    if CHARTS is None:
        pytest.skip("../shared/upstream/charts-src is absent")
    plan = plan_env("dev")
    first = render_releases(plan, CHARTS, tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == sum(r.error is None for r in first)

    def no_engine(*_args, **_kwargs):
        raise AssertionError("rendered again although cached")

    monkeypatch.setattr(charts, "render_release", no_engine)
    again = render_releases(plan, CHARTS, tmp_path)
    assert [(r.key, len(r.objects)) for r in again] == [(r.key, len(r.objects)) for r in first]
    # each object's manifest text is cached with it, the same text a dump would write
    for release in again:
        assert list(release.manifests) == [dump_manifest(o) for o in release.objects], release.key
    assert sum(len(r.manifests) for r in again) > 0
    # other values: another key
    key = charts.cache_key("c", "1", "r", "ns", "helm-python-sdk", {"a": 1})
    assert key != charts.cache_key("c", "1", "r", "ns", "helm-python-sdk", {"a": 2})


def test_written_manifests_of_rendered_objects_are_the_cached_texts(tmp_path):
    from gpu_platform.plan.charts import RenderedRelease
    from gpu_platform.plan.model import Plan
    from gpu_platform.plan.render import write_plan

    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}
    kept = RenderedRelease("ns/r", "c", "1", [obj], manifests=("# kept text\n",))
    fresh = RenderedRelease("ns/s", "c", "1", [obj])  # no text kept: dumped when written
    _, manifests = write_plan(Plan("p", "s", [], {}, []), tmp_path, rendered=[kept, fresh])
    assert (manifests / "chart-ns-r-configmap-a.yaml").read_text() == "# kept text\n"
    assert (manifests / "chart-ns-s-configmap-a.yaml").read_text() == dump_manifest(obj)


@needs_charts
def test_plan_with_charts_writes_rendered_manifests_and_analyses_them(tmp_path):
    from test_cli import run_cli

    result = run_cli("plan", "dev", "--quiet", "--out", str(tmp_path), "--charts", str(CHARTS))
    assert result.returncode == 0, result.stdout + result.stderr  # dev is ready, charts included
    assert "chart contents were not analysed" not in result.stdout
    manifests = tmp_path / "manifests"
    rendered = sorted(p.name for p in manifests.glob("chart-*.yaml"))
    assert "chart-kube-system-juicefs-csi-driver-daemonset-juicefs-csi-node.yaml" in rendered
    findings = json.loads((tmp_path / "plan.json").read_text())["findings"]
    assert {"rule", "severity", "resource", "message"} == set(findings[0])
    assert {f["severity"] for f in findings} == {"warning"}
    # ../shared/upstream's kube-prometheus-stack source lacks its subcharts: said, not an error
    assert any(f["resource"] == "helm/monitoring/kube-prometheus-stack" and "lacks the subcharts"
               in f["message"] for f in findings)
    # a rendered chart's pods go through the rules like the library's own objects
    resources = {f["resource"] for f in findings}
    assert not any(r.startswith("helm/kube-system/juicefs-csi-driver") for r in resources)


def test_a_chart_that_cannot_be_rendered_is_a_readiness_error(plan_env, tmp_path):
    from gpu_platform.readiness.stack import stack_readiness

    plan = plan_env("staging")
    # no sources at all
    ready = stack_readiness(plan, project_dir=PROJECT_DIR, stack="staging", charts_dir=tmp_path)
    assert ready.charts_rendered
    failed = [f for f in ready.findings if f.rule == "charts"]
    assert len(failed) == len(plan.helm_releases()) > 0
    fluid = next(f for f in failed if f.resource == "helm/fluid-system/fluid")
    assert (fluid.severity, fluid.message) == (
        "error", f"not rendered: no chart source {tmp_path}/fluid/Chart.yaml for chart fluid 1.0.8")
    # the library's objects and the values of the charts not rendered are analysed as without
    # --charts (staging: ready, the Prometheus volume in values on its gp3 default class)
    others = [f for f in ready.findings if f.rule != "charts"]
    assert others == stack_readiness(plan, project_dir=PROJECT_DIR, stack="staging").findings
    assert [f for f in others if f.severity == "error"] == []


@pytest.fixture(scope="module")
def chart_scan(tmp_path_factory):
    """checkov over every object the pinned charts render in prod and onprem (every chart)."""
    if CHARTS is None or not CHARTS.is_dir():
        pytest.skip("../shared/upstream/charts-src is absent")
    from gpu_platform.testing.fixtures import plan_env as _unused  # noqa: F401
    from gpu_platform.testing.security import checkov_binary, scan

    if checkov_binary() is None:
        pytest.skip("checkov is not installed")
    from gpu_platform.plan.runner import plan_stack

    objects: dict[tuple, dict] = {}
    for env in ("prod", "onprem"):
        for release in render_releases(plan_stack(env, PROJECT_DIR), CHARTS,
                                       PROJECT_DIR / "build" / ".chart-cache"):
            for obj in release.objects:
                meta = obj.get("metadata") or {}
                objects[(obj["kind"], meta.get("namespace"), meta.get("name"))] = obj
    return list(objects.values()), scan(objects.values(), tmp_path_factory.mktemp("chart-scan"))


def test_rendered_charts_pass_the_security_scan_but_for_the_reasoned_allowlist(chart_scan):
    from gpu_platform.testing.security import CHART_ALLOWLIST, unexplained

    _, findings = chart_scan
    assert findings, "checkov found nothing: the scan did not run over the rendered charts"
    left = unexplained(findings, CHART_ALLOWLIST)
    assert left == [], "\n".join(map(str, left))
    stale = [a for a in CHART_ALLOWLIST if not any(a.covers(f) for f in findings)]
    assert stale == [], "CHART_ALLOWLIST entries no finding needs:\n" + "\n".join(map(str, stale))


# Conformance problems of rendered upstream objects that are the checker's coverage, not the
# charts' fault: the oldest Kubernetes the checks cover predates CRD selectableFields (1.30+),
# and ../shared/upstream/crds holds schemas only for the CRDs the library itself writes.
CONFORMANCE_GAPS = (
    "selectableFields: field not declared in the schema (the API server would drop it) [Kubernetes 1.29]",
    ": no upstream CRD schema for ",
)


def test_rendered_charts_conform_to_upstream_schemas(chart_scan, conformance):
    objects, _ = chart_scan
    problems = conformance.validate_all(objects)
    left = [p for p in problems if not any(gap in p for gap in CONFORMANCE_GAPS)]
    conformance.assert_conformant(left)

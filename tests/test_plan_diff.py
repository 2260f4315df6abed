"""`gpu-platform diff`: added, removed, replaced and changed resources with their input paths."""

import json
import subprocess
import sys

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from gpu_platform.plan.diff import (
    ABSENT,
    DifferentStacksError,
    changed_paths,
    changed_values,
    diff_plans,
    format_change,
    format_value,
    to_markdown,
)
from gpu_platform.testing.fixtures import PROJECT_DIR


def plan_of(run_component, namespaces):
    def program():
        for name, (label, protect, alias) in namespaces.items():
            k8s.core.v1.ConfigMap(
                name,
                metadata={"name": name, "namespace": "ns", "labels": {"tier": label}},
                data={"k": label},
                opts=pulumi.ResourceOptions(protect=protect, aliases=[alias] if alias else None),
            )

    return run_component(program).to_dict()


def test_changed_paths_names_leaves():
    assert changed_paths({"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"b": 1, "c": 3}, "e": 1}) == [
        "a.c", "d", "e",
    ]


def test_added_removed_changed(run_component):
    base = plan_of(run_component, {"a": ("x", False, None), "b": ("x", True, None)})
    head = plan_of(run_component, {"a": ("y", False, None), "c": ("x", False, None)})
    changes = {(c.kind, c.urn.rsplit("::", 1)[1]): c for c in diff_plans(base, head)}
    assert sorted(changes) == [("added", "c"), ("changed", "a"), ("removed", "b")]
    assert changes[("changed", "a")].paths == ["data.k", "metadata.labels.tier"]
    assert changes[("removed", "b")].protected is True


def test_kubernetes_name_change_is_a_replacement(run_component):
    base = plan_of(run_component, {"a": ("x", False, None)})
    head = json.loads(json.dumps(base))
    head["resources"][0]["inputs"]["metadata"]["name"] = "renamed"
    [change] = diff_plans(base, head)
    assert (change.kind, change.paths) == ("replaced", ["metadata.name"])


def test_aliased_rename_is_a_change_not_a_removal(run_component):
    base = plan_of(run_component, {"a": ("x", False, None)})
    head = plan_of(run_component, {"b": ("x", False, pulumi.Alias(name="a"))})
    [change] = diff_plans(base, head)
    assert change.kind == "replaced"  # the ConfigMap's own metadata.name changed too
    assert change.paths[0] == "(renamed, aliased)"


def test_markdown_summary_warns_about_protected_removals(run_component):
    base = plan_of(run_component, {"b": ("x", True, None)})
    head = plan_of(run_component, {})
    text = to_markdown(diff_plans(base, head), "dev")
    assert text.splitlines() == [
        "### dev",
        "",
        "**0** added, **1** removed, **0** replaced, **0** changed",
        "",
        ":warning: 1 protected or retained resource(s) would be removed or replaced.",
        "",
        "| change | type | name | guard | inputs (old → new) |",
        "|---|---|---|---|---|",
        "| removed | `kubernetes:core/v1:ConfigMap` | `b` | protected |  |",
    ]
    assert to_markdown([], "dev") == "### dev\n\nNo changes.\n"


def test_changed_values_show_old_and_new_through_maps_and_lists():
    before = {"spec": {"rules": [{"expr": "up > 20"}, {"expr": "x"}], "gone": 1}, "secret": "[secret]"}
    after = {"spec": {"rules": [{"expr": "up > 25"}, {"expr": "x"}], "new": [1]}, "secret": "[secret]"}
    assert changed_values(before, after) == [
        ("spec.gone", 1, ABSENT), ("spec.new", ABSENT, [1]), ("spec.rules[0].expr", "up > 20", "up > 25"),
    ]
    # lists of different lengths are one change (the whole list)
    assert changed_paths({"a": [1, 2]}, {"a": [1]}) == ["a"]


def test_long_strings_are_cut_around_the_difference_and_secrets_stay_masked():
    old = "histogram_quantile(0.99, sum by (le, model_name) (rate(bucket[5m]))) > 20"
    assert format_change(old, old.replace("> 20", "> 25")) == (
        '"…te(bucket[5m]))) > 20"', '"…te(bucket[5m]))) > 25"',  # 20 characters before the change
    )
    assert format_change("[secret]", "plain") == ("[secret]", '"plain"')
    assert format_value(ABSENT) == "(absent)"


def test_replacements_and_guarded_resources_come_first(run_component):
    base = plan_of(run_component, {"a": ("x", False, None), "g": ("x", True, None), "r": ("x", False, None)})
    head = json.loads(json.dumps(base))
    for resource in head["resources"]:
        if resource["name"] in ("a", "g"):
            resource["inputs"]["data"]["k"] = "changed"
        if resource["name"] == "r":
            resource["inputs"]["metadata"]["name"] = "renamed"
    head["resources"] = [r for r in head["resources"] if r["name"] != "g"]
    order = [(c.kind, c.urn.rsplit("::", 1)[1], c.guarded) for c in diff_plans(base, head)]
    assert order == [("removed", "g", True), ("replaced", "r", False), ("changed", "a", False)]


def test_plans_of_different_stacks_are_refused_or_flagged(run_component):
    base = plan_of(run_component, {"a": ("x", False, None)})
    head = {**base, "stack": "prod"}
    with pytest.raises(DifferentStacksError) as caught:
        diff_plans(base, head)
    assert str(caught.value) == (
        "the plans are of different stacks: base gpu-platform/test, head gpu-platform/prod; every "
        "resource would show as removed and added. Compare two plans of one stack, or pass "
        "--allow-different-stacks"
    )
    text = to_markdown(diff_plans(base, head, allow_different_stacks=True), "x", base=base, head=head)
    assert text.splitlines()[2] == (
        ":warning: the plans are of different stacks: base gpu-platform/test, head gpu-platform/prod: "
        "removals and additions below are expected."
    )


def cli(*args):
    return subprocess.run([sys.executable, "-m", "gpu_platform.plan.cli", *map(str, args)],
                          capture_output=True, text=True)


def test_cli_refuses_different_stacks_with_exit_2(run_component, tmp_path):
    base = plan_of(run_component, {"a": ("x", False, None)})
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "head.json").write_text(json.dumps({**base, "stack": "prod"}))
    result = cli("diff", tmp_path / "base.json", tmp_path / "head.json")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("error: the plans are of different stacks: base gpu-platform/test")
    allowed = cli("diff", tmp_path / "base.json", tmp_path / "head.json", "--allow-different-stacks")
    assert allowed.returncode == 0 and ":warning: the plans are of different stacks" in allowed.stdout


def test_prod_alert_threshold_change_shows_both_values(plan_env, tmp_path):
    alerts = yaml.safe_load((PROJECT_DIR / "stacks" / "Pulumi.prod.yaml").read_text())["config"][
        "gpu-platform:gpuAlerts"]
    assert alerts["inferenceLatencyHigh"]["threshold"] == 20
    alerts["inferenceLatencyHigh"]["threshold"] = 25
    base = plan_env("prod").to_dict()
    head = plan_env("prod", overrides={"gpu-platform:gpuAlerts": alerts}).to_dict()
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "head.json").write_text(json.dumps(head))
    result = cli("diff", tmp_path / "base.json", tmp_path / "head.json", "--title", "prod")
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| changed")]
    assert rows == [
        "| changed | `kubernetes:monitoring.coreos.com/v1:PrometheusRule` | `platform-gpu-alerts-rules` |  | "
        "`spec.groups[0].rules[10].annotations.description`: `\"… $value }}s, above 20s.\"` → "
        "`\"… $value }}s, above 25s.\"`<br>`spec.groups[0].rules[10].expr`: "
        "`\"…ds_bucket[5m]))) > 20\"` → `\"…ds_bucket[5m]))) > 25\"` |"
    ]
    assert "**0** added, **0** removed, **0** replaced, **1** changed" in result.stdout


def test_cli_diff_prints_markdown(run_component, tmp_path):
    base = plan_of(run_component, {"a": ("x", False, None)})
    head = plan_of(run_component, {"a": ("y", False, None)})
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "head.json").write_text(json.dumps(head))
    result = subprocess.run(
        [sys.executable, "-m", "gpu_platform.plan.cli", "diff", str(tmp_path / "base.json"),
         str(tmp_path / "head.json"), "--title", "dev"],
        capture_output=True, text=True, check=True,
    )
    assert (
        '| changed | `kubernetes:core/v1:ConfigMap` | `a` |  | `data.k`: `"x"` → `"y"`<br>'
        '`metadata.labels.tier`: `"x"` → `"y"` |'
    ) in result.stdout

"""`gpu-platform diff`: added, removed, replaced and changed resources with their input paths."""

import json
import subprocess
import sys

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform.plan.diff import changed_paths, diff_plans, to_markdown


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
        ":warning: 1 protected resource(s) would be removed or replaced.",
        "",
        "| change | type | name | inputs |",
        "|---|---|---|---|",
        "| removed | `kubernetes:core/v1:ConfigMap` | `b` |  |",
    ]
    assert to_markdown([], "dev") == "### dev\n\nNo changes.\n"


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
    assert "| changed | `kubernetes:core/v1:ConfigMap` | `a` | `data.k`, `metadata.labels.tier` |" in (
        result.stdout
    )

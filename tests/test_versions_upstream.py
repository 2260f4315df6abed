"""Rendered objects use API versions upstream still serves, and the Kueue v1beta2 move keeps URNs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from gpu_platform.plan.snapshot import SNAPSHOT_PATH, check_snapshot, read_snapshot, snapshot_of
from gpu_platform.testing.conformance import BUILTIN_API_GROUPS, upstream_root
from gpu_platform.testing.fixtures import ENVIRONMENTS, PROJECT_DIR
from gpu_platform.training.kueue import KUEUE_API, render_cpu_flavor

ROOT = upstream_root()
pytestmark = pytest.mark.skipif(ROOT is None, reason="../shared/upstream is absent")

# (group, kind) -> {version: {"served": bool, "deprecated": bool, "warning": str}}
CrdVersions = dict[tuple[str, str], dict[str, dict[str, Any]]]


def crd_versions(folder: Path) -> CrdVersions:
    """Every CRD version's served/deprecated flags, from upstream's CRD files."""
    found: CrdVersions = {}
    for path in sorted(folder.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            found[(spec["group"], spec["names"]["kind"])] = {
                v["name"]: {"served": bool(v.get("served")), "deprecated": bool(v.get("deprecated")),
                            "warning": v.get("deprecationWarning", "")}
                for v in spec["versions"]
            }
    return found


def api_problems(objects: list[dict[str, Any]], crds: CrdVersions) -> list[str]:
    """Objects whose apiVersion upstream's CRD marks deprecated or does not serve."""
    problems = []
    for obj in objects:
        group, _, version = obj["apiVersion"].rpartition("/")
        if group in BUILTIN_API_GROUPS:
            continue  # kubernetes-validate checks those per minor (test_conformance_environments)
        where = f"{obj['kind']}/{obj['metadata'].get('name')}"
        known = crds.get((group, obj["kind"]))
        if known is None:
            continue  # no CRD file upstream for it: the schema check reports that
        flags = known.get(version)
        if flags is None or not flags["served"]:
            problems.append(f"{where}: {obj['apiVersion']} is not served (served: "
                            f"{', '.join(v for v, f in known.items() if f['served'])})")
        elif flags["deprecated"]:
            problems.append(f"{where}: {obj['apiVersion']} is deprecated: {flags['warning']}")
    return problems


@pytest.fixture(scope="module")
def crds() -> CrdVersions:
    assert ROOT is not None
    return crd_versions(ROOT / "crd-yaml")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_rendered_object_uses_a_deprecated_or_unserved_api(plan_env, crds, env):
    objects = plan_env(env).kubernetes_objects()
    checked = [o for o in objects if (o["apiVersion"].rpartition("/")[0], o["kind"]) in
               {key for key in crds}]
    assert checked, f"{env} renders no custom resource with an upstream CRD"
    assert api_problems(objects, crds) == []


def test_the_check_sees_kueue_v1beta1_as_deprecated(crds):
    flavor = render_cpu_flavor() | {"apiVersion": "kueue.x-k8s.io/v1beta1"}
    assert api_problems([flavor], crds) == [
        "ResourceFlavor/cpu: kueue.x-k8s.io/v1beta1 is deprecated: This version is deprecated. "
        "Use v1beta2 instead."]
    unserved = render_cpu_flavor() | {"apiVersion": "kueue.x-k8s.io/v1alpha1"}
    assert api_problems([unserved], crds) == [
        "ResourceFlavor/cpu: kueue.x-k8s.io/v1alpha1 is not served (served: v1beta1, v1beta2)"]
    assert KUEUE_API == "kueue.x-k8s.io/v1beta2"


# --- the Kueue move -------------------------------------------------------------------------------

KUEUE_TYPES = ("ClusterQueue", "LocalQueue", "ResourceFlavor")


def as_before(urn: str) -> str:
    """The URN a Kueue object had when it was rendered as v1beta1."""
    for kind in KUEUE_TYPES:
        urn = urn.replace(f"kueue.x-k8s.io/v1beta2:{kind}", f"kueue.x-k8s.io/v1beta1:{kind}")
    return urn


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_kueue_objects_move_to_v1beta2_through_aliases(plan_env, env):
    plan = plan_env(env)
    moved = [r for r in plan.resources if "kueue.x-k8s.io/v1beta2:" in r.type]
    assert {r.type.rsplit(":", 1)[1] for r in moved} == set(KUEUE_TYPES)
    before = [replace(e, urn=as_before(e.urn)) for e in snapshot_of(plan)]
    assert sum(e.urn.count("kueue.x-k8s.io/v1beta1:") for e in before) == len(moved)
    # a snapshot taken before the move: every old URN is found through an alias, nothing is new
    assert check_snapshot(env, before, plan) == []
    # without the aliases the same plan would delete and recreate every queue and flavor
    unaliased = replace(plan, resources=[replace(r, aliases=[]) for r in plan.resources])
    problems = check_snapshot(env, before, unaliased)
    assert len(problems) == 2 * len(moved)
    assert all("URN disappeared" in p or "new URN not in the snapshot" in p for p in problems)


def test_the_snapshot_records_the_new_urns():
    recorded = read_snapshot(PROJECT_DIR / SNAPSHOT_PATH)
    urns = [e.urn for entries in recorded.values() for e in entries]
    assert any("kueue.x-k8s.io/v1beta2:ClusterQueue" in u for u in urns)
    assert not any("kueue.x-k8s.io/v1beta1" in u for u in urns)

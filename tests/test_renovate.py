"""renovate.json finds every pin in components/versions.py, and nothing else.

The custom managers' match patterns are applied here the way Renovate applies them (every match of
every pattern in each file the manager's ``managerFilePatterns`` select; templates filled from the
named groups), and the dependencies they extract are compared with the pins the module defines.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gpu_platform import versions
from gpu_platform.versions import ChartPin, GitRefPin, ImagePin

ROOT = Path(__file__).resolve().parents[1]
VERSIONS_FILE = "components/versions.py"
CONFIG = json.loads((ROOT / "renovate.json").read_text())
MANAGERS = CONFIG["customManagers"]

Dep = tuple[str, str, str, str]  # datasource, packageName, currentValue, registryUrl


def python_regex(pattern: str) -> re.Pattern[str]:
    """A Renovate (RE2/ECMAScript) pattern as a Python regex: (?<name>...) -> (?P<name>...)."""
    assert "(?<=" not in pattern and "(?<!" not in pattern, "RE2 has no lookbehind"
    return re.compile(pattern.replace("(?<", "(?P<"))


def file_pattern(pattern: str) -> re.Pattern[str]:
    assert pattern.startswith("/") and pattern.endswith("/"), f"{pattern}: a regex is /.../"
    return re.compile(pattern[1:-1])


def render(template: str, groups: dict[str, Any]) -> str:
    return re.sub(r"\{\{\{(\w+)\}\}\}", lambda m: groups.get(m.group(1)) or "", template)


def extract(text: str, path: str = VERSIONS_FILE) -> list[Dep]:
    """Every dependency renovate.json's custom managers extract from ``text`` at ``path``."""
    found: list[Dep] = []
    for manager in MANAGERS:
        if not any(file_pattern(p).search(path) for p in manager["managerFilePatterns"]):
            continue
        for pattern in manager["matchStrings"]:
            for match in python_regex(pattern).finditer(text):
                groups = {k: v for k, v in match.groupdict().items() if v is not None}
                for field in ("datasource", "depName", "packageName", "registryUrl"):
                    template = manager.get(f"{field}Template")
                    if template is not None:
                        groups[field] = render(template, groups)
                found.append((
                    groups["datasource"],
                    groups.get("packageName") or groups["depName"],
                    groups["currentValue"],
                    groups.get("registryUrl", ""),
                ))
    return found


def _pin_dep(pin: ChartPin | ImagePin | GitRefPin) -> Dep:
    if isinstance(pin, ChartPin):
        if pin.repository.startswith("oci://"):
            return ("docker", f"{pin.repository.removeprefix('oci://')}/{pin.chart}", pin.version, "")
        return ("helm", pin.chart, pin.version, pin.repository)
    if isinstance(pin, ImagePin):
        return ("docker", pin.repository, pin.tag, "")
    return ("github-tags", pin.repository, pin.ref, "")


def expected_deps() -> dict[str, Dep]:
    """Every pin the module defines, by where it lives, as Renovate should see it."""
    deps: dict[str, Dep] = {}
    for name, value in vars(versions).items():
        if isinstance(value, ChartPin | ImagePin | GitRefPin):
            deps[name] = _pin_dep(value)
    for minor, pin in versions.CLUSTER_AUTOSCALER_IMAGES.items():
        deps[f"CLUSTER_AUTOSCALER_IMAGES[{minor}]"] = _pin_dep(pin)
    for minor, addons in versions.EKS_ADDON_VERSIONS.items():
        for addon, version in addons.items():
            filter_ = json.dumps({"kubernetesVersion": minor, "addonName": addon}, separators=(",", ":"))
            deps[f"EKS_ADDON_VERSIONS[{minor}][{addon}]"] = ("aws-eks-addon", filter_, version, "")
    return deps


def uncovered(text: str) -> list[str]:
    matched = extract(text)
    return [name for name, dep in expected_deps().items() if dep not in matched]


SOURCE = (ROOT / VERSIONS_FILE).read_text()


def test_every_pin_is_found_by_a_custom_manager():
    assert uncovered(SOURCE) == []


def test_nothing_but_pins_is_found():
    matched = extract(SOURCE)
    assert sorted(matched) == sorted(expected_deps().values())


def test_the_pins_are_many_and_of_every_kind():
    datasources = {dep[0] for dep in expected_deps().values()}
    assert datasources == {"helm", "docker", "github-tags", "aws-eks-addon"}
    assert len(expected_deps()) >= 45


def test_a_pin_written_in_another_layout_is_reported_uncovered():
    # keyword order changed: no pattern matches it, so the check names it
    moved = SOURCE.replace(
        'GitRefPin(\n    repository="kubeflow/katib",\n    ref="v0.19.0",',
        'GitRefPin(\n    ref="v0.19.0",\n    repository="kubeflow/katib",',
    )
    assert moved != SOURCE
    assert uncovered(moved) == ["KATIB"]


def test_an_addon_line_without_its_filter_comment_is_reported_uncovered():
    line = '        # renovate: eksAddonsFilter={"kubernetesVersion":"1.36","addonName":"coredns"}\n'
    assert line in SOURCE
    assert uncovered(SOURCE.replace(line, "")) == ["EKS_ADDON_VERSIONS[1.36][coredns]"]


def test_managers_only_read_versions_py():
    for manager in MANAGERS:
        assert manager["customType"] == "regex"
        assert manager["datasourceTemplate"]
        assert [file_pattern(p).search("components/versions.py") is not None
                for p in manager["managerFilePatterns"]] == [True]
        assert not any(file_pattern(p).search("components/training/kueue.py")
                       for p in manager["managerFilePatterns"])


@pytest.mark.parametrize("rule", [r for r in CONFIG["packageRules"] if "matchPackageNames" in r])
def test_package_rules_name_real_pins(rule):
    names = {dep[1] for dep in expected_deps().values()}
    assert set(rule["matchPackageNames"]) <= names

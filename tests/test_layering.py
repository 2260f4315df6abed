"""Layers are one-way, read from every module's imports (ast, so nothing is executed):

    catalog/config/versions -> core -> k8s -> areas -> platform -> stacks

A module may import its own layer or lower ones. The plan engine (gpu_platform.plan) is generic:
it imports only itself and gpu_platform.config (ConfigError), and is told the domain through a
PlanPolicy. No runtime module imports the test harness (gpu_platform.testing), which is a consumer
of everything. Imports under ``if TYPE_CHECKING:`` count too: mypy follows them.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "components"

LAYERS: dict[str, int] = {
    "gpu_platform.catalog": 0,
    "gpu_platform.config": 0,
    "gpu_platform.versions": 0,
    "gpu_platform.versions_report": 0,  # the pins as a dated report (gpu-platform versions)
    "gpu_platform.core": 1,
    "gpu_platform.k8s": 2,
    # areas
    "gpu_platform.aws": 3,
    "gpu_platform.gpu": 3,
    "gpu_platform.training": 3,
    "gpu_platform.serving": 3,
    "gpu_platform.storage": 3,
    "gpu_platform.network": 3,
    "gpu_platform.workloads": 3,  # wiring shared by training and serving workloads
    # platform: the composition, and this library's plan policy
    "gpu_platform.environment": 4,
    "gpu_platform.platform": 4,
    "gpu_platform.policy": 4,
    "gpu_platform.readiness": 4,  # the platform's readiness rules over whole environments
    "gpu_platform.monitoring": 4,  # scrape paths for every area's workloads: composes across areas
}
LAYER_NAMES = ("catalog/config", "core", "k8s", "areas", "platform")
ENGINE = "gpu_platform.plan"
HARNESS = "gpu_platform.testing"
ENGINE_MAY_IMPORT = ("gpu_platform.plan", "gpu_platform.config")

# Violations known and accepted: none. Any import against the layers fails.
KNOWN_VIOLATIONS: frozenset[tuple[str, str]] = frozenset()


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("gpu_platform", *parts))


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path) -> set[str]:
    """Every gpu_platform module ``path`` imports (relative imports resolved)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            # "from gpu_platform import policy" imports the module gpu_platform.policy
            found.update(f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES)
    return {m for m in found if m == "gpu_platform" or m.startswith("gpu_platform.")}


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def layer_of(module: str) -> int | None:
    for prefix, layer in LAYERS.items():
        if within(module, prefix):
            return layer
    return None


def violations(module: str, imported: set[str]) -> list[str]:
    """Why each import of ``module`` breaks the layering (empty when none does)."""
    found = []
    for target in sorted(imported):
        if target == "gpu_platform" or within(target, module):
            continue
        if within(target, HARNESS) and not within(module, HARNESS):
            found.append(f"{module} imports the test harness {target}")
        elif within(module, ENGINE):
            if not any(within(target, allowed) for allowed in ENGINE_MAY_IMPORT):
                found.append(f"the plan engine module {module} imports the domain module {target}")
        elif within(module, HARNESS):
            continue  # the harness may use anything
        else:
            own, theirs = layer_of(module), layer_of(target)
            if own is not None and theirs is not None and theirs > own:
                found.append(
                    f"{module} ({LAYER_NAMES[own]}) imports {target} ({LAYER_NAMES[theirs]}), "
                    "a higher layer"
                )
    return found


def test_every_module_has_a_layer():
    unplaced = [
        m for m in MODULES
        if m != "gpu_platform" and layer_of(m) is None
        and not within(m, ENGINE) and not within(m, HARNESS)
    ]
    assert unplaced == [], "add these modules to LAYERS in tests/test_layering.py"


def test_no_new_layering_violations():
    found = {
        (module, target)
        for module, path in MODULES.items()
        for target in imports_of(path)
        if violations(module, {target})
    }
    new = sorted(found - KNOWN_VIOLATIONS)
    assert [violations(m, {t})[0] for m, t in new] == []
    fixed = sorted(KNOWN_VIOLATIONS - found)
    assert fixed == [], f"fixed, remove from KNOWN_VIOLATIONS: {fixed}"


@pytest.mark.parametrize(("module", "imported", "expected"), [
    ("gpu_platform.core.names", {"gpu_platform.k8s.addon"},
     ["gpu_platform.core.names (core) imports gpu_platform.k8s.addon (k8s), a higher layer"]),
    ("gpu_platform.k8s.addon", {"gpu_platform.core.names", "gpu_platform.versions"}, []),
    ("gpu_platform.training.kueue", {"gpu_platform.network.operator"}, []),  # areas side by side
    ("gpu_platform.gpu.operator", {"gpu_platform.platform"},
     ["gpu_platform.gpu.operator (areas) imports gpu_platform.platform (platform), a higher layer"]),
    ("gpu_platform.plan.cost", {"gpu_platform.catalog.instances"},
     ["the plan engine module gpu_platform.plan.cost imports the domain module "
      "gpu_platform.catalog.instances"]),
    ("gpu_platform.plan.safety", {"gpu_platform.testing.conformance"},
     ["gpu_platform.plan.safety imports the test harness gpu_platform.testing.conformance"]),
    ("gpu_platform.policy", {"gpu_platform.testing"},
     ["gpu_platform.policy imports the test harness gpu_platform.testing"]),
    ("gpu_platform.testing.security", {"gpu_platform.serving.runtimes"}, []),
])
def test_the_rules_catch_what_they_must(module, imported, expected):
    assert violations(module, imported) == expected


def test_imports_are_read_in_every_form(tmp_path, monkeypatch):
    module = tmp_path / "components" / "core" / "fake.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "import gpu_platform.catalog.gpus\n"
        "from . import names\n"
        "from ..k8s.addon import operator_install\n"
        "from gpu_platform import policy\n"
        "if TYPE_CHECKING:\n"
        "    from gpu_platform.testing import fixtures\n"
    )
    monkeypatch.setitem(globals(), "PACKAGE", tmp_path / "components")
    assert imports_of(module) == {
        "gpu_platform.catalog.gpus", "gpu_platform.core", "gpu_platform.core.names",
        "gpu_platform.k8s.addon", "gpu_platform", "gpu_platform.policy", "gpu_platform.testing",
        "gpu_platform.testing.fixtures",
    }


def test_the_runtime_imports_without_the_testing_extra():
    # every module outside gpu_platform.testing, in a fresh interpreter where the testing extra's
    # packages cannot be imported (as after a plain `pip install gpu-platform`)
    runtime = sorted(m for m in MODULES if not within(m, HARNESS))
    script = (
        "import sys, importlib\n"
        "for blocked in ('pytest', 'jsonschema', 'kubernetes_validate', 'referencing', 'hypothesis'):\n"
        "    sys.modules[blocked] = None\n"
        f"for name in {runtime!r}:\n"
        "    importlib.import_module(name)\n"
        "print(len([m for m in sys.modules if m.startswith('gpu_platform.testing')]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"

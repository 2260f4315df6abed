"""pytest fixtures for testing Pulumi programs and components offline (``gpu-platform[testing]``).

Enable them in a ``conftest.py`` with ``pytest_plugins = ["gpu_platform.testing.fixtures"]``.
They work in any project, not only this repository:

- The project under test is the folder with its ``Pulumi.yaml``: the ini option
  ``pulumi_project_dir`` (relative to pytest's rootdir) when set, else the nearest folder at or
  above the rootdir that holds a ``Pulumi.yaml``. Override the ``pulumi_project_dir`` fixture for
  anything else. Its project name is read from that ``Pulumi.yaml``.
- ``plan_env(stack, project_dir=..., secrets=..., overrides=..., invokes=...)`` runs the
  project's real program for one stack with its ``Pulumi.<stack>.yaml``; unmodified stacks are
  planned once per session and shared.
- ``run_component(fn, project=..., stack=..., config=..., config_namespace=...)`` runs ``fn``
  (which declares resources) under the mock runtime in a fresh root stack and returns the
  captured ``Plan``. ``config`` is a ``StackConfig`` or a plain ``{"key": value}`` mapping, put in
  ``config_namespace`` (default: the project name, as ``pulumi.Config()`` reads it).
- ``refused(lambda: Foo("f", bad_args))`` asserts a ``ConfigError`` with nothing registered.
- ``conformance`` validates rendered objects and Helm values against the upstream schemas
  folder (``conformance.check_plan(plan)`` / ``assert_plan(plan)`` for a whole plan); tests using
  it are skipped, with the reason, where that folder is absent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from gpu_platform.config import ConfigError
from gpu_platform.plan.capture import CapturingMonitor, InvokeAnswer, PlanMocks
from gpu_platform.plan.model import Plan
from gpu_platform.plan.runner import (
    StackConfig,
    available_stacks,
    load_project,
    plan_stack,
    run_program,
)
from gpu_platform.testing.conformance import Conformance, upstream_root

INI_PROJECT_DIR = "pulumi_project_dir"
DEFAULT_PROJECT = "project"  # run_component's project name where no Pulumi.yaml is found

# The project under test, set once per pytest session (pytest_configure).
_session: dict[str, Path | None] = {}


# --- the project under test ---------------------------------------------------------------------


def find_project_dir(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding a ``Pulumi.yaml``."""
    for folder in (start, *start.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    return None


def project_dir() -> Path:
    """The project this test session plans (see the module docstring for how it is found)."""
    found = _session.get("project_dir") if _session else find_project_dir(Path.cwd())
    if found is None:
        raise LookupError(
            "no Pulumi.yaml at or above pytest's rootdir: set the ini option "
            f"{INI_PROJECT_DIR} = <folder with Pulumi.yaml>, or override the pulumi_project_dir fixture"
        )
    return found


def project_name(folder: Path | None = None) -> str:
    """The ``name`` in the project's ``Pulumi.yaml``."""
    return str(load_project(folder or project_dir())["name"])


def stacks(folder: Path | None = None) -> list[str]:
    """Every stack with a ``Pulumi.<stack>.yaml`` in the project's stack config folder."""
    return available_stacks(folder or project_dir())


def __getattr__(name: str) -> Any:
    # PROJECT_DIR / ENVIRONMENTS: this session's project and its stacks (not this file's location)
    if name == "PROJECT_DIR":
        return project_dir()
    if name == "ENVIRONMENTS":
        return tuple(stacks())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        INI_PROJECT_DIR,
        "folder with the Pulumi.yaml the gpu_platform.testing fixtures plan (default: the nearest "
        "at or above rootdir)",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    configured = str(config.getini(INI_PROJECT_DIR) or "")
    root = Path(config.rootpath)
    if configured:
        folder = (root / configured).resolve()
        if not (folder / "Pulumi.yaml").is_file():
            raise pytest.UsageError(f"{INI_PROJECT_DIR} = {configured}: no Pulumi.yaml in {folder}")
        _session["project_dir"] = folder
    else:
        _session["project_dir"] = find_project_dir(root)


@pytest.fixture(scope="session")
def pulumi_project_dir() -> Path:
    """The project ``plan_env`` plans; override in a conftest.py to plan another folder."""
    return project_dir()


# --- running programs and components --------------------------------------------------------------


def component_config(values: Mapping[str, Any], namespace: str | None = None) -> StackConfig:
    """A ``StackConfig`` from ``{"key": value}`` pairs in ``namespace`` (default: the name of the
    project under test, the namespace ``pulumi.Config()`` reads)."""
    namespace = namespace or project_name()
    return StackConfig(
        {
            f"{namespace}:{key}": value if isinstance(value, str) else json.dumps(value)
            for key, value in values.items()
        }
    )


def _default_project() -> str:
    try:
        return project_name()
    except LookupError:
        return DEFAULT_PROJECT


@pytest.fixture
def run_component() -> Callable[..., Plan]:
    def run(
        fn: Callable[[], Any],
        *,
        project: str | None = None,
        stack: str = "test",
        config: StackConfig | Mapping[str, Any] | None = None,
        config_namespace: str | None = None,
        invokes: Mapping[str, InvokeAnswer] | None = None,
    ) -> Plan:
        project = project or _default_project()
        if isinstance(config, StackConfig):
            if config_namespace is not None:
                raise TypeError("config_namespace applies to a {key: value} config, not a StackConfig")
        elif config is not None:
            config = component_config(config, config_namespace or project)
        return run_program(fn, project=project, stack=stack, config=config, invokes=invokes)

    return run


def refusal(build: Callable[[], Any], *, project: str | None = None) -> ConfigError:
    """Run ``build`` (which constructs a component with bad args) under mocks; assert it raises
    ``ConfigError`` before any resource is registered, and return the error for its message."""
    monitor = CapturingMonitor(PlanMocks())
    with pytest.raises(ConfigError) as caught:
        run_program(build, project=project or _default_project(), stack="refusal", monitor=monitor)
    registered = sorted(monitor.registrations)
    assert registered == [], f"registered before the error: {registered}"
    return caught.value


@pytest.fixture
def refused() -> Callable[..., ConfigError]:
    """``refused(lambda: X("x", bad_args))``: the ConfigError, with nothing registered first."""
    return refusal


_PLANS: dict[tuple[Path, str], Plan] = {}


@pytest.fixture
def plan_env(pulumi_project_dir: Path) -> Callable[..., Plan]:
    def plan(
        stack: str,
        *,
        project_dir: Path | None = None,
        secrets: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
        invokes: Mapping[str, InvokeAnswer] | None = None,
    ) -> Plan:
        folder = Path(project_dir or pulumi_project_dir).resolve()
        if secrets or overrides or invokes:
            return plan_stack(stack, folder, secrets=secrets, overrides=overrides, invokes=invokes)
        if (folder, stack) not in _PLANS:
            _PLANS[(folder, stack)] = plan_stack(stack, folder)
        return _PLANS[(folder, stack)]

    return plan


@pytest.fixture(scope="session")
def conformance() -> Iterator[Conformance]:
    root = upstream_root()
    if root is None:
        pytest.skip("no shared/upstream folder found (set GPU_PLATFORM_UPSTREAM): upstream schemas "
                    "and chart values unavailable")
    yield Conformance(root)

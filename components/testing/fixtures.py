"""pytest fixtures for testing components and whole environments offline.

Enable them in a ``conftest.py`` with ``pytest_plugins = ["gpu_platform.testing.fixtures"]``.

- ``run_component(fn)`` runs ``fn`` (which declares resources) under the mock runtime in a fresh
  root stack and returns the captured ``Plan``.
- ``plan_env(name, secrets=..., overrides=...)`` runs this project's real stack program for one
  environment with its ``stacks/Pulumi.<name>.yaml``; unmodified environments are planned once
  per session and shared.
- ``conformance`` validates rendered objects and Helm values against ``../shared/upstream``;
  tests using it are skipped, with the reason, where that folder is absent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from gpu_platform.config import ConfigError
from gpu_platform.plan.capture import CapturingMonitor, PlanMocks
from gpu_platform.plan.model import Plan
from gpu_platform.plan.runner import StackConfig, plan_stack, run_program

PROJECT_DIR = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("dev", "staging", "prod", "onprem")


def component_config(values: Mapping[str, Any], namespace: str = "gpu-platform") -> StackConfig:
    """A StackConfig from ``{"key": value}`` pairs in ``namespace`` (for component tests)."""
    return StackConfig(
        {
            f"{namespace}:{key}": value if isinstance(value, str) else json.dumps(value)
            for key, value in values.items()
        }
    )


@pytest.fixture
def run_component() -> Callable[..., Plan]:
    def run(fn: Callable[[], Any], *, config: StackConfig | None = None, stack: str = "test") -> Plan:
        return run_program(fn, project="gpu-platform", stack=stack, config=config)

    return run


def refusal(build: Callable[[], Any], *, project: str = "project") -> ConfigError:
    """Run ``build`` (which constructs a component with bad args) under mocks; assert it raises
    ``ConfigError`` before any resource is registered, and return the error for its message."""
    monitor = CapturingMonitor(PlanMocks())
    with pytest.raises(ConfigError) as caught:
        run_program(build, project=project, stack="refusal", monitor=monitor)
    registered = sorted(monitor.registrations)
    assert registered == [], f"registered before the error: {registered}"
    return caught.value


@pytest.fixture
def refused() -> Callable[..., ConfigError]:
    """``refused(lambda: X("x", bad_args))``: the ConfigError, with nothing registered first."""
    return refusal


_ENV_CACHE: dict[str, Plan] = {}


@pytest.fixture
def plan_env() -> Callable[..., Plan]:
    def plan(
        name: str,
        *,
        secrets: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> Plan:
        if secrets or overrides:
            return plan_stack(name, PROJECT_DIR, secrets=secrets, overrides=overrides)
        if name not in _ENV_CACHE:
            _ENV_CACHE[name] = plan_stack(name, PROJECT_DIR)
        return _ENV_CACHE[name]

    return plan


@pytest.fixture(scope="session")
def conformance():
    from gpu_platform.testing.conformance import Conformance, upstream_root

    root = upstream_root()
    if root is None:
        pytest.skip("../shared/upstream is absent: upstream schemas and chart values unavailable")
    return Conformance(root)

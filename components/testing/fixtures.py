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

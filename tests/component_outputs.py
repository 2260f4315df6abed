"""Helpers for the component contract's output tests.

The plan records what each component passes to ``register_outputs`` (``Registration.outputs``,
secrets masked, their paths in ``output_secret_paths``); these run a program for module-scoped
fixtures and resolve a component's typed Output attributes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

from gpu_platform.plan.model import Plan
from gpu_platform.plan.runner import run_program


def run_program_plan(program: Callable[[], Any], *, config: Any = None) -> Plan:
    """The plan of ``program`` in a fresh root stack (for module-scoped fixtures)."""
    return run_program(program, project="gpu-platform", stack="test", config=config)


def resolved_outputs(
    run_component: Callable[..., Any], build: Callable[[], Any], *names: str
) -> dict[str, Any]:
    """Build a component with ``build`` under mocks; its Output attributes ``names``, resolved.
    An attribute is an Output, or a mapping of keys to Outputs (``Serving.urls``)."""
    got: dict[str, Any] = {}

    def typed(value: Any) -> bool:
        if isinstance(value, dict):
            return all(isinstance(item, pulumi.Output) for item in value.values())
        return isinstance(value, pulumi.Output)

    def program() -> None:
        component = build()
        outputs = [getattr(component, name) for name in names]
        assert all(typed(output) for output in outputs), names
        pulumi.Output.all(*map(pulumi.Output.from_input, outputs)).apply(
            lambda values: got.update(zip(names, values, strict=True)))

    run_component(program)
    assert sorted(got) == sorted(names), "outputs did not resolve"
    return got

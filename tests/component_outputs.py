"""What components pass to ``register_outputs``, captured under the mock runtime.

The plan (``gpu_platform.plan``) records only the root stack's outputs; this monitor records
every component's, so tests can assert that each typed output is registered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
from google.protobuf import json_format

from gpu_platform.plan.capture import CapturingMonitor, PlanMocks, scrub
from gpu_platform.plan.model import Plan
from gpu_platform.plan.runner import run_program


class OutputsMonitor(CapturingMonitor):
    def __init__(self) -> None:
        super().__init__(PlanMocks())
        self.component_outputs: dict[str, dict[str, Any]] = {}
        self.component_secrets: dict[str, list[str]] = {}

    def RegisterResourceOutputs(self, request):  # noqa: N802 - gRPC method name
        secrets: list[str] = []
        self.component_outputs[request.urn] = scrub(json_format.MessageToDict(request.outputs), "", secrets)
        self.component_secrets[request.urn] = secrets
        return super().RegisterResourceOutputs(request)


def run_with_outputs(program: Callable[[], Any], *, config: Any = None) -> tuple[Plan, OutputsMonitor]:
    """The plan of ``program`` and the monitor holding each component's registered outputs."""
    monitor = OutputsMonitor()
    plan = run_program(program, project="gpu-platform", stack="test", config=config, monitor=monitor)
    return plan, monitor


def outputs_of(monitor: OutputsMonitor, plan: Plan, type_: str, name: str) -> dict[str, Any]:
    """The outputs the component ``name`` of ``type_`` registered."""
    return monitor.component_outputs[plan.one(type_, name).urn]


def secret_outputs_of(monitor: OutputsMonitor, plan: Plan, type_: str, name: str) -> list[str]:
    return monitor.component_secrets[plan.one(type_, name).urn]


def resolved_outputs(
    run_component: Callable[..., Any], build: Callable[[], Any], *names: str
) -> dict[str, Any]:
    """Build a component with ``build`` under mocks; its Output attributes ``names``, resolved."""
    got: dict[str, Any] = {}

    def program() -> None:
        component = build()
        outputs = [getattr(component, name) for name in names]
        assert all(isinstance(output, pulumi.Output) for output in outputs), names
        pulumi.Output.all(*outputs).apply(lambda values: got.update(zip(names, values, strict=True)))

    run_component(program)
    assert sorted(got) == sorted(names), "outputs did not resolve"
    return got

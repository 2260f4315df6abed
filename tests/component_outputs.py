"""Resolving a component's typed Output attributes under the mock runtime (training, network)."""

from collections.abc import Callable
from typing import Any

import pulumi


def outputs_of(run_component: Callable[..., Any], build: Callable[[], Any], *names: str) -> dict[str, Any]:
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

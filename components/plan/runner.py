"""Run a Pulumi program offline under the SDK's mock runtime and return what it would create.

``run_program`` runs any Python Pulumi program function the way the language host does
(``run_in_stack``: a root stack, the program, then its outputs), against a ``CapturingMonitor``.
``plan_stack`` runs this project's (or any project's) real stack program for one stack, with the
config from its ``Pulumi.<stack>.yaml``. Secure config values cannot be decrypted offline; each
is replaced by a placeholder (or by a value the caller supplies) and stays marked secret.
"""

from __future__ import annotations

import json
import runpy
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi.runtime import config as pulumi_config
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.mocks import MockEngine, MockSettings
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from gpu_platform.config.yamlio import safe_load
from gpu_platform.plan.capture import CapturingMonitor, InvokeAnswer, PlanMocks
from gpu_platform.plan.model import Plan

SECRET_PLACEHOLDER = "offline-plan-secret"


class PlanSetupError(RuntimeError):
    """The project or stack files could not be read (a user error, reported without traceback)."""


@dataclass(frozen=True)
class StackConfig:
    """A stack's config as the engine passes it to a program: flat keys, string values."""

    values: dict[str, str] = field(default_factory=dict)
    secret_keys: frozenset[str] = frozenset()


def run_program(
    program: Callable[[], Any],
    *,
    project: str = "project",
    stack: str = "stack",
    config: StackConfig | None = None,
    invokes: Mapping[str, InvokeAnswer] | None = None,
    preview: bool = True,
    monitor: CapturingMonitor | None = None,
) -> Plan:
    """Run ``program`` under mocks and capture every registration, option and stack output.

    Each call starts a fresh root stack, so runs never leak into each other. Pass ``monitor``
    to inspect what was registered even when the program fails.
    """
    config = config or StackConfig()
    monitor = monitor or CapturingMonitor(PlanMocks(invokes))
    pulumi_settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi_settings.configure(
        MockSettings(
            monitor=monitor,
            monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
            engine=MockEngine(None),
            project=project,
            stack=stack,
            dry_run=preview,
            organization="organization",
            callbacks=None,
        )
    )
    pulumi_config.set_all_config(dict(config.values), list(config.secret_keys))
    try:
        _sync_await(run_in_stack(program))
    finally:
        pulumi_settings.set_root_resource(None)  # type: ignore[arg-type]
    return Plan.from_monitor(project, stack, monitor)


def load_project(project_dir: Path) -> dict[str, Any]:
    path = project_dir / "Pulumi.yaml"
    if not path.is_file():
        raise PlanSetupError(f"no Pulumi.yaml in {project_dir}")
    return safe_load(path.read_text()) or {}


def stack_config_path(project_dir: Path, stack: str) -> Path:
    project = load_project(project_dir)
    config_dir = project_dir / project.get("stackConfigDir", ".")
    return config_dir / f"Pulumi.{stack}.yaml"


def available_stacks(project_dir: Path) -> list[str]:
    config_dir = stack_config_path(project_dir, "x").parent
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in config_dir.glob("Pulumi.*.yaml"))


def load_stack_config(
    path: Path, secrets: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> StackConfig:
    """Flatten a ``Pulumi.<stack>.yaml`` into the engine's config form.

    ``secrets`` supplies plaintext for secure keys (tests plant fixture values this way);
    ``overrides`` replaces whole keys (``"project:key"``) with other values.
    """
    document = safe_load(path.read_text()) or {}
    raw = dict(document.get("config") or {})
    raw.update(overrides or {})
    values: dict[str, str] = {}
    secret_keys: set[str] = set()
    for key, value in raw.items():
        plain, had_secret = _decrypt(value, (secrets or {}).get(key))
        if had_secret:
            secret_keys.add(key)
        values[key] = plain if isinstance(plain, str) else json.dumps(plain)
    return StackConfig(values, frozenset(secret_keys))


def _decrypt(value: Any, supplied: Any) -> tuple[Any, bool]:
    """Replace ``{secure: ...}`` values (at any depth) with supplied or placeholder plaintext."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        return (supplied if supplied is not None else SECRET_PLACEHOLDER), True
    if isinstance(value, dict):
        found = False
        result = {}
        for key, item in value.items():
            nested = supplied.get(key) if isinstance(supplied, Mapping) else None
            result[key], secret = _decrypt(item, nested)
            found = found or secret
        return result, found
    if isinstance(value, list):
        items = [_decrypt(item, None) for item in value]
        return [item for item, _ in items], any(secret for _, secret in items)
    return value, False


def plan_stack(
    stack: str,
    project_dir: Path,
    *,
    secrets: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    invokes: Mapping[str, InvokeAnswer] | None = None,
    config_path: Path | None = None,
) -> Plan:
    """Run the project's real program for ``stack`` with that stack's config file (or the
    config file ``config_path``, e.g. ``gpu-platform plan --config FILE``)."""
    project = load_project(project_dir)
    config_path = config_path or stack_config_path(project_dir, stack)
    if not config_path.is_file():
        known = ", ".join(available_stacks(project_dir)) or "none"
        raise PlanSetupError(f"no stack config {config_path} (stacks: {known})")
    config = load_stack_config(config_path, secrets, overrides)
    main = project_dir / project.get("main", ".")
    entry = main / "__main__.py" if main.is_dir() else main
    if not entry.is_file():
        raise PlanSetupError(f"program {entry} not found (Pulumi.yaml 'main')")

    def program() -> None:
        sys.path.insert(0, str(entry.parent))
        try:
            runpy.run_path(str(entry), run_name="__main__")
        finally:
            sys.path.remove(str(entry.parent))

    return run_program(program, project=project["name"], stack=stack, config=config, invokes=invokes)


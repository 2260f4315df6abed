"""Reading a stack's config into a typed model.

The engine hands a program its config as flat ``"<namespace>:<key>"`` strings (structured values
as JSON). ``read_namespace`` gathers every key of one namespace, so that a key the model does not
know is reported as an error instead of being ignored, and refuses every key in a namespace nobody
reads (``gpu-platfrom:gpuAlerts``), the same check the CLI makes on the stack file
(``gpu_platform.config.namespaces``), so ``pulumi up`` fails as ``gpu-platform plan`` does.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
from pulumi.runtime import config as pulumi_config

from gpu_platform.config.errors import ConfigError, ConfigIssue
from gpu_platform.config.namespaces import key_problems


def all_config_keys() -> list[str]:
    """Every config key the engine passed to this program (all namespaces)."""
    return sorted(set(pulumi_config.CONFIG.get()) | set(pulumi_config.get_config_env()))


def config_keys(namespace: str) -> list[str]:
    """Every config key of ``namespace`` that the engine passed to this program."""
    return [key for key in all_config_keys() if key.partition(":")[0] == namespace]


def namespace_issues(project: str, keys: list[str] | None = None) -> list[ConfigIssue]:
    """One issue per config key outside the known namespaces (the project's, ``pulumi``, providers')."""
    problems = key_problems(all_config_keys() if keys is None else keys, project)
    return [ConfigIssue(key, problem) for key, problem in problems.items()]


def read_namespace(namespace: str) -> tuple[dict[str, Any], set[str]]:
    """The namespace's config as a dict of parsed values, and which of its keys are secret.

    ``namespace`` is the program's own (the project name): a key in any namespace that neither
    the program, a provider nor Pulumi reads raises ``ConfigError`` here.
    """
    problems = namespace_issues(namespace)
    if problems:
        raise ConfigError(problems, source=f"configuration of stack '{pulumi.get_stack()}' (config keys)")
    data: dict[str, Any] = {}
    secret: set[str] = set()
    for full_key in config_keys(namespace):
        key = full_key.partition(":")[2]
        data[key] = _parse(pulumi_config.get_config(full_key))
        if pulumi_config.is_config_secret(full_key):
            secret.add(key)
    return data, secret


def _parse(raw: Any) -> Any:
    # Structured config arrives as JSON text; plain strings stay strings ("us-east-1").
    if not isinstance(raw, str):
        return raw
    stripped = raw.strip()
    if stripped[:1] in ("{", "[") or stripped in ("true", "false", "null") or _is_number(stripped):
        try:
            return json.loads(stripped)
        except ValueError:
            return raw
    return raw


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True

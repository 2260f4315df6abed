"""Reading a stack's config into a typed model.

The engine hands a program its config as flat ``"<namespace>:<key>"`` strings (structured values
as JSON). ``read_namespace`` gathers every key of one namespace, so that a key the model does not
know is reported as an error instead of being ignored.
"""

from __future__ import annotations

import json
from typing import Any

from pulumi.runtime import config as pulumi_config


def config_keys(namespace: str) -> list[str]:
    """Every config key of ``namespace`` that the engine passed to this program."""
    keys = set(pulumi_config.CONFIG.get()) | set(pulumi_config.get_config_env())
    return sorted(key for key in keys if key.partition(":")[0] == namespace)


def read_namespace(namespace: str) -> tuple[dict[str, Any], set[str]]:
    """The namespace's config as a dict of parsed values, and which of its keys are secret."""
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

"""Planted secret values never appear in plan.json, manifests, outputs or logs.

Every `secure:` value in every stack file is replaced by a distinct fixture value; the plan must
use them (the secret inputs are there, marked secret) and reveal none of them.
"""

import io
import logging
from pathlib import Path

import pytest
import yaml

from gpu_platform.plan.render import print_summary, print_tree, write_plan
from gpu_platform.plan.runner import SECRET_PLACEHOLDER, load_stack_config, stack_config_path
from gpu_platform.testing.fixtures import ENVIRONMENTS, PROJECT_DIR


def plant(value, found):
    """The same structure with each `{secure: ...}` replaced by a new fixture value."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        found.append(f"fixture-secret-{len(found):02d}-9c1e")
        return found[-1]
    if isinstance(value, dict):
        return {k: plant(v, found) for k, v in value.items()}
    if isinstance(value, list):
        return [plant(v, found) for v in value]
    return value


def planted(env):
    config = yaml.safe_load(stack_config_path(PROJECT_DIR, env).read_text())["config"]
    values: list[str] = []
    secrets = {key: plant(value, values) for key, value in config.items()}
    return {k: v for k, v in secrets.items() if v != config[k]}, values


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_planted_secrets_appear_nowhere(plan_env, env, tmp_path, caplog):
    secrets, values = planted(env)
    assert values, f"{env} has no secure config (the storage credentials should be there)"
    with caplog.at_level(logging.DEBUG):
        plan = plan_env(env, secrets=secrets)
    out_dir = write_plan(plan, tmp_path)[0].parent
    written = "\n".join(p.read_text() for p in Path(out_dir).rglob("*") if p.is_file())
    console = io.StringIO()
    print_tree(plan, console)
    print_summary(plan, console)
    everything = written + console.getvalue() + caplog.text + repr(plan.outputs)
    for value in [*values, SECRET_PLACEHOLDER]:
        assert value not in everything
    # the values did reach the program: secret inputs exist, marked secret
    assert any(r.secret_paths for r in plan)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_planted_values_reach_the_config_as_secret_keys(env):
    secrets, values = planted(env)
    config = load_stack_config(stack_config_path(PROJECT_DIR, env), secrets)
    for key in secrets:
        assert key in config.secret_keys
    flat = " ".join(config.values.values())
    assert all(value in flat for value in values)

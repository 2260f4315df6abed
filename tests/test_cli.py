"""`gpu-platform plan` end to end, as a newcomer runs it."""

import json
import shutil
import subprocess
import sys

import pytest
import yaml
from readiness_baseline import REMAINING

from gpu_platform.testing.fixtures import ENVIRONMENTS, PROJECT_DIR


def run_cli(*args, cwd=PROJECT_DIR):
    return subprocess.run(
        [sys.executable, "-m", "gpu_platform.plan.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture
def project_copy(tmp_path):
    """This project's program and Pulumi.yaml, with stack configs the test writes."""
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "stacks").mkdir()
    shutil.copy(PROJECT_DIR / "stacks" / "__main__.py", tmp_path / "stacks" / "__main__.py")
    return tmp_path


def write_stack(project, name, config):
    path = project / "stacks" / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump({"config": config}))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_plan_writes_plan_json_and_manifests(env, tmp_path):
    result = run_cli("plan", env, "--out", str(tmp_path))
    # exit 3 while readiness errors remain (tests/readiness_baseline.py)
    assert result.returncode == (3 if REMAINING[env] else 0), result.stderr
    assert f"gpu-platform/{env}" in result.stdout
    assert "gpu-platform:index:Platform" in result.stdout
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["project"] == "gpu-platform" and plan["stack"] == env
    assert set(plan["resources"][0]) == {
        "urn", "type", "name", "custom", "parent", "provider", "dependencies", "inputs",
        "protect", "retain_on_delete", "delete_before_replace", "aliases",
    }
    assert (tmp_path / "manifests").is_dir()


def test_default_output_folder_is_build_env(project_copy):
    write_stack(project_copy, "dev", {"gpu-platform:cluster": {"kind": "existing"}})
    result = run_cli("plan", "dev", "--quiet", cwd=project_copy)
    assert result.returncode == 0, result.stderr
    assert (project_copy / "build" / "dev" / "plan.json").is_file()
    assert (project_copy / "build" / "dev" / "manifests").is_dir()


def test_invalid_config_exits_2_with_one_line_per_error_and_no_traceback(project_copy):
    write_stack(project_copy, "bad", {
        "gpu-platform:cluster": {"kind": "existing", "contxt": "x"},
        "gpu-platform:gpuPools": {
            "a": {"role": "training", "gpu": {"model": "A10G", "count": "two"}, "minSize": -1},
        },
    })
    result = run_cli("plan", "bad", cwd=project_copy)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.splitlines() == [
        "error: invalid configuration of stack 'bad' (gpu-platform:*) (3 errors):",
        "  - cluster.contxt: unknown key; did you mean 'context'? allowed keys: context, kind, "
        "kubeconfig, networkPolicyEnforced, storageClasses",
        "  - gpuPools.a.gpu.count: must be a whole number (got \"two\")",
        "  - gpuPools.a.minSize: must be >= 0 (got -1)",
    ]
    assert not (project_copy / "build").exists()


def test_unknown_stack_is_a_clear_error(project_copy):
    write_stack(project_copy, "dev", {"gpu-platform:cluster": {"kind": "existing"}})
    result = run_cli("plan", "prdo", cwd=project_copy)
    assert result.returncode == 1
    assert "no stack config" in result.stderr and "(stacks: dev)" in result.stderr
    assert "Traceback" not in result.stderr


def test_plan_writes_findings_and_exits_3_on_readiness_errors(project_copy, tmp_path):
    write_stack(project_copy, "lab", {
        "gpu-platform:cluster": {"kind": "existing"},
        "gpu-platform:monitoring": {"installPrometheusStack": True, "storageSize": "10Gi"},
    })
    result = run_cli("plan", "lab", "--quiet", "--out", str(tmp_path), cwd=project_copy)
    assert result.returncode == 3, result.stderr
    assert "Readiness: 1 error(s), 0 warning(s)" in result.stdout
    assert "chart contents were not analysed (only their values); render them with --charts DIR" \
        in result.stdout
    findings = json.loads((tmp_path / "plan.json").read_text())["findings"]
    assert findings == [{
        "rule": "storage", "severity": "error",
        "resource": "helm/monitoring/kube-prometheus-stack "
                    "values.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate",
        "message": "names no StorageClass and the cluster has no default one: it stays Pending "
                   "(create a default class, or declare the cluster's in cluster.storageClasses)",
    }]
    # the user declares the cluster's default class: ready
    write_stack(project_copy, "lab", {
        "gpu-platform:cluster": {"kind": "existing", "storageClasses": {
            "local-path": {"provisioner": "rancher.io/local-path", "default": True}}},
        "gpu-platform:monitoring": {"installPrometheusStack": True, "storageSize": "10Gi"},
    })
    result = run_cli("plan", "lab", "--quiet", "--out", str(tmp_path), cwd=project_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads((tmp_path / "plan.json").read_text())["findings"] == []

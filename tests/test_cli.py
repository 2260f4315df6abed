"""`gpu-platform plan` end to end, as a newcomer runs it."""

import json
import shutil
import subprocess
import sys

import pytest
import yaml

from gpu_platform.testing.fixtures import project_dir, stacks

PROJECT_DIR = project_dir()
ENVIRONMENTS = stacks()


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
    # every environment is ready (exit 3 would name a readiness error)
    assert result.returncode == 0, result.stdout + result.stderr
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


def test_help_documents_commands_options_and_exit_codes():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "Plan any Pulumi Python project offline" in result.stdout
    assert "exit codes:" in result.stdout
    for code in ("0  planned", "1  the project or stack could not be read", "2  invalid configuration",
                 "3  the plan is not ready to deploy"):
        assert code in result.stdout
    plan_help = run_cli("plan", "--help").stdout
    for option in ("--config FILE", "--project-dir DIR", "--out DIR", "--quiet"):
        assert option in plan_help
    assert "Traceback" not in plan_help and '"""' not in result.stdout


def test_version():
    from importlib.metadata import version

    result = run_cli("--version")
    assert (result.returncode, result.stdout) == (0, f"gpu-platform {version('gpu-platform')}\n")


def test_quiet_prints_one_line(tmp_path):
    result = run_cli("plan", "dev", "--quiet", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    plan = json.loads((tmp_path / "plan.json").read_text())
    count = len(list((tmp_path / "manifests").glob("*.yaml")))
    assert result.stdout.splitlines() == [
        f"gpu-platform/dev: {len(plan['resources'])} resources; wrote {tmp_path}/plan.json and {count} "
        f"manifests in {tmp_path}/manifests"
    ]


def test_closed_pipe_is_no_error_and_the_plan_is_still_written(tmp_path):
    # `gpu-platform plan dev | head`: the reader is gone before the tree is printed
    proc = subprocess.Popen(
        [sys.executable, "-m", "gpu_platform.plan.cli", "plan", "dev", "--out", str(tmp_path)],
        cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    assert json.loads((tmp_path / "plan.json").read_text())["stack"] == "dev"


def test_config_file_beside_the_stack_name(project_copy, tmp_path):
    write_stack(project_copy, "dev", {"gpu-platform:cluster": {"kind": "existing"}})
    other = tmp_path / "elsewhere.yaml"
    other.write_text(yaml.safe_dump({"config": {"gpu-platform:cluster": {"kind": "existing"},
                                                "gpu-platform:gpuAlerts": {"enabled": False}}}))
    result = run_cli("plan", "dev", "--config", str(other), "--quiet", cwd=project_copy)
    assert result.returncode == 0, result.stderr
    plan = json.loads((project_copy / "build" / "dev" / "plan.json").read_text())
    assert plan["stack"] == "dev"
    default = run_cli("plan", "dev", "--quiet", "--out", str(tmp_path / "default"), cwd=project_copy)
    assert default.returncode == 0, default.stderr
    count = len(json.loads((tmp_path / "default" / "plan.json").read_text())["resources"])
    assert len(plan["resources"]) != count  # the file's gpuAlerts switch was read, not Pulumi.dev.yaml's


def test_config_file_names_the_stack(project_copy):
    path = project_copy / "Pulumi.staging.yaml"
    path.write_text(yaml.safe_dump({"config": {"gpu-platform:cluster": {"kind": "existing"}}}))
    result = run_cli("plan", "--config", str(path), "--quiet", cwd=project_copy)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("gpu-platform/staging: ")
    unnamed = project_copy / "cfg.yaml"
    unnamed.write_text(path.read_text())
    refused = run_cli("plan", "--config", str(unnamed), cwd=project_copy)
    assert (refused.returncode, refused.stderr) == (
        1, f"error: {unnamed} is not named Pulumi.<stack>.yaml: give the stack name too\n")


def test_config_file_is_read_strictly(project_copy):
    bad = project_copy / "Pulumi.dev.yaml"
    bad.write_text("config:\n  gpu-platform:cluster: {kind: existing}\n  gpuAlerts: {}\n")
    result = run_cli("plan", "--config", "Pulumi.dev.yaml", cwd=project_copy)
    assert (result.returncode, result.stderr) == (2, (
        "Pulumi.dev.yaml:3:3: 'gpuAlerts' has no namespace (Pulumi reads a stack file's keys as "
        "<namespace>:<name>); did you mean 'gpu-platform:gpuAlerts'?\n"))


def test_project_dir_plans_a_project_elsewhere(project_copy, tmp_path_factory):
    write_stack(project_copy, "dev", {"gpu-platform:cluster": {"kind": "existing"}})
    elsewhere = tmp_path_factory.mktemp("cwd")  # no Pulumi.yaml here or above
    result = run_cli("plan", "dev", "--quiet", "--project-dir", str(project_copy), cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert (project_copy / "build" / "dev" / "plan.json").is_file()
    missing = run_cli("plan", "dev", cwd=elsewhere)
    assert missing.returncode == 1
    assert missing.stderr == (
        f"error: no Pulumi.yaml in {elsewhere} or any folder above it (pass --project-dir)\n")


def test_plan_writes_findings_and_exits_3_on_readiness_errors(project_copy, tmp_path):
    write_stack(project_copy, "lab", {
        "gpu-platform:cluster": {"kind": "existing"},
        "gpu-platform:monitoring": {"installPrometheusStack": True, "storageSize": "10Gi"},
    })
    result = run_cli("plan", "lab", "--out", str(tmp_path), cwd=project_copy)
    assert result.returncode == 3, result.stderr
    assert "Readiness: 1 error(s), 0 warning(s)" in result.stdout
    quiet = run_cli("plan", "lab", "--quiet", "--out", str(tmp_path), cwd=project_copy)
    assert quiet.returncode == 3 and len(quiet.stdout.splitlines()) == 1
    assert "resources; 1 readiness error; wrote" in quiet.stdout
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

"""The pull-request workflow is a valid GitHub workflow and covers every environment."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gpu_platform.testing.fixtures import ENVIRONMENTS, PROJECT_DIR

WORKFLOW = PROJECT_DIR / ".github" / "workflows" / "pull-request.yml"


def check_jsonschema() -> str | None:
    beside = Path(sys.executable).with_name("check-jsonschema")
    return str(beside) if beside.exists() else shutil.which("check-jsonschema")


@pytest.mark.skipif(check_jsonschema() is None, reason="check-jsonschema is not installed")
def test_workflow_validates_against_the_github_workflow_schema():
    # the schema is vendored inside check-jsonschema: no network needed
    result = subprocess.run(
        [check_jsonschema(), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(check_jsonschema() is None, reason="check-jsonschema is not installed")
def test_schema_check_can_fail(tmp_path):
    broken = yaml.safe_load(WORKFLOW.read_text())
    broken["jobs"]["test"]["runs-on"] = {"not": "valid"}
    broken["jobs"]["test"]["timeout-minutes"] = "soon"
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    result = subprocess.run(
        [check_jsonschema(), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True, text=True,
    )
    assert result.returncode != 0


def workflow():
    return yaml.safe_load(WORKFLOW.read_text())


def test_runs_on_every_pull_request():
    assert "pull_request" in workflow()[True]  # YAML 1.1 reads the key `on` as True


def test_runs_the_readme_test_command():
    readme = (PROJECT_DIR / "README.md").read_text()
    test_step = [s["run"] for s in workflow()["jobs"]["test"]["steps"] if s.get("name") == "Tests"]
    assert test_step and test_step[0].strip() in readme


def test_plans_and_diffs_every_environment():
    jobs = workflow()["jobs"]
    script = "\n".join(s.get("run", "") for s in jobs["plan-diff"]["steps"])
    for env in ENVIRONMENTS:
        assert f" {env}" in script.split("for env in", 1)[1].splitlines()[0]
    assert "gpu-platform diff" in script and "GITHUB_STEP_SUMMARY" in script
    assert sorted(jobs["preview"]["strategy"]["matrix"]["stack"]) == sorted(ENVIRONMENTS)


def test_preview_uses_the_official_pulumi_action():
    steps = workflow()["jobs"]["preview"]["steps"]
    pulumi = [s for s in steps if s.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi and pulumi[0]["uses"] == "pulumi/actions@v7"
    assert pulumi[0]["with"]["command"] == "preview"


def test_conformance_runs_against_upstream_fetched_at_the_pins():
    steps = workflow()["jobs"]["test"]["steps"]
    names = [s.get("name") or s.get("uses") for s in steps]
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    fetch = next(s for s in steps if "gpu-platform upstream fetch" in s.get("run", ""))
    # cached by the pins: the key hashes the file that declares them (and the fetch code)
    assert "hashFiles('components/versions.py'" in cache["with"]["key"]
    fetch_dir = fetch["run"].split("gpu-platform upstream fetch ", 1)[1].split(")", 1)[0]
    assert cache["with"]["path"] == fetch_dir
    # the fetched folder reaches the tests through GPU_PLATFORM_UPSTREAM, before they run
    assert 'echo "GPU_PLATFORM_UPSTREAM=$(' in fetch["run"] and '>> "$GITHUB_ENV"' in fetch["run"]
    assert names.index(cache["uses"]) < names.index(fetch["name"]) < names.index("Tests")

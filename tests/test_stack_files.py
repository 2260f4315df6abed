"""Stack files are read strictly: each mistake exits 2 as FILE:LINE:COL with the fix, never a
traceback; the program refuses the same keys under `pulumi up` (it sees every config key)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gpu_platform.config import ConfigError
from gpu_platform.config.loader import read_namespace
from gpu_platform.config.namespaces import key_problem, known_namespaces
from gpu_platform.config.stackfile import StackFileError, read_stack_file
from gpu_platform.environment import load_environment
from gpu_platform.plan.runner import StackConfig, run_program
from gpu_platform.testing.fixtures import PROJECT_DIR

PROD = (PROJECT_DIR / "stacks" / "Pulumi.prod.yaml").read_text()
KNOWN = ", ".join(known_namespaces("gpu-platform"))


@pytest.fixture
def project(tmp_path):
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "stacks").mkdir()
    shutil.copy(PROJECT_DIR / "stacks" / "__main__.py", tmp_path / "stacks" / "__main__.py")
    return tmp_path


def line_of(text, fragment):
    """1-based number of the line containing ``fragment`` (exactly one)."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(found) == 1, (fragment, found)
    return found[0]


def plan_broken_prod(project, replace, by):
    assert PROD.count(replace) == 1
    text = PROD.replace(replace, by)
    (project / "stacks" / "Pulumi.prod.yaml").write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "gpu_platform.plan.cli", "plan", "prod"],
        cwd=project, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "build").exists()
    return text, result.stderr.splitlines()


def test_yaml_syntax_error(project):
    good = "gpu: {model: H100-80GB, count: 8}"
    text, errors = plan_broken_prod(project, good, good[:-1])
    line = line_of(text, "gpu: {model: H100-80GB, count: 8")
    column = text.splitlines()[line].index(":") + 1  # the next line's `minSize:` ends the flow map
    assert errors == [
        f"stacks/Pulumi.prod.yaml:{line + 1}:{column}: YAML syntax error: expected ',' or '}}', but got ':' "
        f"(while parsing a flow mapping at line {line})"
    ]


def test_tab_character(project):
    text, errors = plan_broken_prod(project, "    kind: eks  ", "\tkind: eks  ")
    assert errors == [
        f"stacks/Pulumi.prod.yaml:{line_of(text, chr(9) + 'kind: eks')}:1: tab character: YAML indents "
        "with spaces only"
    ]


def test_key_without_namespace(project):
    text, errors = plan_broken_prod(project, "  gpu-platform:gpuAlerts:", "  gpuAlerts:")
    assert errors == [
        f"stacks/Pulumi.prod.yaml:{line_of(text, '  gpuAlerts:')}:3: 'gpuAlerts' has no namespace (Pulumi "
        "reads a stack file's keys as <namespace>:<name>); did you mean 'gpu-platform:gpuAlerts'?"
    ]


def test_misspelt_namespace(project):
    text, errors = plan_broken_prod(project, "  gpu-platform:gpuAlerts:", "  gpu-platfrom:gpuAlerts:")
    assert errors == [
        f"stacks/Pulumi.prod.yaml:{line_of(text, 'gpu-platfrom:gpuAlerts')}:3: unknown namespace "
        "'gpu-platfrom' in 'gpu-platfrom:gpuAlerts'; did you mean 'gpu-platform:gpuAlerts'? known "
        f"namespaces: {KNOWN}"
    ]


def test_dash_instead_of_colon(project):
    text, errors = plan_broken_prod(project, "  gpu-platform:monitoring:", "  gpu-platform-monitoring:")
    assert errors == [
        f"stacks/Pulumi.prod.yaml:{line_of(text, 'gpu-platform-monitoring:')}:3: 'gpu-platform-monitoring' "
        "has no namespace (Pulumi reads a stack file's keys as <namespace>:<name>); did you mean "
        "'gpu-platform:monitoring'?"
    ]


def test_duplicate_keys_name_both_lines(project):
    text, errors = plan_broken_prod(
        project, "  gpu-platform:monitoring:\n", "  gpu-platform:gpuAlerts: {}\n  gpu-platform:monitoring:\n"
    )
    first, second = (n for n, line in enumerate(text.splitlines(), 1) if "gpu-platform:gpuAlerts" in line)
    assert errors == [
        f"stacks/Pulumi.prod.yaml:{second}:3: duplicate key 'gpu-platform:gpuAlerts' (first at line "
        f"{first}); YAML keeps only the last one: merge the two"
    ]


def write(tmp_path, text):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(text)
    return path


def problems(path):
    with pytest.raises(StackFileError) as caught:
        read_stack_file(path, "gpu-platform")
    return [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems]


def test_nested_duplicates_and_every_problem_at_once(tmp_path):
    path = write(tmp_path, "config:\n  gpu-platform:cluster:\n    kind: eks\n    kind: existing\n"
                 "  gpu-platform:gpuPools:\n    a: {minSize: 1, minSize: 2}\n")
    assert problems(path) == [
        "4:5: duplicate key 'kind' (first at line 3); YAML keeps only the last one: merge the two",
        "6:21: duplicate key 'minSize' (first at line 6); YAML keeps only the last one: merge the two",
    ]


def test_bad_indentation(tmp_path):
    path = write(tmp_path, "config:\n  gpu-platform:cluster:\n    kind: eks\n   bad: 1\n")
    assert problems(path) == [
        "4:4: YAML syntax error: the indentation does not match the lines above: expected <block end>, "
        "but found '<block mapping start>' (while parsing a block mapping at line 2)"
    ]


def test_key_forms_the_pulumi_cli_accepts_and_refuses(tmp_path):
    ok = write(tmp_path, "config:\n  aws:region: us-east-1\n  gpu-platform:config:cluster: {}\n"
               "  pulumi:tags: {team: ml}\n  kubernetes:context: kind\n")
    assert set(read_stack_file(ok, "gpu-platform")["config"]) == {
        "aws:region", "gpu-platform:config:cluster", "pulumi:tags", "kubernetes:context",
    }
    bad = write(tmp_path, "config:\n  gpu-platform:a:b: 1\n  :x: 1\n  gcp-x:y: 2\n")
    assert problems(bad) == [
        "2:3: 'gpu-platform:a:b' has more than one ':' (keys are <namespace>:<name>; a name cannot "
        "contain ':')",
        "3:3: ':x' needs both a namespace and a name (<namespace>:<name>)",
        f"4:3: unknown namespace 'gcp-x' in 'gcp-x:y' known namespaces: {KNOWN}",
    ]
    assert key_problem("gpu-platform:cluster", "gpu-platform", known_namespaces("gpu-platform")) is None


def test_document_shape(tmp_path):
    assert problems(write(tmp_path, "- a\n- b\n")) == ["1:1: must be a mapping with a 'config:' key"]
    assert problems(write(tmp_path, "config: [a]\n")) == ["1:9: config: must be a mapping of keys"]
    assert read_stack_file(write(tmp_path, ""), "gpu-platform") == {}


def test_every_stack_file_reads_cleanly():
    for path in sorted((PROJECT_DIR / "stacks").glob("Pulumi.*.yaml")):
        assert "config" in read_stack_file(path, "gpu-platform"), path


def run_with_keys(values, program):
    return run_program(program, project="gpu-platform", stack="s", config=StackConfig(values))


def test_the_program_refuses_unknown_namespaces_as_under_pulumi_up():
    # `pulumi up` hands the program every key of the stack; load_environment reads them through
    # read_namespace, which refuses keys no one reads before any resource exists
    config = {"gpu-platform:cluster": '{"kind": "existing"}', "gpu-platfrom:gpuAlerts": "{}",
              "aws:region": "x"}
    with pytest.raises(ConfigError) as caught:
        run_with_keys(config, load_environment)
    assert str(caught.value).splitlines() == [
        "invalid configuration of stack 's' (config keys) (1 error):",
        "  - gpu-platfrom:gpuAlerts: unknown namespace 'gpu-platfrom' in 'gpu-platfrom:gpuAlerts'; did you "
        f"mean 'gpu-platform:gpuAlerts'? known namespaces: {KNOWN}",
    ]


def test_the_program_accepts_provider_and_pulumi_keys():
    seen = {}

    def program():
        seen["data"] = read_namespace("gpu-platform")[0]

    run_with_keys({"gpu-platform:cluster": '{"kind": "existing"}', "aws:region": "us-east-1",
                   "kubernetes:context": "kind", "pulumi:tags": "{}"}, program)
    assert seen["data"] == {"cluster": {"kind": "existing"}}


def test_display_path_is_relative_to_the_working_directory(tmp_path, monkeypatch):
    path = write(tmp_path, "config:\n  x: 1\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StackFileError) as caught:
        read_stack_file(Path(path), "gpu-platform")
    assert str(caught.value).startswith("Pulumi.x.yaml:2:3: 'x' has no namespace")


def test_installed_providers_are_looked_up_only_for_an_unknown_namespace(tmp_path, monkeypatch):
    # reading every installed distribution's metadata costs tens of milliseconds per plan:
    # a stack file naming only the project, pulumi, aws and kubernetes does not need it
    from gpu_platform.config import namespaces

    looked_up = []
    real = namespaces.known_namespaces

    def known(project):
        looked_up.append(project)
        return real(project)

    monkeypatch.setattr(namespaces, "known_namespaces", known)
    assert "config" in read_stack_file(PROJECT_DIR / "stacks" / "Pulumi.prod.yaml", "gpu-platform")
    assert looked_up == []
    # an unknown namespace still gets the full list (installed providers' too) in its message
    assert problems(write(tmp_path, "config:\n  gcp-x:y: 2\n")) == [
        f"2:3: unknown namespace 'gcp-x' in 'gcp-x:y' known namespaces: {KNOWN}"]
    assert looked_up == ["gpu-platform"]


def test_the_fast_loader_reads_every_stack_file_as_pyyaml_does():
    # libyaml (gpu_platform.config.yamlio) where PyYAML has it; the documents must not differ
    import yaml

    from gpu_platform.config import yamlio

    assert yamlio.SafeLoader is getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in sorted((PROJECT_DIR / "stacks").glob("Pulumi.*.yaml")):
        text = path.read_text()
        assert read_stack_file(path, "gpu-platform") == yaml.load(text, Loader=yaml.SafeLoader), path
        assert yamlio.safe_load(text) == yaml.load(text, Loader=yaml.SafeLoader), path

"""What a plan process imports: an environment pays only for the areas and SDKs it uses (issue 19).

Each check runs a fresh interpreter, since this test process has long imported everything."""

import json
import subprocess
import sys

import pytest

import gpu_platform.aws
from gpu_platform.testing.fixtures import PROJECT_DIR


def modules_after(code):
    """Module names loaded by a fresh interpreter after running ``code``."""
    done = subprocess.run(
        [sys.executable, "-c", code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=True,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_an_environment_without_aws_never_loads_the_aws_sdk(tmp_path):
    loaded = modules_after(
        "from gpu_platform.plan.cli import main\n"
        f"assert main(['plan', 'onprem', '--quiet', '--out', {str(tmp_path)!r}]) == 0")
    assert (tmp_path / "plan.json").is_file()
    assert not {m for m in loaded if m == "pulumi_aws" or m.startswith("pulumi_aws.")}
    aws_components = {"gpu_platform.aws.compute", "gpu_platform.aws.eks_cluster",
                      "gpu_platform.aws.node_pool", "gpu_platform.aws.addons"}
    assert not aws_components & loaded
    assert "gpu_platform.aws.config" in loaded  # the config model is validated in every environment


def test_an_aws_environment_loads_it(tmp_path):
    loaded = modules_after(
        "from gpu_platform.plan.cli import main\n"
        f"assert main(['plan', 'dev', '--quiet', '--out', {str(tmp_path)!r}]) == 0")
    assert {"pulumi_aws", "gpu_platform.aws.eks_cluster", "gpu_platform.aws.addons"} <= loaded


def test_importing_the_aws_area_loads_its_components_on_first_use():
    assert "pulumi_aws" not in modules_after("import gpu_platform.aws, gpu_platform.environment")
    assert "pulumi_aws" in modules_after("from gpu_platform.aws import EksCluster")


@pytest.mark.parametrize("name", gpu_platform.aws.__all__)
def test_every_public_aws_name_resolves(name):
    value = getattr(gpu_platform.aws, name)
    assert getattr(value, "__name__", name) == name


def test_the_lazy_names_are_listed_before_first_use():
    # in a fresh interpreter (an assertion failing there fails modules_after)
    loaded = modules_after("import gpu_platform.aws as aws\nassert set(aws.__all__) <= set(dir(aws))")
    assert "pulumi_aws" not in loaded


def test_an_unknown_aws_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'gpu_platform.aws' has no attribute 'EksClustr'"):
        gpu_platform.aws.EksClustr  # noqa: B018

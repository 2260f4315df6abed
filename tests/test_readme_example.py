"""The README's standalone example runs as written: GPU Operator + RayCluster on an existing cluster."""

import re
from pathlib import Path

import pulumi
import pytest

from gpu_platform.config import ConfigError
from gpu_platform.plan.capture import CapturingMonitor, PlanMocks
from gpu_platform.plan.runner import run_program

README = Path(__file__).resolve().parents[1] / "README.md"


def standalone_example() -> str:
    section = README.read_text().split("### Standalone: the GPU Operator and one RayCluster", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_standalone_example_plans(run_component):
    source = standalone_example()
    plan = run_component(lambda: exec(compile(source, "README.md", "exec"), {"__name__": "__main__"}))

    provider = plan.one("pulumi:providers:kubernetes", "cluster")
    operator = plan.one("kubernetes:helm.sh/v3:Release", "gpu-chart")
    ray = plan.one("kubernetes:ray.io/v1:RayCluster", "demo-raycluster")
    assert operator.provider.startswith(provider.urn) and ray.provider.startswith(provider.urn)
    # the pool's time-slicing reaches the device plugin; its taint, the Ray GPU workers
    configs = plan.one("kubernetes:core/v1:ConfigMap", "gpu-device-plugin-config").inputs["data"]
    assert any(key.startswith("a10g-ts-4-") for key in configs)
    assert operator.inputs["values"]["devicePlugin"]["config"]["name"] == "device-plugin-configs"
    worker = ray.inputs["spec"]["workerGroupSpecs"][0]["template"]["spec"]
    assert worker["nodeSelector"]["gpu-platform.io/pool"] == "a10g"
    assert worker["tolerations"] == [
        {"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Equal", "value": "true"}
    ]
    # ordering through opts.depends_on reaches the RayCluster object
    assert plan.one("kubernetes:helm.sh/v3:Release", "kuberay-chart").urn in ray.dependencies
    assert plan.outputs["rayDashboard"] == "http://demo-head-svc.ml.svc:8265"


def test_a_mistake_in_the_example_is_one_config_error_line():
    source = standalone_example().replace('"gpusPerWorker": 1', '"gpusPerWorker": 8')
    monitor = CapturingMonitor(PlanMocks())
    with pytest.raises(ConfigError) as caught:
        run_program(lambda: exec(compile(source, "README.md", "exec"), {"__name__": "__main__"}),
                    project="team", stack="dev", monitor=monitor)
    error = caught.value
    assert not [urn for urn in monitor.registrations if "RayCluster" in urn]
    assert [str(i) for i in error.issues] == [
        "workerGroups.gpu.gpusPerWorker: must be <= 1, the GPUs per node of pool 'a10g' (got 8)"
    ]
    assert isinstance(error, pulumi.RunError)

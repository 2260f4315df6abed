"""The whole-process benchmark's typed floor is the same plan, hand-written (benchmarks/whole_process.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from gpu_platform.plan.runner import plan_stack

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import plan_phases  # noqa: E402
import whole_process  # noqa: E402


def test_floor_program_registers_the_same_resources() -> None:
    plan = plan_stack("dev", whole_process.PROJECT_DIR)
    source = whole_process.floor_source(plan.to_dict())
    assert "pulumi_kubernetes.core.v1.Namespace(" in source  # typed classes, not plain resources
    assert "gpu_platform.platform" not in source and "GpuPlatform" not in source
    namespace: dict[str, object] = {}
    exec(compile(source, "floor_dev.py", "exec"), namespace)
    floor = namespace["plan"]
    assert sorted(r.urn for r in floor) == sorted(r.urn for r in plan)  # type: ignore[attr-defined]
    by_urn = {r.urn: r for r in plan}
    for r in floor:  # type: ignore[attr-defined]
        assert r.parent == by_urn[r.urn].parent
        if r.custom:  # the provider each resource is created with (components pass theirs on)
            assert r.provider == by_urn[r.urn].provider, r.urn


def test_imports_by_package_sums_self_time_per_top_level_package() -> None:
    report = """import time: self [us] | cumulative | imported package
import time:       100 |        100 |     pulumi_aws.ec2._inputs
import time:       250 |        350 |   pulumi_aws.ec2
import time:      1000 |       1000 | gpu_platform.config.args
"""
    assert plan_phases.imports_by_package(report) == {"pulumi_aws": 0.00035, "gpu_platform": 0.001}


def test_runs_are_timed_with_bytecode_even_where_runs_cannot_write_it(tmp_path, monkeypatch) -> None:
    # PYTHONDONTWRITEBYTECODE (set on the CI image) keeps a warm-up run from writing .pyc files:
    # the benchmark writes them itself, as pip does on install; --source removes them again
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("X = 1\n")
    (package / "sub" / "mod.py").write_text("Y = 2\n")
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    whole_process.byte_compile(package)
    assert len(list(package.rglob("*.pyc"))) == 2
    whole_process.drop_bytecode(package)
    assert list(package.rglob("__pycache__")) == []
    assert whole_process.package_dir().joinpath("platform.py").is_file()


def test_plan_and_floor_runs_alternate_after_an_untimed_round(monkeypatch) -> None:
    calls: list[str] = []
    times = iter([9.0, 9.0, 1.0, 2.0, 3.0, 4.0])  # the first round (warm-up) is not counted

    def fake_run(command, cwd, before=None):
        calls.append(command[0])
        return next(times)

    monkeypatch.setattr(whole_process, "timed_run", fake_run)
    plan, floor = whole_process.paired((["plan"], Path("."), None), (["floor"], Path("."), None), 2)
    assert calls == ["plan", "floor"] * 3
    assert (plan, floor) == ([1.0, 3.0], [2.0, 4.0])


def test_phase_calls_on_several_threads_count_the_wall_time_they_cover() -> None:
    assert plan_phases.union_seconds([]) == 0.0
    assert plan_phases.union_seconds([(0.0, 2.0), (1.0, 3.0), (5.0, 6.0)]) == 4.0
    assert plan_phases.union_seconds([(0.0, 5.0), (1.0, 2.0)]) == 5.0

"""How fast the offline plan is, against the floor of the SDK's mock runtime alone.

    .venv/bin/python benchmarks/plan_speed.py [--repeat 3] [--sizes 10,50,200] [--profile]

For each environment (and for ``dev`` grown by N extra GPU pools, each with its team and
inference service) it times ``plan_stack`` and two floors that register the same resources (same
types, names, parents, providers, dependencies, inputs) with no library code:

- ``typed``: the provider SDKs' typed classes (``k8s.core.v1.Namespace``, ``aws.eks.Cluster``,
  ...) with the same inputs under ``run_program``: a hand-written program without the library;
- ``replay``: plain ``CustomResource``/``ComponentResource`` objects under ``run_program`` (the
  SDK's mock runtime plus this library's capturing monitor);
- ``sdk``: the same replay against the SDK's own ``MockMonitor`` (no capture, no scrub).

``ratio`` is plan seconds / floor seconds: against the typed floor, what the library itself
(its components' Python, config validation, ``apply`` chains) costs on top of registering the same
resources by hand; against the plain floor, also what the typed provider classes cost.
``write s`` is what ``gpu-platform plan`` adds after planning (summary, plan.json, manifests);
``readiness s`` the readiness analysis it runs (without --charts), also as a share of plan s.
Each number is the best of ``--repeat`` runs.

``--whole`` adds what a user waits for, each run a fresh interpreter (``whole_process.py``):
``gpu-platform plan ENV`` as a user runs it, with ``--charts`` (cold and cached), and the typed
floor as a standalone generated program, with the ratio and where the time goes; ``--whole-only``
prints only that.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import gc
import importlib
import inspect
import io
import platform
import pstats
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pulumi.runtime import config as pulumi_config
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.mocks import MockEngine, MockMonitor, MockSettings
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from gpu_platform.plan.capture import PlanMocks  # noqa: E402
from gpu_platform.plan.model import Plan  # noqa: E402
from gpu_platform.plan.policy import default_policy  # noqa: E402
from gpu_platform.plan.render import print_summary, write_plan  # noqa: E402
from gpu_platform.plan.runner import plan_stack, run_program  # noqa: E402

ENVIRONMENTS = ("dev", "staging", "prod", "onprem")
NS = "gpu-platform"


def grown_dev(n: int) -> dict[str, Any]:
    """``dev``'s config with ``n`` more A10G pools, each with a node pool, a team and a service."""
    config = yaml.safe_load((PROJECT_DIR / "stacks" / "Pulumi.dev.yaml").read_text())["config"]
    pools = copy.deepcopy(config[f"{NS}:gpuPools"])
    training = copy.deepcopy(config[f"{NS}:training"])
    serving = copy.deepcopy(config[f"{NS}:serving"])
    aws = copy.deepcopy(config[f"{NS}:aws"])
    for i in range(n):
        pool = f"extra{i}"
        pools[pool] = {
            "role": "inference", "gpu": {"model": "A10G", "count": 1},
            "minSize": 0, "maxSize": 1, "driver": "preinstalled",
        }
        aws["nodePools"][pool] = {"instanceType": "g5.xlarge"}
        training["teams"][f"team{i}"] = {
            "gpuQuota": 1, "cpuQuota": "4", "memoryQuota": "16Gi", "gpuPools": {pool: 1},
        }
        serving["inferenceServices"][f"svc{i}"] = {
            "storageUri": f"s3://gpu-dev-models/model-{i}", "pool": pool, "gpus": 1,
            "model": {"catalog": "qwen2.5-7b-instruct-awq"},  # sized against the A10G's memory
            "cpu": "2", "memory": "12Gi", "vllm": {"maxModelLen": 4096, "quantization": "awq"},
        }
    return {
        f"{NS}:gpuPools": pools, f"{NS}:training": training,
        f"{NS}:serving": serving, f"{NS}:aws": aws,
    }


def plain_resource(r: Any, opts: pulumi.ResourceOptions) -> pulumi.Resource:
    """``r`` as a plain ``CustomResource`` (or provider) with its recorded type and inputs."""
    if r.type.startswith("pulumi:providers:"):
        return pulumi.ProviderResource(r.type.split(":")[-1], r.name, r.inputs, opts)
    return pulumi.CustomResource(r.type, r.name, r.inputs, opts)


def replay_program(
    plan: Plan, declare: Callable[[Any, pulumi.ResourceOptions], pulumi.Resource] = plain_resource
) -> Callable[[], None]:
    """A program registering ``plan``'s resources with no library code: same types, names,
    inputs, parents, providers and dependencies, each resource after what it needs;
    ``declare`` makes each custom resource (plain, or with its provider's typed class)."""
    by_urn = {r.urn: r for r in plan.resources}

    def program() -> None:
        made: dict[str, pulumi.Resource] = {}

        def make(urn: str) -> pulumi.Resource:
            if urn in made:
                return made[urn]
            r = by_urn[urn]
            parent = make(r.parent) if r.parent in by_urn else None
            provider = make(r.provider) if r.provider in by_urn else None
            # the same waits as the real program: explicit and property dependencies
            waits = sorted({*r.dependencies, *(u for us in r.property_dependencies.values() for u in us)})
            depends_on = [make(d) for d in waits if d in by_urn]
            opts = pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=depends_on)
            if r.custom or r.type.startswith("pulumi:providers:"):
                made[urn] = declare(r, opts)
            else:
                made[urn] = pulumi.ComponentResource(r.type, r.name, None, opts)
            return made[urn]

        for urn in by_urn:
            make(urn)

    return program


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def typed_class(type_: str) -> type | None:
    """The provider SDK class a hand-written program uses for ``type_`` (None: no typed class)."""
    package, module, kind = type_.split(":")
    if package == "aws":
        return getattr(importlib.import_module(f"pulumi_aws.{module.split('/')[0]}"), kind, None)
    if package != "kubernetes":
        return None
    group_version = module
    group, _, version = group_version.rpartition("/")
    if group in ("yaml", "kustomize", "helm.sh"):
        name = {"yaml": "yaml", "kustomize": "kustomize", "helm.sh": "helm"}[group]
        return getattr(importlib.import_module(f"pulumi_kubernetes.{name}.{version}"), kind, None)
    if group in ("core", "") or group.endswith(".k8s.io") or group in ("apps", "batch", "policy"):
        short = "core" if group in ("core", "") else group.split(".")[0]
        try:
            return getattr(importlib.import_module(f"pulumi_kubernetes.{short}.{version}"), kind, None)
        except ImportError:
            return None
    return None


def typed_resource(r: Any, opts: pulumi.ResourceOptions) -> pulumi.Resource:
    """``r`` declared with its provider's typed class, as a program without the library would."""
    if r.type == "pulumi:providers:kubernetes":
        return k8s.Provider(r.name, opts=opts, **{_snake(k): v for k, v in r.inputs.items()})
    if r.type.startswith("kubernetes:") and "/" in r.type.split(":")[1] and typed_class(r.type) is None:
        return k8s.apiextensions.CustomResource(
            r.name, api_version=r.inputs["apiVersion"], kind=r.inputs["kind"],
            metadata=r.inputs.get("metadata"), spec=r.inputs.get("spec"), opts=opts)
    cls = typed_class(r.type)
    if cls is None:
        return pulumi.CustomResource(r.type, r.name, r.inputs, opts)
    accepted = set(inspect.signature(cls._internal_init).parameters)
    kwargs = {_snake(k): v for k, v in r.inputs.items() if _snake(k) in accepted}
    return cls(r.name, opts=opts, **kwargs)


def run_sdk_only(program: Callable[[], None], project: str, stack: str) -> None:
    """``run_program`` with the SDK's plain MockMonitor: the runtime's own cost."""
    monitor = MockMonitor(PlanMocks())
    pulumi_settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi_settings.configure(MockSettings(
        monitor=monitor, monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
        engine=MockEngine(None), project=project, stack=stack, dry_run=True,
        organization="organization", callbacks=None,
    ))
    pulumi_config.set_all_config({}, [])
    try:
        _sync_await(run_in_stack(program))
    finally:
        pulumi_settings.set_root_resource(None)  # type: ignore[arg-type]


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        gc.collect()  # garbage from the previous run is not this run's cost
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def cases(sizes: list[int]) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [(env, env, None) for env in ENVIRONMENTS] + [
        (f"dev+{n}", "dev", grown_dev(n)) for n in sizes
    ]


def measure(sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    plan_stack("dev", PROJECT_DIR)  # imports and first-run caches out of the timings
    rows = []
    for label, stack, overrides in cases(sizes):
        seconds, plan = best(lambda s=stack, o=overrides: plan_stack(s, PROJECT_DIR, overrides=o), repeat)
        replay = replay_program(plan)
        project = plan.project
        floor, replayed = best(
            lambda r=replay, s=stack, j=project: run_program(r, project=j, stack=s), repeat
        )
        assert len(replayed) == len(plan), "the replay must register the same resources"
        typed = replay_program(plan, typed_resource)
        typed_floor, typed_plan = best(
            lambda r=typed, s=stack, j=project: run_program(r, project=j, stack=s), repeat
        )
        assert len(typed_plan) == len(plan), "the typed replay must register the same resources"
        sdk, _ = best(lambda r=replay, s=stack, j=project: run_sdk_only(r, j, s), repeat)
        with tempfile.TemporaryDirectory() as folder:
            output, _ = best(lambda p=plan, f=folder: present(p, Path(f)), repeat)
            config_path = Path(folder) / f"Pulumi.{stack}.yaml"  # the (grown) config, as a stack file
            document = yaml.safe_load((PROJECT_DIR / "stacks" / f"Pulumi.{stack}.yaml").read_text())
            document["config"].update(overrides or {})
            config_path.write_text(yaml.safe_dump(document))
            ready, _ = best(lambda p=plan, s=stack, c=config_path: readiness(p, s, c), repeat)
        rows.append({"case": label, "resources": len(plan), "seconds": seconds, "replay": floor,
                     "typed": typed_floor, "sdk": sdk, "output": output, "readiness": ready})
    return rows


def readiness(plan: Plan, stack: str, config_path: Path) -> None:
    """The readiness analysis ``gpu-platform plan`` runs after planning (without --charts)."""
    check = default_policy().readiness
    assert check is not None
    check(plan, project_dir=PROJECT_DIR, stack=stack, config_path=config_path)


def present(plan: Plan, folder: Path) -> None:
    """What ``gpu-platform plan`` does after planning: summary, plan.json and manifests."""
    print_summary(plan, io.StringIO())
    write_plan(plan, folder)


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| case | resources | plan s | resources/s | ms/resource | typed floor s | ratio | "
        "plain floor s | ratio | sdk-only s | write s | readiness s | readiness/plan |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['resources']} | {r['seconds']:.3f} | {r['resources'] / r['seconds']:.0f} "
            f"| {1000 * r['seconds'] / r['resources']:.2f} | {r['typed']:.3f} "
            f"| {r['seconds'] / r['typed']:.2f}x | {r['replay']:.3f} "
            f"| {r['seconds'] / r['replay']:.2f}x | {r['sdk']:.3f} | {r['output']:.3f} "
            f"| {r['readiness']:.3f} | {r['readiness'] / r['seconds']:.1%} |"
        )
    return "\n".join(lines)


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    import os
    from importlib.metadata import version

    return (f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
            f"pulumi {version('pulumi')}")


def profile(stack: str, overrides: dict[str, Any] | None, top: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    plan_stack(stack, PROJECT_DIR, overrides=overrides)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(top)
    out.write("\n--- by own time ---\n")
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="10,50,200")
    parser.add_argument("--profile", action="store_true", help="profile the largest case too")
    parser.add_argument("--whole", action="store_true", help="whole-process figures too (fresh interpreters)")
    parser.add_argument("--whole-only", action="store_true", help="only the whole-process figures")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # provider deprecation notices are not the benchmark
    sizes = [int(s) for s in args.sizes.split(",") if s]
    print(machine())
    if args.whole or args.whole_only:
        sys.path.insert(0, str(PROJECT_DIR / "benchmarks"))
        import whole_process

        whole_process.main(["--repeat", str(args.repeat)])
        if args.whole_only:
            return
    print(table(measure(sizes, args.repeat)))
    if args.profile and sizes:
        print(profile("dev", grown_dev(max(sizes)), 40))


if __name__ == "__main__":
    main()

"""Whole-process plan speed: what a user waits for, against a hand-written program.

    .venv/bin/python benchmarks/whole_process.py [--repeat 3] [--envs dev,prod] [--no-phases]

(also ``benchmarks/plan_speed.py --whole``). For each environment, each figure the best of
``--repeat`` runs, each run a fresh interpreter:

- ``plan``: ``gpu-platform plan ENV --quiet --out DIR`` exactly as a user runs it;
- ``charts cold`` / ``charts warm``: the same with ``--charts ../shared/upstream/charts-src``,
  with the rendered-chart cache emptied before every run, and with it filled by the run before;
- ``floor``: a standalone program generated from that plan's ``plan.json``, one explicit typed
  provider-class call per resource (``k8s.core.v1.Namespace(...)``, ``aws.eks.Cluster(...)``,
  same names, parents, providers, dependencies and inputs), run under the same mock runtime
  (``gpu_platform.plan.runner.run_program``): a hand-written program without the library.

Both the library and the floor program are byte-compiled first (``byte_compile``), as an
installed package is; ``--source`` measures both compiled from source in every run instead (an
editable install where ``PYTHONDONTWRITEBYTECODE`` is set, as on the CI image).

The plan and the floor run alternately (``paired``), so a burst of load on a shared machine slows
both sides of a round. ``ratio`` is best plan / best floor; ``median ratio of rounds`` the median
of each round's plan / floor. ``--phases`` (default on) then runs one more fresh process per
environment with timing hooks on the real ``gpu-platform plan`` path and prints where the time
goes: interpreter start, imports before the program, stack-file checks, config validation,
imports made by the program, the program, capture, the plan policy, readiness, summary, writing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHARTS = (PROJECT_DIR / ".." / "shared" / "upstream" / "charts-src").resolve()
ENVIRONMENTS = ("dev", "staging", "prod", "onprem")


def package_dir() -> Path:
    """The folder ``gpu_platform`` is imported from (``components/`` in an editable install)."""
    import importlib.util

    spec = importlib.util.find_spec("gpu_platform")
    assert spec is not None and spec.submodule_search_locations, "gpu_platform is not installed"
    return Path(next(iter(spec.submodule_search_locations)))


def byte_compile(*paths: Path) -> None:
    """Write the ``.pyc`` files of ``paths`` (``python -m compileall``), as ``pip install`` does for
    an installed package and as Python does on a first import. Done explicitly because a first run
    writes nothing where ``PYTHONDONTWRITEBYTECODE`` is set (it is on the CI image): every run
    would then compile the library's 130 modules from source, which no installed user pays."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", *map(str, paths)], check=True,
                   stdout=subprocess.DEVNULL)


def drop_bytecode(root: Path) -> None:
    """Remove ``root``'s ``.pyc`` caches (``--source``: what a run pays without them)."""
    for cache in root.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


def timed_run(command: list[str], cwd: Path, before: Any = None) -> float:
    """Wall time of one fresh process running ``command``."""
    if before is not None:
        before()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 3):  # 3: planned, with readiness errors
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return elapsed


def best_of(command: list[str], repeat: int, cwd: Path, before: Any = None) -> float:
    """Best wall time of ``command`` over ``repeat`` fresh processes, after one untimed warm-up
    (operating system file caches)."""
    timed_run(command, cwd, before)
    return min(timed_run(command, cwd, before) for _ in range(repeat))


def paired(first: tuple[list[str], Path, Any], second: tuple[list[str], Path, Any],
           repeat: int) -> tuple[list[float], list[float]]:
    """Wall times of two commands run alternately, ``repeat`` rounds after one untimed round: on a
    shared machine a burst of load then slows both sides of a round, not one side's whole series."""
    timed_run(*first)
    timed_run(*second)
    a, b = [], []
    for _ in range(repeat):
        a.append(timed_run(*first))
        b.append(timed_run(*second))
    return a, b


# --- the typed floor as a standalone program -------------------------------------------------

def _snake(name: str) -> str:
    import re

    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def typed_module(type_: str) -> tuple[str, str] | None:
    """(module, class) a hand-written program uses for ``type_``; None: no typed class."""
    import importlib

    package, module, kind = type_.split(":")
    if package == "aws":
        name = f"pulumi_aws.{module.split('/')[0]}"
    elif package != "kubernetes":
        return None
    else:
        group, _, version = module.rpartition("/")
        if group in ("yaml", "kustomize", "helm.sh"):
            short = {"yaml": "yaml", "kustomize": "kustomize", "helm.sh": "helm"}[group]
            name = f"pulumi_kubernetes.{short}.{version}"
        elif group in ("core", "") or group.endswith(".k8s.io") or group in ("apps", "batch", "policy"):
            name = f"pulumi_kubernetes.{'core' if group in ('core', '') else group.split('.')[0]}.{version}"
        else:
            return None
    try:
        found = getattr(importlib.import_module(name), kind, None)
    except ImportError:
        return None
    return (name, kind) if found is not None else None


def floor_source(plan: dict[str, Any]) -> str:
    """Python source of a program registering ``plan``'s resources with typed provider classes."""
    import importlib
    import inspect

    resources = {r["urn"]: r for r in plan["resources"]}
    order: list[str] = []
    seen: set[str] = set()

    def visit(urn: str) -> None:
        if urn in seen or urn not in resources:
            return
        seen.add(urn)
        r = resources[urn]
        for needed in (r.get("parent"), r.get("provider"), *r.get("dependencies", [])):
            if needed:
                visit(needed)
        order.append(urn)

    for urn in resources:
        visit(urn)
    var = {urn: f"r{i}" for i, urn in enumerate(order)}
    imports = {"pulumi", "pulumi_kubernetes"}
    body = []
    for urn in order:
        r = resources[urn]
        opts = []
        if r.get("parent") in var:
            opts.append(f"parent={var[r['parent']]}")
        if r.get("provider") in var:
            opts.append(f"provider={var[r['provider']]}")
        deps = [var[d] for d in sorted(set(r.get("dependencies", []))) if d in var]
        if deps:
            opts.append(f"depends_on=[{', '.join(deps)}]")
        o = f"pulumi.ResourceOptions({', '.join(opts)})"
        name, type_, inputs = r["name"], r["type"], r.get("inputs") or {}
        if not r["custom"] and not type_.startswith("pulumi:providers:"):
            call = f"pulumi.ComponentResource({type_!r}, {name!r}, None, {o})"
        elif type_ == "pulumi:providers:kubernetes":
            kw = "".join(f", {_snake(k)}={v!r}" for k, v in inputs.items())
            call = f"pulumi_kubernetes.Provider({name!r}, opts={o}{kw})"
        elif type_.startswith("pulumi:providers:"):
            call = f"pulumi.ProviderResource({type_.split(':')[-1]!r}, {name!r}, {inputs!r}, {o})"
        else:
            found = typed_module(type_)
            if found is None and type_.startswith("kubernetes:") and "/" in type_.split(":")[1]:
                call = (f"pulumi_kubernetes.apiextensions.CustomResource({name!r}, api_version="
                        f"{inputs['apiVersion']!r}, kind={inputs['kind']!r}, metadata="
                        f"{inputs.get('metadata')!r}, spec={inputs.get('spec')!r}, opts={o})")
                imports.add("pulumi_kubernetes.apiextensions")
            elif found is None:
                call = f"pulumi.CustomResource({type_!r}, {name!r}, {inputs!r}, {o})"
            else:
                module, kind = found
                cls = getattr(importlib.import_module(module), kind)
                accepted = set(inspect.signature(cls._internal_init).parameters)
                kw = "".join(f", {_snake(k)}={v!r}" for k, v in inputs.items() if _snake(k) in accepted)
                imports.add(module)
                call = f"{module}.{kind}({name!r}, opts={o}{kw})"
        body.append(f"    {var[urn]} = {call}")
    outputs = plan.get("outputs") or {}
    body += [f"    pulumi.export({k!r}, {v!r})" for k, v in outputs.items()]
    return "\n".join([
        f'"""Hand-written equivalent of {plan["project"]}/{plan["stack"]}: '
        f'{len(order)} resources (generated by benchmarks/whole_process.py)."""',
        *(f"import {m}" for m in sorted(imports)),
        "from gpu_platform.plan.runner import run_program",
        "",
        "",
        "def program() -> None:",
        *body,
        "",
        "",
        f"plan = run_program(program, project={plan['project']!r}, stack={plan['stack']!r})",
        f"assert len(plan) == {len(order)}, len(plan)",
        "",
    ])


# --- a scratch project: its own build/.chart-cache, the real program and stack files ---------

def scratch_project(root: Path) -> Path:
    project = root / "project"
    project.mkdir()
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", project / "Pulumi.yaml")
    for entry in PROJECT_DIR.iterdir():
        if entry.name not in ("Pulumi.yaml", "build", ".git", ".venv", ".venv-checkov") and entry.is_dir():
            (project / entry.name).symlink_to(entry)
    return project


def measure(envs: list[str], repeat: int, source: bool = False) -> list[dict[str, Any]]:
    """One row per environment. ``source``: the library and the floor run without bytecode
    (compiled from source in every run); by default both are byte-compiled first."""
    rows = []
    library = package_dir()
    if source:
        drop_bytecode(library)
    else:
        byte_compile(library)
    before_run = (lambda: drop_bytecode(library)) if source else None
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project = scratch_project(root)
        cache = project / "build" / ".chart-cache"
        cli = [str(BIN / "gpu-platform"), "plan"]
        for env in envs:
            out = root / f"out-{env}"
            plan_command = [*cli, env, "--quiet", "--out", str(out)]
            timed_run(plan_command, project)  # the plan.json the floor is generated from
            plan = json.loads((out / "plan.json").read_text())
            floor_file = root / f"floor_{env}.py"
            floor_file.write_text(floor_source(plan))
            if not source:
                byte_compile(floor_file)
            plan_times, floor_times = paired(
                (plan_command, project, before_run),
                ([sys.executable, "-c", f"import floor_{env}"], root,
                 (lambda: drop_bytecode(root)) if source else None),
                repeat)
            ratios = sorted(p / f for p, f in zip(plan_times, floor_times, strict=True))
            row = {"env": env, "resources": len(plan["resources"]), "plan": min(plan_times),
                   "floor": min(floor_times), "paired": ratios[len(ratios) // 2]}
            if CHARTS.is_dir():
                charts = [*cli, env, "--quiet", "--out", str(root / f"charts-{env}"), "--charts", str(CHARTS)]
                row["cold"] = best_of(charts, repeat, project,
                                      before=lambda: shutil.rmtree(cache, ignore_errors=True))
                row["warm"] = best_of(charts, repeat, project)
            rows.append(row)
    if source:  # leave bytecode behind, as any import outside PYTHONDONTWRITEBYTECODE would
        byte_compile(library)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| env | resources | plan s | typed floor s | ratio | median ratio of rounds "
             "| --charts cold s | --charts cached s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        cold = f"{r['cold']:.2f}" if "cold" in r else "n/a"
        warm = f"{r['warm']:.2f}" if "warm" in r else "n/a"
        lines.append(f"| {r['env']} | {r['resources']} | {r['plan']:.2f} | {r['floor']:.2f} "
                     f"| {r['plan'] / r['floor']:.2f}x | {r['paired']:.2f}x | {cold} | {warm} |")
    return "\n".join(lines)


def phases(env: str, charts: bool) -> str:
    """Run ``benchmarks/plan_phases.py`` in a fresh process under ``-X importtime``: its phase
    line, then the import time inside those phases per top-level package."""
    sys.path.insert(0, str(PROJECT_DIR / "benchmarks"))
    from plan_phases import imports_by_package

    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-X", "importtime", str(PROJECT_DIR / "benchmarks" / "plan_phases.py"),
                   env, "--out", tmp]
        if charts:
            command += ["--charts", str(CHARTS)]
        done = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    by_package = sorted(imports_by_package(done.stderr).items(), key=lambda kv: -kv[1])
    total = sum(s for _, s in by_package)
    top = ", ".join(f"{name} {s:.2f}" for name, s in by_package[:8])
    return f"{done.stdout.strip().splitlines()[-1]}\n  imports {total:.2f} s in all: {top}"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--envs", default=",".join(ENVIRONMENTS))
    parser.add_argument("--no-phases", action="store_true")
    parser.add_argument("--source", action="store_true",
                        help="run the library and the floor without bytecode (compiled in every run)")
    args = parser.parse_args(argv)
    envs = [e for e in args.envs.split(",") if e]
    print(f"before: {load()}")
    written = "not written by runs" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "written by runs"
    print("bytecode: " + ("none for the library and the floor (--source)" if args.source else
                          f"library and floor byte-compiled first ({written}: PYTHONDONTWRITEBYTECODE="
                          f"{os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r})"))
    print(table(measure(envs, args.repeat, source=args.source)))
    print(f"after: {load()}")
    if not args.no_phases:
        for env in envs:
            print(phases(env, charts=False))
        if CHARTS.is_dir():
            print(phases(envs[-1], charts=True))


if __name__ == "__main__":
    main()

"""Where one ``gpu-platform plan`` process spends its time (timing hooks on the real code path).

    .venv/bin/python benchmarks/plan_phases.py ENV [--out DIR] [--charts DIR]

Runs ``gpu_platform.plan.cli.main(["plan", ENV, "--quiet", ...])`` in this fresh interpreter with
timers wrapped around its steps and prints one line of seconds: ``start`` (interpreter and site
start-up, measured as ``python -c pass``), ``cli imports`` (importing the CLI module), ``stack
file`` (syntax/duplicate checks), ``config`` (the stack's config validated into models),
``program`` (the rest of the program, with the provider SDKs it imports: components
registering resources, the mock runtime), ``capture`` (the
registrations turned into a Plan), ``policy`` (the plan policy's entry point), ``readiness``
(of which ``rendering`` with --charts), ``summary``, ``write`` (plan.json and manifests), and
``other`` (the rest). Timers nest: an inner phase's time is not counted in the outer one. Run under
``python -X importtime`` (``whole_process.py`` does), the imports inside those phases are summed
per top-level package from its report (``imports_by_package``).
"""

from __future__ import annotations

import functools
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

START = time.perf_counter()
spent: dict[str, float] = {}
# Phases that ran on another thread (the mock runtime answers invokes in executor threads: the plan
# policy loads there on AWS), concurrently with the main thread's: wall time, not part of the sum.
overlapping: dict[str, list[tuple[float, float]]] = {}  # phase -> (start, end) of each call
_stack: list[list[Any]] = []  # [phase, started, inner seconds], main thread only
_threads = threading.local()


def _enter(phase: str) -> None:
    if threading.current_thread() is not threading.main_thread():
        _threads.__dict__.setdefault("stack", []).append([phase, time.perf_counter()])
        return
    _stack.append([phase, time.perf_counter(), 0.0])


def _leave() -> None:
    if threading.current_thread() is not threading.main_thread():
        phase, started = _threads.stack.pop()
        overlapping.setdefault(phase, []).append((started, time.perf_counter()))
        return
    phase, started, inner = _stack.pop()
    total = time.perf_counter() - started
    spent[phase] = spent.get(phase, 0.0) + total - inner
    if _stack:
        _stack[-1][2] += total


def union_seconds(spans: list[tuple[float, float]]) -> float:
    """Wall time covered by ``spans`` (calls on several threads overlap)."""
    covered, end = 0.0, float("-inf")
    for start, stop in sorted(spans):
        if stop > end:
            covered += stop - max(start, end)
            end = stop
    return covered


def timed(phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _enter(phase)
        try:
            return fn(*args, **kwargs)
        finally:
            _leave()
    return wrapper


def main() -> None:
    argv = sys.argv[1:]
    _enter("cli imports")
    import gpu_platform.plan.cli as cli
    from gpu_platform import environment
    from gpu_platform.config import stackfile
    from gpu_platform.plan import model, policy, render, runner
    _leave()
    runner.run_program = timed("program", runner.run_program)
    model.Plan.from_monitor = classmethod(timed("capture", model.Plan.from_monitor.__func__))  # type: ignore[method-assign]
    environment.load_environment = timed("config", environment.load_environment)
    hooks = {"read_stack_file": ("stack file", stackfile), "write_plan": ("write", render)}
    for name, (phase, module) in hooks.items():
        setattr(module, name, timed(phase, getattr(module, name)))
        if hasattr(cli, name):
            setattr(cli, name, getattr(module, name))
    if hasattr(cli, "run_program"):
        cli.run_program = runner.run_program
    real_policy = policy.default_policy

    def hooked_policy() -> Any:
        import dataclasses

        found = timed("policy", real_policy)()
        if found.readiness is None:
            return found
        from gpu_platform.plan import charts

        charts.render_releases = timed("rendering", charts.render_releases)
        # modules that imported it by name (only ours: the SDKs' lazy modules import on getattr)
        for name, module in list(sys.modules.items()):
            if name.startswith("gpu_platform") and module is not charts and "render_releases" in vars(module):
                module.render_releases = charts.render_releases  # type: ignore[attr-defined]
        return dataclasses.replace(found, readiness=timed("readiness", found.readiness))

    policy.default_policy = hooked_policy  # type: ignore[assignment]
    if hasattr(cli, "default_policy"):
        cli.default_policy = hooked_policy
    from gpu_platform.plan import summary

    summary.stack_summary = timed("summary", summary.stack_summary)
    if hasattr(cli, "stack_summary"):
        cli.stack_summary = summary.stack_summary
    _enter("other")
    code = cli.main(["plan", *argv, "--quiet"])
    _leave()
    total = time.perf_counter() - START
    start = _interpreter_start()
    env = argv[0]
    label = f"{env} --charts" if "--charts" in argv else env
    order = ["cli imports", "stack file", "config", "program", "capture", "policy",
             "readiness", "rendering", "summary", "write", "other"]
    parts = ", ".join(f"{p} {spent.get(p, 0.0):.2f}" for p in order if p in spent)
    beside = "".join(f"; {p} {union_seconds(spans):.2f} on invoke threads, beside the above"
                     for p, spans in overlapping.items())
    print(f"{label} (exit {code}): total {start + total:.2f} s = start {start:.2f}, {parts}{beside}")


def imports_by_package(report: str) -> dict[str, float]:
    """Seconds of import (self time) per top-level package from a ``-X importtime`` report."""
    seconds: dict[str, float] = {}
    for line in report.splitlines():
        if line.startswith("import time:") and "|" in line and "self [us]" not in line:
            own, _, name = line[len("import time:"):].split("|")
            package = name.strip().split(".")[0]
            seconds[package] = seconds.get(package, 0.0) + int(own) / 1e6
    return seconds


def _interpreter_start() -> float:
    times = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - t)
    return min(times)


if __name__ == "__main__":
    main()

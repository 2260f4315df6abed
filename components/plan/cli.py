"""``gpu-platform``: plan a stack offline, with no Pulumi CLI, cloud or cluster.

    gpu-platform plan dev                 # print the tree and summary, write build/dev/
    gpu-platform plan prod --out /tmp/p   # write /tmp/p/plan.json and /tmp/p/manifests/
    gpu-platform diff base/plan.json build/dev/plan.json   # Markdown summary of the changes
    gpu-platform snapshot                 # refresh tests/snapshots/urns.json (all stacks)

    gpu-platform plan prod --charts ../shared/upstream/charts-src   # render charts from sources

Exit codes: 0 planned; 3 planned, but the readiness analysis found errors; 2 invalid
configuration (one line per error, no traceback); 1 the project or stack could not be read, or
the program failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from gpu_platform.config import ConfigError
from gpu_platform.plan.capture import UnknownInvokeError
from gpu_platform.plan.diff import diff_plans, to_markdown
from gpu_platform.plan.readiness import findings_json, format_findings, has_errors
from gpu_platform.plan.render import print_summary, print_tree, write_plan
from gpu_platform.plan.runner import PlanSetupError, available_stacks, plan_stack
from gpu_platform.plan.snapshot import SNAPSHOT_PATH, write_snapshot


def find_project_dir(start: Path) -> Path:
    """The nearest folder at or above ``start`` with a Pulumi.yaml."""
    for folder in (start, *start.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    raise PlanSetupError(f"no Pulumi.yaml in {start} or any folder above it")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gpu-platform", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="run a stack's program offline and write its plan")
    plan.add_argument("stack", help="stack (environment) name, e.g. dev, staging, prod, onprem")
    plan.add_argument("--out", type=Path, help="output folder (default: build/<stack>/)")
    plan.add_argument(
        "--project-dir", type=Path, help="folder with Pulumi.yaml (default: nearest above cwd)"
    )
    plan.add_argument("--quiet", action="store_true", help="print only the summary")
    plan.add_argument("--charts", type=Path, metavar="DIR",
                      help="render every Helm release from chart sources in DIR/<chart>/")
    diff = commands.add_parser("diff", help="compare two plan.json files, print Markdown")
    diff.add_argument("base", type=Path, help="plan.json of the base (e.g. the target branch)")
    diff.add_argument("head", type=Path, help="plan.json of the change")
    diff.add_argument("--title", default="Plan changes", help="heading of the summary")
    snapshot = commands.add_parser(
        "snapshot", help="record every stack's URNs and data guards in tests/snapshots/urns.json"
    )
    snapshot.add_argument(
        "--project-dir", type=Path, help="folder with Pulumi.yaml (default: nearest above cwd)"
    )
    return parser


def cmd_plan(args: argparse.Namespace) -> int:
    project_dir = (args.project_dir or find_project_dir(Path.cwd())).resolve()
    plan = plan_stack(args.stack, project_dir)
    if not args.quiet:
        print_tree(plan, sys.stdout)
    print_summary(plan, sys.stdout)
    out_dir = args.out or project_dir / "build" / args.stack
    # the platform's readiness policy, handed to the generic engine (gpu_platform.readiness)
    from gpu_platform.readiness.stack import stack_readiness

    ready = stack_readiness(plan, project_dir, args.stack, charts_dir=args.charts,
                            cache_dir=project_dir / "build" / ".chart-cache")
    print(format_findings(ready.findings, charts_rendered=ready.charts_rendered), end="")
    plan_path, manifests = write_plan(plan, out_dir, findings=findings_json(ready.findings),
                                      rendered=ready.rendered)
    count = len(list(manifests.glob("*.yaml")))
    print(f"\nwrote {plan_path} and {count} manifests in {manifests}")
    return 3 if has_errors(ready.findings) else 0


def cmd_diff(args: argparse.Namespace) -> int:
    for path in (args.base, args.head):
        if not path.is_file():
            raise PlanSetupError(f"no plan file {path} (make one with: gpu-platform plan ENV)")
    base = json.loads(args.base.read_text())
    head = json.loads(args.head.read_text())
    print(to_markdown(diff_plans(base, head), args.title))
    return 0


def cmd_snapshot(args: argparse.Namespace) -> int:
    project_dir = (args.project_dir or find_project_dir(Path.cwd())).resolve()
    plans = {stack: plan_stack(stack, project_dir) for stack in available_stacks(project_dir)}
    path = project_dir / SNAPSHOT_PATH
    write_snapshot(path, plans)
    print(f"wrote {path}: " + ", ".join(f"{env} {len(plan)}" for env, plan in plans.items()))
    return 0


COMMANDS = {"plan": cmd_plan, "diff": cmd_diff, "snapshot": cmd_snapshot}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (PlanSetupError, UnknownInvokeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

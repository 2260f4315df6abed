"""``gpu-platform``: plan a stack offline, with no Pulumi CLI, cloud or cluster.

    gpu-platform plan dev                 # print the tree and summary, write build/dev/
    gpu-platform plan prod --out /tmp/p   # write /tmp/p/plan.json and /tmp/p/manifests/

Exit codes: 0 planned; 2 invalid configuration (one line per error, no traceback);
1 the project or stack could not be read, or the program failed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from components.config import ConfigError
from components.plan.capture import UnknownInvokeError
from components.plan.render import print_summary, print_tree, write_plan
from components.plan.runner import PlanSetupError, plan_stack


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
    return parser


def cmd_plan(args: argparse.Namespace) -> int:
    project_dir = (args.project_dir or find_project_dir(Path.cwd())).resolve()
    plan = plan_stack(args.stack, project_dir)
    if not args.quiet:
        print_tree(plan, sys.stdout)
    print_summary(plan, sys.stdout)
    out_dir = args.out or project_dir / "build" / args.stack
    plan_path, manifests = write_plan(plan, out_dir)
    count = len(list(manifests.glob("*.yaml")))
    print(f"\nwrote {plan_path} and {count} manifests in {manifests}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return cmd_plan(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (PlanSetupError, UnknownInvokeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

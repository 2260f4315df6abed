"""``gpu-platform``: plan a Pulumi stack offline, with no Pulumi CLI, cloud or cluster.

Argparse (standard library) rather than Click/Typer: four subcommands with a few options each
need nothing more, and the package keeps no runtime dependency beyond Pulumi, pydantic and PyYAML.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from gpu_platform.config import ConfigError
from gpu_platform.config.stackfile import StackFileError, display_path, read_stack_file
from gpu_platform.plan.capture import UnknownInvokeError
from gpu_platform.plan.policy import default_policy
from gpu_platform.plan.readiness import findings_json, format_findings, has_errors
from gpu_platform.plan.render import print_summary, print_tree, write_plan
from gpu_platform.plan.runner import (
    PlanSetupError,
    available_stacks,
    load_project,
    plan_stack,
    stack_config_path,
)
from gpu_platform.plan.summary import stack_summary
from gpu_platform.plan.upstream import DEFAULT_CACHE_NOTE, FetchError, fetch_upstream

EXIT_OK, EXIT_UNREADABLE, EXIT_CONFIG, EXIT_READINESS = 0, 1, 2, 3

EXIT_CODES = f"""\
exit codes:
  {EXIT_OK}  planned (or compared, fetched)
  {EXIT_UNREADABLE}  the project or stack could not be read, a fetch failed, or the program failed
  {EXIT_CONFIG}  invalid configuration: stack file syntax, duplicate or unknown keys, bad values
     (one line per problem: FILE:LINE:COL for the stack file, the dotted key otherwise)
  {EXIT_READINESS}  the plan is not ready to deploy (readiness checks; the plan is still written)
"""

DESCRIPTION = """\
Plan any Pulumi Python project offline: run its program under Pulumi's mock runtime with a
stack's config and write what it would create (plan.json and one manifest per Kubernetes object
or Helm release), with no Pulumi CLI, backend, cloud account or cluster.

examples:
  gpu-platform plan dev                          tree, summary; writes build/dev/
  gpu-platform plan prod --quiet --out /tmp/p    one line; writes /tmp/p/plan.json, /tmp/p/manifests/
  gpu-platform plan --config my-prod.yaml prod   stack prod's program with another config file
  gpu-platform plan dev --project-dir ../other   another Pulumi project (folder with Pulumi.yaml)
  gpu-platform plan prod --charts ../shared/upstream/charts-src   also render and analyse the charts
  gpu-platform diff base/plan.json build/dev/plan.json   Markdown: old -> new for each change
  gpu-platform upstream fetch .upstream          upstream charts and CRDs at the pinned versions
  gpu-platform snapshot                          refresh tests/snapshots/urns.json
  gpu-platform versions                          every pin, its source and date; stale ones flagged
"""



def find_project_dir(start: Path) -> Path:
    """The nearest folder at or above ``start`` with a Pulumi.yaml."""
    for folder in (start, *start.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    raise PlanSetupError(f"no Pulumi.yaml in {start} or any folder above it (pass --project-dir)")


def _version() -> str:
    try:
        return metadata.version("gpu-platform")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gpu-platform", description=DESCRIPTION, epilog=EXIT_CODES, formatter_class=_formatter
    )
    parser.add_argument("--version", action="version", version=f"gpu-platform {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    project_dir_help = "folder with the project's Pulumi.yaml (default: the nearest one at or above the cwd)"

    plan = commands.add_parser(
        "plan", help="run a stack's program offline and write its plan", formatter_class=_formatter,
        description="Run a Pulumi project's program offline for one stack and write its plan.",
        epilog=EXIT_CODES,
    )
    plan.add_argument("stack", nargs="?", help="stack name, e.g. dev, staging, prod, onprem "
                      "(its config is <stackConfigDir>/Pulumi.<stack>.yaml)")
    plan.add_argument("--config", type=Path, metavar="FILE",
                      help="read the stack config from FILE instead (stack name: the positional one, "
                      "else from Pulumi.<stack>.yaml)")
    plan.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: build/<stack>/)")
    plan.add_argument("--project-dir", type=Path, metavar="DIR", help=project_dir_help)
    plan.add_argument("--quiet", "-q", action="store_true", help="print one line (what was written)")
    plan.add_argument("--charts", type=Path, metavar="DIR",
                      help="render every Helm release with a real Helm engine from chart sources in "
                           "DIR/<chart>/ (e.g. ../shared/upstream/charts-src) and analyse what they create")

    diff = commands.add_parser(
        "diff", help="compare two plan.json files, print Markdown", formatter_class=_formatter,
        description="Compare two plans of the same stack: old -> new values for each changed input "
        "(secrets stay masked), replacements and protected/retained resources first.",
        epilog=EXIT_CODES,
    )
    diff.add_argument("base", type=Path, help="plan.json of the base (e.g. the target branch)")
    diff.add_argument("head", type=Path, help="plan.json of the change")
    diff.add_argument("--title", default="Plan changes", help="heading of the summary")
    diff.add_argument("--allow-different-stacks", action="store_true",
                      help="compare plans of different projects/stacks (with a warning) instead of refusing")

    upstream = commands.add_parser(
        "upstream", help="fetch upstream charts and CRDs at the pinned versions",
        formatter_class=_formatter, epilog=EXIT_CODES,
    )
    upstream_commands = upstream.add_subparsers(dest="upstream_command", required=True, metavar="ACTION")
    fetch = upstream_commands.add_parser(
        "fetch", help="download every pinned chart and CRD into DIR", formatter_class=_formatter,
        description="Download each pinned Helm chart (index.yaml + tarball, as `helm pull`; OCI\n"
        "charts through the registry's HTTP API) and each operator's CRDs at its release tag,\n"
        "laid out as the conformance tests read them. Prints the folder to use as\n"
        "GPU_PLATFORM_UPSTREAM: DIR/<hash of the pin list>/.\n" + DEFAULT_CACHE_NOTE,
        epilog=EXIT_CODES,
    )
    fetch.add_argument("dir", type=Path, metavar="DIR", help="cache folder (created when missing)")

    versions = commands.add_parser(
        "versions", help="print every pin with its source and date; flag stale or end-of-life ones",
        description="Every pinned version the plan policy knows (this library's: charts, images, "
                    "kustomize refs, EKS versions and add-ons), with its source and release date; "
                    "pins older than a year or past end of life are flagged.",
        formatter_class=_formatter,
    )
    versions.add_argument("--today", type=date.fromisoformat, help="judge as of this date (YYYY-MM-DD)")
    versions.add_argument("--strict", action="store_true", help="exit 1 when any pin is flagged")
    snapshot = commands.add_parser(
        "snapshot", help="record every stack's URNs and data guards in tests/snapshots/urns.json",
        formatter_class=_formatter,
    )
    snapshot.add_argument("--project-dir", type=Path, metavar="DIR", help=project_dir_help)
    return parser


def _stack_name(args: argparse.Namespace) -> str:
    if args.stack:
        return str(args.stack)
    if args.config is None:
        raise PlanSetupError("give a stack name or --config FILE (see gpu-platform plan --help)")
    name = args.config.name
    if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")):
        return name[len("Pulumi."):].rsplit(".", 1)[0]
    raise PlanSetupError(f"{args.config} is not named Pulumi.<stack>.yaml: give the stack name too")


def cmd_plan(args: argparse.Namespace) -> int:
    project_dir = (args.project_dir or find_project_dir(Path.cwd())).resolve()
    stack = _stack_name(args)
    project = load_project(project_dir)
    config_path = args.config or stack_config_path(project_dir, stack)
    if not config_path.is_file():
        known = ", ".join(available_stacks(project_dir)) or "none"
        raise PlanSetupError(f"no stack config {display_path(config_path)} (stacks: {known})")
    read_stack_file(config_path, project["name"])  # syntax, duplicates, namespaces: exit 2
    plan = plan_stack(stack, project_dir, config_path=config_path)
    out_dir = args.out or project_dir / "build" / stack
    # the domain's readiness rules (and chart rendering) reach this generic engine as policy
    readiness = default_policy().readiness
    ready = None
    if readiness is not None:
        ready = readiness(plan, project_dir=project_dir, stack=stack, config_path=config_path,
                          charts_dir=args.charts, cache_dir=project_dir / "build" / ".chart-cache")
    findings = list(ready.findings) if ready is not None else []
    rendered = list(ready.rendered) if ready is not None else []
    summary = stack_summary(plan, project_dir=project_dir, stack=stack, config_path=config_path)
    # written before anything is printed: a closed pipe loses nothing
    plan_path, manifests = write_plan(plan, out_dir, findings=findings_json(findings), rendered=rendered,
                                      summary=summary.to_dict())
    count = len(list(manifests.glob("*.yaml")))
    wrote = f"wrote {display_path(plan_path)} and {count} manifests in {display_path(manifests)}"
    errors = sum(1 for f in findings if f.severity == "error")
    if args.quiet:
        verdict = f"; {errors} readiness error{'s' if errors != 1 else ''}" if errors else ""
        print(f"{plan.project}/{plan.stack}: {len(plan)} resources{verdict}; {wrote}")
    else:
        print_tree(plan, sys.stdout)
        print_summary(plan, sys.stdout, summary=summary)
        if ready is not None:
            print(format_findings(findings, charts_rendered=ready.charts_rendered), end="")
        print(f"\n{wrote}")
    return EXIT_READINESS if has_errors(findings) else EXIT_OK


def _read_plan(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise PlanSetupError(f"no plan file {path} (make one with: gpu-platform plan ENV)")
    try:
        document = json.loads(path.read_text())
    except ValueError as exc:
        raise PlanSetupError(f"{path} is not a plan.json: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("resources"), list):
        raise PlanSetupError(f"{path} is not a plan.json (no 'resources' list)")
    return document


def cmd_diff(args: argparse.Namespace) -> int:
    from gpu_platform.plan.diff import DifferentStacksError, diff_plans, to_markdown  # only here

    base, head = _read_plan(args.base), _read_plan(args.head)
    try:
        changes = diff_plans(base, head, allow_different_stacks=args.allow_different_stacks)
    except DifferentStacksError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(to_markdown(changes, args.title, base=base, head=head))
    return EXIT_OK


def cmd_upstream(args: argparse.Namespace) -> int:
    policy = default_policy()
    result = fetch_upstream(args.dir, charts=policy.upstream_charts, crds=policy.upstream_crds,
                            log=lambda line: print(line, file=sys.stderr))
    print(result.root)  # the folder to point GPU_PLATFORM_UPSTREAM at
    return EXIT_OK


def cmd_snapshot(args: argparse.Namespace) -> int:
    from gpu_platform.plan.snapshot import SNAPSHOT_PATH, write_snapshot  # only here

    project_dir = (args.project_dir or find_project_dir(Path.cwd())).resolve()
    plans = {stack: plan_stack(stack, project_dir) for stack in available_stacks(project_dir)}
    path = project_dir / SNAPSHOT_PATH
    write_snapshot(path, plans)
    print(f"wrote {path}: " + ", ".join(f"{env} {len(plan)}" for env, plan in plans.items()))
    return EXIT_OK


def cmd_versions(args: argparse.Namespace) -> int:
    report = default_policy().pins_report
    if report is None:
        print("error: the plan policy has no pins report", file=sys.stderr)
        return EXIT_UNREADABLE
    text, flagged = report(args.today or date.today())
    print(text, end="")
    return EXIT_UNREADABLE if args.strict and flagged else EXIT_OK


COMMANDS = {"plan": cmd_plan, "diff": cmd_diff, "upstream": cmd_upstream, "snapshot": cmd_snapshot,
            "versions": cmd_versions}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # the reader closed the pipe (`gpu-platform plan dev | head`): files are already written;
        # send what is left to /dev/null so the interpreter's final flush cannot fail again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except StackFileError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except (PlanSetupError, UnknownInvokeError, FetchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    except yaml.YAMLError as exc:  # Pulumi.yaml itself
        print(f"error: cannot read Pulumi.yaml: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE


if __name__ == "__main__":
    sys.exit(main())

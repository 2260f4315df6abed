"""The installed package is ``gpu_platform``, built from the ``components/`` folder."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {"gpu_platform": "components"}
    folders = {
        "gpu_platform" + ".".join(("",) + init.parent.relative_to(ROOT / "components").parts)
        for init in (ROOT / "components").rglob("__init__.py")
    }
    assert set(config["packages"]) == folders


# --- a regular (non-editable) install, used from a user project with its own components/ -----------

import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import sysconfig  # noqa: E402
import textwrap  # noqa: E402

import pytest  # noqa: E402

from gpu_platform.testing.conformance import UPSTREAM_ENV, upstream_root  # noqa: E402

USER_FILES = {
    "Pulumi.yaml": "name: team-gpu\nruntime: python\n",
    "Pulumi.dev.yaml": "config:\n  team-gpu:team: {name: vision, namespace: vision-ml}\n",
    "pytest.ini": "[pytest]\naddopts = -p no:cacheprovider\n",
    "conftest.py": 'pytest_plugins = ["gpu_platform.testing.fixtures"]\n',
    # the user's own package named like the library's source folder, with its own platform.py
    "components/__init__.py": "",
    "components/platform.py": '''
        """The team's own platform module (not gpu_platform.platform)."""
        from collections.abc import Iterator

        import pulumi

        from gpu_platform.config import ComponentArgs, ConfigIssue, component_args
        from gpu_platform.config.errors import issue
        from gpu_platform.core.component import child_options

        OWNER = "team-gpu"


        class TeamArgs(ComponentArgs):
            name: str
            namespace: str

            def issues(self) -> Iterator[ConfigIssue]:
                if not self.namespace.startswith(self.name):
                    yield issue("namespace", f"must start with the team name {self.name!r}",
                                self.namespace)


        class Team(pulumi.ComponentResource):
            def __init__(self, name, args, opts=None):
                args = component_args(TeamArgs, args, component="Team", name=name)
                super().__init__("team-gpu:index:Team", name, None, opts)
                import pulumi_kubernetes as k8s

                self.namespace = k8s.core.v1.Namespace(
                    f"{name}-ns", metadata={"name": args.namespace, "labels": {"owner": OWNER}},
                    opts=pulumi.ResourceOptions.merge(child_options(self, opts), pulumi.ResourceOptions(
                        retain_on_delete=True)),
                ).metadata["name"]
                self.register_outputs({"namespace": self.namespace})
    ''',
    "__main__.py": '''
        import pulumi

        from components.platform import Team

        team = Team("team", pulumi.Config().require_object("team"))
        pulumi.export("namespace", team.namespace)
    ''',
    "tests/test_team.py": '''
        import os
        import sys

        import gpu_platform
        from components.platform import OWNER, Team
        from gpu_platform.plan.safety import guard_problems


        def test_imports_are_the_users_and_the_installed_librarys():
            assert OWNER == "team-gpu"
            target = os.environ["PYTHONPATH"].split(os.pathsep)[0]  # the --target folder
            assert gpu_platform.__file__ == os.path.join(target, "gpu_platform", "__init__.py")
            assert not any("editable" in name for name in sys.modules)


        def test_plan_env_plans_this_project(plan_env, conformance):
            plan = plan_env("dev")
            assert (plan.project, plan.stack, plan.outputs) == ("team-gpu", "dev", {"namespace": "vision-ml"})
            assert [r.urn.split("::")[-1] for r in plan] == ["team-ns", "team"]
            assert guard_problems(plan) == []  # the library's policy, from the installed entry point
            assert conformance.check_plan(plan) == []


        def test_run_component_in_the_projects_namespace(run_component):
            import pulumi

            def program():
                Team("t", pulumi.Config("teams").require_object("t"))

            plan = run_component(program, config={"t": {"name": "nlp", "namespace": "nlp-1"}},
                                 config_namespace="teams")
            assert plan.one("kubernetes:core/v1:Namespace", "t-ns").urn == (
                "urn:pulumi:test::team-gpu::team-gpu:index:Team$kubernetes:core/v1:Namespace::t-ns"
            )


        def test_refused(refused):
            err = refused(lambda: Team("t", {"name": "nlp", "namespace": "ml"}))
            assert str(err).splitlines() == [
                "invalid args of Team 't' (1 error):",
                "  - namespace: must start with the team name 'nlp' (got \\"ml\\")",
            ]
    ''',
}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The library built and installed like `pip install gpu-platform` would: a wheel, no links
    back to this checkout (its sources are copied first so the build cannot see anything else)."""
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "components", source / "components",
                    ignore=shutil.ignore_patterns("__pycache__"))
    target = work / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
         str(source)], capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return target


def run_isolated(args, cwd, target):
    """Python with the installed library first and this venv's dependencies, but without site
    processing: this checkout's editable-install finder (a .pth file) is never loaded."""
    deps = sysconfig.get_paths()["purelib"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), deps])}
    root = upstream_root()
    if root is not None:
        env[UPSTREAM_ENV] = str(root)
    return subprocess.run([sys.executable, "-S", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_installed_library_is_not_shadowed_by_a_users_components_package(installed, tmp_path):
    for name, text in USER_FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip())
    check = (
        "import sys; sys.path.insert(0, '');"
        "import components.platform as mine, gpu_platform.platform as lib, gpu_platform.policy;"
        "print(mine.__file__); print(lib.__file__); print(gpu_platform.policy.POLICY.name)"
    )
    result = run_isolated(["-c", check], tmp_path, installed)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        str(tmp_path / "components" / "platform.py"),
        str(installed / "gpu_platform" / "platform.py"),
        "gpu-platform",
    ]
    # the harness from the installed extra, in the user's project: its Pulumi.yaml, its stack
    tests = run_isolated(["-m", "pytest", "-q", "tests"], tmp_path, installed)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    ran = "4 passed" if upstream_root() else "3 passed, 1 skipped"
    assert ran in tests.stdout.splitlines()[-1], tests.stdout

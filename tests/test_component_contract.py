"""Every ComponentResource in the package follows one contract: ``X(name, args, opts=None)``,
extra parameters keyword-only with defaults, and it registers its outputs."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pulumi

import gpu_platform

PACKAGE = Path(gpu_platform.__file__).parent


def components() -> dict[str, type]:
    found: dict[str, type] = {}
    for module in pkgutil.walk_packages([str(PACKAGE)], "gpu_platform."):
        if module.name.startswith("gpu_platform.testing"):
            continue
        for name, obj in vars(importlib.import_module(module.name)).items():
            if (inspect.isclass(obj) and issubclass(obj, pulumi.ComponentResource)
                    and obj.__module__ == module.name):
                found[f"{module.name}.{name}"] = obj
    return found


def test_the_package_has_its_components():
    assert len(components()) >= 23


def test_every_component_is_name_args_opts_with_keyword_only_extras():
    wrong = []
    for qualified, cls in components().items():
        params = list(inspect.signature(cls.__init__).parameters.values())
        positional = [(p.name, p.kind) for p in params[:4]]
        shape_ok = positional == [
            ("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            ("name", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            ("args", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            ("opts", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ] and params[3].default is None
        extras_ok = all(p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not p.empty
                        for p in params[4:])
        no_depends_on = all(p.name != "depends_on" for p in params)
        if not (shape_ok and extras_ok and no_depends_on):
            wrong.append(f"{qualified}{inspect.signature(cls.__init__)}")
    assert wrong == []


def test_every_component_validates_its_args_first_and_registers_outputs():
    """``component_args`` comes before ``super().__init__`` (nothing registered on bad args), and
    ``register_outputs`` is called (typed outputs a user wires onward)."""
    wrong = []
    for qualified, cls in components().items():
        source = inspect.getsource(cls.__init__)
        tree = ast.parse(inspect.cleandoc("\n" + source))
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
        names = [(n.lineno, ast.unparse(n.func)) for n in calls]
        checked = [line for line, func in names if func.endswith("component_args")]
        registered = [line for line, func in names if func.endswith("super().__init__")]
        outputs = [line for line, func in names if func.endswith("register_outputs")]
        if not checked or not registered or min(checked) > min(registered) or not outputs:
            wrong.append(qualified)
    assert wrong == []

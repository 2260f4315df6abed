"""Reading a ``Pulumi.<stack>.yaml`` strictly: every mistake is an error at its line and column.

PyYAML alone turns a syntax error into a traceback, merges duplicate keys silently (the last one
wins) and accepts any key under ``config:``, so a misspelt namespace (``gpu-platfrom:gpuAlerts``)
or a key without one (``gpuAlerts:``) is silently dropped by the program. ``read_stack_file``
reports each of these as ``<file>:<line>:<col>: <what>`` (one line per problem, all at once) in a
``StackFileError``, which the CLI turns into exit code 2.

Config keys follow the Pulumi CLI's rules (``sdk/go/common/resource/config/key.go``,
``ParseKey``): a stack file's key must be ``<namespace>:<name>`` (or the legacy
``<namespace>:config:<name>``); the CLI refuses a key without a namespace in a stack file. Only
``pulumi config set KEY`` and the project file's ``config:`` block prefix a bare key with the project
name (``sdk/go/common/workspace/config.go``, ``parseConfigKey``). Known namespaces are the
project's own, ``pulumi`` and those of the installed provider packages (``pulumi-aws`` -> ``aws``);
see :func:`gpu_platform.config.namespaces.known_namespaces`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml

from gpu_platform.config.namespaces import key_problems
from gpu_platform.config.yamlio import SafeLoader


@dataclass(frozen=True)
class StackFileProblem:
    """One problem at a place in a stack file (line and column count from 1)."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class StackFileError(pulumi.RunError):
    """A stack file that cannot be used as written; ``str()`` is one ``file:line:col: what`` per problem."""

    def __init__(self, problems: list[StackFileProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is below it (as a compiler prints it)."""
    try:
        return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd()) else str(path)
    except (OSError, ValueError):
        return str(path)


def read_stack_file(path: Path, project: str) -> dict[str, Any]:
    """The stack file's document, after checking its syntax, duplicate keys and config keys."""
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StackFileError([StackFileProblem(shown, 1, 1, f"cannot read the file: {exc}")]) from None
    try:
        node, document = _compose(text, SafeLoader)
    except yaml.MarkedYAMLError:
        try:  # PyYAML's own parser words syntax errors as this module's messages expect
            node, document = _compose(text, yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            raise StackFileError([_syntax_problem(exc, shown, text)]) from None
    problems = _duplicate_keys(node, shown) if node is not None else []
    if problems:
        raise StackFileError(problems)
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise StackFileError([StackFileProblem(shown, 1, 1, "must be a mapping with a 'config:' key")])
    config_node = _value_node(node, "config")
    config = document.get("config")
    if config is None:
        return document
    if not isinstance(config, dict) or not isinstance(config_node, yaml.MappingNode):
        line, column = _position(config_node or node)
        raise StackFileError([StackFileProblem(shown, line, column, "config: must be a mapping of keys")])
    key_messages = key_problems((str(key_node.value) for key_node, _value in config_node.value), project)
    found = []
    for key_node, _value in config_node.value:
        message = key_messages.get(str(key_node.value))
        if message:
            line, column = _position(key_node)
            found.append(StackFileProblem(shown, line, column, message))
    if found:
        raise StackFileError(found)
    return document


def _compose(text: str, loader_class: type[yaml.SafeLoader]) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (with line and column marks) and the document built from it."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _position(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _value_node(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return value_node
    return None


def _duplicate_keys(node: yaml.Node, shown: str) -> list[StackFileProblem]:
    """Every key written twice in one mapping, at any depth, naming both lines."""
    problems: list[StackFileProblem] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in current.value:
                if isinstance(key_node, yaml.ScalarNode):
                    line, column = _position(key_node)
                    if key_node.value in seen:
                        problems.append(StackFileProblem(
                            shown, line, column,
                            f"duplicate key '{key_node.value}' (first at line {seen[key_node.value]}); "
                            "YAML keeps only the last one: merge the two",
                        ))
                    else:
                        seen[key_node.value] = line
                stack.append(value_node)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return sorted(problems, key=lambda p: (p.line, p.column))


def _syntax_problem(exc: yaml.MarkedYAMLError, shown: str, text: str) -> StackFileProblem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    lines = text.splitlines()
    source_line = lines[line - 1] if 0 < line <= len(lines) else ""
    if "\t" in source_line[: len(source_line) - len(source_line.lstrip())] or "'\\t'" in str(exc.problem):
        tab = source_line.find("\t") + 1 or column
        return StackFileProblem(shown, line, tab, "tab character: YAML indents with spaces only")
    what = exc.problem or "invalid YAML"
    if "<block end>" in what or "block mapping start" in what:
        what = f"the indentation does not match the lines above: {what}"
    if exc.context:
        what = f"{what} ({exc.context}"
        if exc.context_mark and exc.context_mark.line + 1 != line:
            what += f" at line {exc.context_mark.line + 1}"
        what += ")"
    return StackFileProblem(shown, line, column, f"YAML syntax error: {what}")

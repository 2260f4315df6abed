"""Which config namespaces a stack may use, and what is wrong with a key that uses another.

A Pulumi config key is ``<namespace>:<name>``. The program reads its own namespace (the project
name); the engine hands provider namespaces (``aws:region``) to the providers and ``pulumi:`` keys
to itself. Any other namespace is read by nobody: a key there is a typo whose value is silently
dropped, so it is an error here, both when the CLI reads a stack file and when the program runs
under ``pulumi up`` (it sees every key of the stack: ``pulumi.runtime.config``).

Rules follow the Pulumi CLI's ``ParseKey`` (``sdk/go/common/resource/config/key.go``): exactly one
``:``, or the legacy ``<namespace>:config:<name>`` form.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from importlib import metadata

PULUMI_NAMESPACE = "pulumi"
# The providers this library deploys with; installed provider packages add theirs (see below).
LIBRARY_PROVIDERS = ("aws", "kubernetes")
_SEPARATORS = ("-", "_", ".", "/")


@functools.cache
def installed_provider_namespaces() -> frozenset[str]:
    """Namespaces of installed Pulumi provider packages: ``pulumi-<name>`` configures ``<name>:``."""
    found = set()
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name.startswith("pulumi-") and name != "pulumi-policy":
            found.add(name.removeprefix("pulumi-"))
    return frozenset(found)


def known_namespaces(project: str) -> list[str]:
    """The project's namespace, ``pulumi`` and every provider namespace, sorted."""
    return sorted({project, PULUMI_NAMESPACE, *LIBRARY_PROVIDERS, *installed_provider_namespaces()})


def key_problem(key: str, project: str, known: Iterable[str]) -> str | None:
    """What is wrong with config key ``key`` (None when nothing is), naming the fix."""
    known = sorted(known)
    parts = key.split(":")
    if len(parts) == 3 and parts[1] == "config":  # legacy form the Pulumi CLI still accepts
        parts = [parts[0], parts[2]]
    if len(parts) == 1:
        return f"'{key}' has no namespace (Pulumi reads a stack file's keys as <namespace>:<name>); " \
            f"did you mean '{_bare_key_fix(key, project, known)}'?"
    if len(parts) > 2:
        return f"'{key}' has more than one ':' (keys are <namespace>:<name>; a name cannot contain ':')"
    namespace, name = parts
    if not namespace or not name:
        return f"'{key}' needs both a namespace and a name (<namespace>:<name>)"
    if namespace in known:
        return None
    message = f"unknown namespace '{namespace}' in '{key}'"
    close = difflib.get_close_matches(namespace, known, n=1, cutoff=0.6)
    if close:
        message += f"; did you mean '{close[0]}:{name}'?"
    return message + f" known namespaces: {', '.join(known)}"


def key_problems(keys: Iterable[str], project: str) -> dict[str, str]:
    """What is wrong with each of ``keys``, for the keys that have a problem (in their order).

    The installed provider packages are looked up only when some key's namespace is not one this
    library knows: reading every installed distribution's metadata costs tens of milliseconds, and
    a well-formed stack file names only the project, ``pulumi``, ``aws`` and ``kubernetes``."""
    keys = list(keys)
    quick = sorted({project, PULUMI_NAMESPACE, *LIBRARY_PROVIDERS})
    if not any(key_problem(key, project, quick) for key in keys):
        return {}
    known = known_namespaces(project)
    return {key: problem for key in keys if (problem := key_problem(key, project, known))}


def _bare_key_fix(key: str, project: str, known: list[str]) -> str:
    # `gpu-platform-monitoring` is `gpu-platform:monitoring` with the wrong separator
    for namespace in sorted(known, key=len, reverse=True):
        for separator in _SEPARATORS:
            if key.startswith(namespace + separator) and len(key) > len(namespace) + 1:
                return f"{namespace}:{key[len(namespace) + 1:]}"
    return f"{project}:{key}"

"""What the plan needs but does not create, and placeholder values left in a stack file.

Prerequisites read from the plan: Secrets that objects reference (``secretKeyRef``,
``secretRef``, secret volumes, ``imagePullSecrets``) and that no Secret in the plan creates in
that namespace; namespaces objects live in that neither a Namespace nor a Helm release with
``createNamespace`` creates (``default`` and ``kube-system`` exist on every cluster; server-side
patches of objects another install creates are left out);
StorageClasses claims name that the plan does not create. Secrets a Helm chart creates itself
are invisible to the plan and may appear here: check them against the chart.

Placeholders in the stack file: addresses in the documentation ranges (TEST-NET-1/2/3, RFC 5737:
192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), which route nowhere; ``secure:`` values that are
not ciphertext (Pulumi writes ``v1:<nonce>:<ciphertext>`` for passphrase stacks, base64 for
cloud and service secrets providers), i.e. a note to run ``pulumi config set --secret``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from typing import Any

from gpu_platform.plan.model import Plan, helm_release_manifest, is_kubernetes_object, kubernetes_object

BUILTIN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
TEST_NETS = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"))
_CIPHERTEXT = re.compile(r"^(v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+|[A-Za-z0-9+/]{24,}={0,2})$")


def _secret_refs(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in ("secretKeyRef", "secretRef") and isinstance(item, Mapping) and item.get("name"):
                yield str(item["name"])
            elif key == "secret" and isinstance(item, Mapping) and item.get("secretName"):
                yield str(item["secretName"])
            elif key == "imagePullSecrets" and isinstance(item, list):
                yield from (str(s["name"]) for s in item if isinstance(s, Mapping) and s.get("name"))
            else:
                yield from _secret_refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _secret_refs(item)


def _id(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return "/".join(str(p) for p in (obj.get("kind"), meta.get("namespace"), meta.get("name")) if p)


def prerequisites(plan: Plan) -> list[str]:
    # patches (``*Patch`` types) change objects another install creates: not the plan's own
    objects = [kubernetes_object(r) for r in plan.resources
               if is_kubernetes_object(r) and not r.type.endswith("Patch")]
    secrets = set()
    namespaces = set(BUILTIN_NAMESPACES)
    classes = set()
    for obj in objects:
        meta = obj.get("metadata") or {}
        if obj.get("kind") == "Secret":
            secrets.add((meta.get("namespace"), meta.get("name")))
        elif obj.get("kind") == "Namespace":
            namespaces.add(str(meta.get("name")))
        elif obj.get("kind") == "StorageClass":
            classes.add(str(meta.get("name")))
    for release in plan.helm_releases():
        manifest = helm_release_manifest(release)
        if release.inputs.get("createNamespace"):
            namespaces.add(str(manifest["namespace"]))
    found: dict[str, list[str]] = {}
    for obj in objects:
        meta = obj.get("metadata") or {}
        ns = meta.get("namespace")
        for name in _secret_refs(obj.get("spec") or {}):
            if (ns, name) not in secrets:
                found.setdefault(f"Secret {ns}/{name}", []).append(_id(obj))
        if ns and str(ns) not in namespaces:
            found.setdefault(f"Namespace {ns}", []).append(_id(obj))
        if obj.get("kind") == "PersistentVolumeClaim":
            wanted = (obj.get("spec") or {}).get("storageClassName")
            if wanted and wanted not in classes:
                found.setdefault(f"StorageClass {wanted}", []).append(_id(obj))
    lines = []
    for what, users in found.items():
        shown = ", ".join(users[:2]) + (f" and {len(users) - 2} more" if len(users) > 2 else "")
        lines.append(f"{what} (referenced by {shown}; not created by the plan)")
    return lines


def _placeholder(value: Any) -> str | None:
    if isinstance(value, Mapping) and set(value) == {"secure"}:
        text = str(value["secure"])
        if not _CIPHERTEXT.match(text):
            return f"secure value {text!r} is not ciphertext: set it with `pulumi config set --secret`"
        return None
    if isinstance(value, str):
        try:
            network = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            return None
        if any(network.version == n.version and network.subnet_of(n) for n in TEST_NETS):  # type: ignore[arg-type]
            return f"{value} is a documentation range (RFC 5737 TEST-NET) that routes nowhere: replace it"
    return None


def placeholders(document: Mapping[str, Any]) -> list[str]:
    """``KEY.path: why`` for each placeholder in a stack file's ``config``."""
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        why = _placeholder(value)
        if why:
            found.append(f"{path}: {why}")
        elif isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")

    walk(document.get("config") or {}, "")
    return found


__all__ = ["TEST_NETS", "placeholders", "prerequisites"]

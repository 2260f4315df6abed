"""A captured plan: the resources a program registers, queryable by tests and written to disk."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gpu_platform.plan.capture import SECRET, Registration

if TYPE_CHECKING:
    from gpu_platform.plan.capture import CapturingMonitor

HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"

#: API groups served by the Kubernetes API server itself; every other group is a custom resource
#: (the conformance checks validate these with kubernetes-validate, others against CRD schemas).
BUILTIN_API_GROUPS: frozenset[str] = frozenset(
    {
        "",  # core: apiVersion "v1"
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "apps",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
    }
)

# Kubernetes resource types that are not objects the stack declares directly.
_NOT_OBJECTS = ("kubernetes:helm.sh/", "kubernetes:yaml", "kubernetes:kustomize")

PLAN_RESOURCE_KEYS = (
    "urn",
    "type",
    "name",
    "custom",
    "parent",
    "provider",
    "dependencies",
    "inputs",
    "protect",
    "retain_on_delete",
    "delete_before_replace",
    "aliases",
)


@dataclass
class Plan:
    project: str
    stack: str
    resources: list[Registration]
    outputs: dict[str, Any]
    output_secret_paths: list[str]
    stack_urn: str | None = None

    @classmethod
    def from_monitor(cls, project: str, stack: str, monitor: CapturingMonitor) -> Plan:
        return cls(
            project=project,
            stack=stack,
            # registration order depends on asyncio scheduling; URN order is stable across runs
            resources=[monitor.registrations[urn] for urn in sorted(monitor.order)],
            outputs=monitor.stack_outputs,
            output_secret_paths=monitor.stack_output_secrets,
            stack_urn=monitor.stack_urn,
        )

    # --- queries ----------------------------------------------------------------------------

    def find(self, type_: str | None = None, name: str | None = None) -> list[Registration]:
        return [
            r
            for r in self.resources
            if (type_ is None or r.type == type_) and (name is None or r.name == name)
        ]

    def one(self, type_: str, name: str) -> Registration:
        """The single resource of this type and name; the error lists what exists instead."""
        found = self.find(type_, name)
        if len(found) == 1:
            return found[0]
        names = sorted(r.name for r in self.find(type_))
        raise LookupError(f"{len(found)} resources {type_} named {name!r}; that type has {names}")

    def by_urn(self, urn: str) -> Registration:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise LookupError(f"no resource with URN {urn}")

    def children(self, parent: Registration) -> list[Registration]:
        return [r for r in self.resources if r.parent == parent.urn]

    def kubernetes_objects(self) -> list[dict[str, Any]]:
        """Every Kubernetes object the program declares directly, as a manifest."""
        return [kubernetes_object(r) for r in self.resources if is_kubernetes_object(r)]

    def helm_releases(self) -> list[Registration]:
        return self.find(HELM_RELEASE_TYPE)

    def types(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for resource in self.resources:
            counts[resource.type] = counts.get(resource.type, 0) + 1
        return dict(sorted(counts.items()))

    # --- serialisation ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [
                {key: getattr(r, key) for key in PLAN_RESOURCE_KEYS} for r in self.resources
            ],
            "outputs": self.outputs,
        }

    def __iter__(self) -> Iterator[Registration]:
        return iter(self.resources)

    def __len__(self) -> int:
        return len(self.resources)


def is_kubernetes_object(resource: Registration) -> bool:
    return (
        resource.custom
        and resource.type.startswith("kubernetes:")
        and not resource.type.startswith(_NOT_OBJECTS)
        and "kind" in resource.inputs
    )


REDACTED_ANNOTATION = "gpu-platform.io/plan-redacted"


def kubernetes_object(resource: Registration) -> dict[str, Any]:
    """The manifest of a Kubernetes resource: its inputs in the API's key order.

    A map that is secret as a whole (a Secret's ``data``/``stringData``) is written as ``{}``
    and named in the plan-only annotation ``gpu-platform.io/plan-redacted``, so the manifest
    stays a valid object without revealing even the keys.
    """
    inputs = dict(resource.inputs)
    metadata = dict(inputs.pop("metadata", {}) or {})
    manifest: dict[str, Any] = {
        "apiVersion": inputs.pop("apiVersion"),
        "kind": inputs.pop("kind"),
        "metadata": metadata,
    }
    redacted = sorted(k for k in ("data", "stringData", "binaryData") if inputs.get(k) == SECRET)
    for key in redacted:
        inputs[key] = {}
    if redacted:
        annotations = dict(metadata.get("annotations") or {})
        annotations[REDACTED_ANNOTATION] = ",".join(redacted)
        metadata["annotations"] = annotations
    manifest.update(inputs)
    return manifest


def helm_release_manifest(resource: Registration) -> dict[str, Any]:
    """What a Helm install is: where the chart comes from, its pinned version and full values."""
    inputs = resource.inputs
    chart = str(inputs.get("chart", ""))
    repository = (inputs.get("repositoryOpts") or {}).get("repo")
    if chart.startswith("oci://"):
        repository, _, chart = chart.rpartition("/")
    return {
        "release": inputs.get("name", resource.name),
        "repository": repository,
        "chart": chart,
        "version": inputs.get("version"),
        "namespace": inputs.get("namespace"),
        "values": inputs.get("values", {}),
    }

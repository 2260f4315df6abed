"""storage: every claim resolves to a StorageClass whose CSI driver is installed.

Claims: PersistentVolumeClaims, every ``volumeClaimTemplate(s)`` inside objects (StatefulSets,
the Prometheus operator's ``storageSpec``) and inside Helm values of charts that were not
rendered, and the claims of kustomize installs whose contents the plan cannot see (Kubeflow
Pipelines' MySQL ``mysql-pv-claim`` and MinIO ``minio-pvc``, no storageClassName: upstream
kubeflow/pipelines manifests/kustomize/third-party/{mysql,minio}/base, tag 2.14.3). A claim
without ``storageClassName`` needs a default class (EKS clusters from 1.30 on have none:
https://docs.aws.amazon.com/eks/latest/userguide/create-storage-class.html); ``""`` binds
statically and is not checked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from gpu_platform.plan.readiness import Finding, ReadinessInput, object_id

RULE = "storage"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
# Provisioners that need no CSI driver (static local volumes).
IN_TREE = frozenset({"kubernetes.io/no-provisioner"})
# What installs a CSI driver, by EKS managed add-on and by Helm chart (their CSIDriver names).
ADDON_DRIVERS = {
    "aws-ebs-csi-driver": "ebs.csi.aws.com",
    "aws-efs-csi-driver": "efs.csi.aws.com",
    "aws-mountpoint-s3-csi-driver": "s3.csi.aws.com",
}
CHART_DRIVERS = {
    "aws-ebs-csi-driver": "ebs.csi.aws.com",
    "aws-efs-csi-driver": "efs.csi.aws.com",
    "juicefs-csi-driver": "csi.juicefs.com",
    "fluid": "fuse.csi.fluid.io",
}
KUSTOMIZE_CLAIMS = {  # directory fragment -> (namespace, claim names) on the default class
    "kubeflow/pipelines.git/manifests/kustomize/env/": ("kubeflow", ("mysql-pv-claim", "minio-pvc")),
}
EKS_ADDON_TYPE = "aws:eks/addon:Addon"
KUSTOMIZE_TYPE = "kubernetes:kustomize/v2:Directory"


@dataclass(frozen=True)
class Claim:
    resource: str
    storage_class: str | None  # None: the default class


def installed_drivers(subject: ReadinessInput) -> set[str]:
    drivers = set(subject.facts.csi_drivers)
    for addon in subject.plan.find(EKS_ADDON_TYPE):
        driver = ADDON_DRIVERS.get(str(addon.inputs.get("addonName")))
        if driver:
            drivers.add(driver)
    for release in subject.helm_releases:
        driver = CHART_DRIVERS.get(str(release["chart"]))
        if driver:
            drivers.add(driver)
    drivers.update((o.get("metadata") or {}).get("name", "") for o in subject.objects
                   if o.get("kind") == "CSIDriver")
    return drivers


def storage_classes(subject: ReadinessInput) -> dict[str, tuple[str, bool]]:
    """name -> (provisioner, is default), the plan's classes over the environment's."""
    classes = {c.name: (c.provisioner, c.default) for c in subject.facts.storage_classes}
    for obj in subject.objects:
        if obj.get("kind") == "StorageClass":
            meta = obj.get("metadata") or {}
            default = str((meta.get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION)) == "true"
            classes[meta.get("name", "")] = (str(obj.get("provisioner", "")), default)
    return classes


def _templates(value: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if key == "volumeClaimTemplate" and isinstance(item, Mapping) and "spec" in item:
                yield here, item
            elif key == "volumeClaimTemplates" and isinstance(item, list):
                for i, template in enumerate(item):
                    if isinstance(template, Mapping):
                        name = (template.get("metadata") or {}).get("name", i)
                        yield f"{here}[{name}]", template
            else:
                yield from _templates(item, here)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _templates(item, f"{path}[{i}]")


def _class_of(claim: Mapping[str, Any]) -> str | None:
    spec = claim.get("spec") or {}
    return spec.get("storageClassName") if "storageClassName" in spec else None


def claims(subject: ReadinessInput) -> Iterator[Claim]:
    for obj in subject.objects:
        if obj.get("kind") == "PersistentVolumeClaim":
            yield Claim(object_id(obj), _class_of(obj))
        else:
            for path, template in _templates(obj.get("spec") or {}, "spec"):
                yield Claim(f"{object_id(obj)} {path}", _class_of(template))
    rendered = set(subject.rendered_from.values())
    for release in subject.helm_releases:
        key = f"{release['namespace']}/{release['release']}"
        if key in rendered:
            continue  # its objects are analysed instead of its values
        for path, template in _templates(release.get("values") or {}, "values"):
            yield Claim(f"helm/{key} {path}", _class_of(template))
    for directory in subject.plan.find(KUSTOMIZE_TYPE):
        source = str(directory.inputs.get("directory", ""))
        for fragment, (namespace, names) in KUSTOMIZE_CLAIMS.items():
            if fragment in source:
                for name in names:
                    yield Claim(f"PersistentVolumeClaim/{namespace}/{name} (kustomize)", None)


def storage_rule(subject: ReadinessInput) -> Iterator[Finding]:
    classes = storage_classes(subject)
    drivers = installed_drivers(subject)
    defaults = sorted(name for name, (_, default) in classes.items() if default)
    for claim in claims(subject):
        name = claim.storage_class
        if name == "":
            continue
        if name is None:
            if not defaults:
                yield Finding(RULE, "error", claim.resource,
                              "names no StorageClass and the cluster has no default one: it stays "
                              "Pending (create a default class, or declare the cluster's in "
                              "cluster.storageClasses)")
                continue
            name = defaults[0]
        if name not in classes:
            known = ", ".join(sorted(classes)) or "none"
            yield Finding(RULE, "error", claim.resource,
                          f"StorageClass {name!r} is neither created by the plan nor declared in "
                          f"cluster.storageClasses (known: {known})")
            continue
        provisioner = classes[name][0]
        if provisioner not in drivers and provisioner not in IN_TREE:
            yield Finding(RULE, "error", claim.resource,
                          f"StorageClass {name!r} provisions with {provisioner}, a CSI driver the plan "
                          "does not install")

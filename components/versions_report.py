"""``gpu-platform versions``: every pin, its source and date, and which ones need attention.

Reads the pins from ``gpu_platform.versions`` (charts, images, git refs, the per-minor EKS add-on
table and autoscaler images) and the EKS lifecycle from ``gpu_platform.catalog.eks_versions``.
A pin is flagged when its version was published more than a year before ``today`` (upstream has
likely moved on; Renovate's pull requests should have caught it) or when it is past its end of life
(EKS versions: end of extended support, and end of standard support as a warning). The EKS
add-on rows are the offline plan's answers, noted as unverified: a deploy asks AWS.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from gpu_platform import versions
from gpu_platform.catalog.eks_versions import EKS_KUBERNETES_VERSION, EKS_VERSIONS
from gpu_platform.versions import ChartPin, GitRefPin, ImagePin

STALE_AFTER = timedelta(days=365)


@dataclass(frozen=True)
class PinRow:
    name: str  # where it lives: the constant, or constant[key]
    kind: str  # chart, image, git, eks-addon, eks
    target: str  # what is pinned: chart@repository, image repository, owner/repo, add-on
    version: str
    source: str
    released: date  # for tables checked as a whole: the date they were read
    end_of_life: date | None = None
    end_of_standard: date | None = None
    dated: str = "released"  # "written" for tables without a per-version release date
    note: str = ""

    def flags(self, today: date) -> list[str]:
        found = []
        if self.end_of_life is not None and today > self.end_of_life:
            found.append(f"past end of life ({self.end_of_life.isoformat()})")
        elif self.end_of_standard is not None and today > self.end_of_standard:
            found.append(f"past standard support ({self.end_of_standard.isoformat()})")
        if today - self.released > STALE_AFTER:
            found.append(f"older than a year ({self.released.isoformat()})")
        return found


def _row(name: str, pin: ChartPin | ImagePin | GitRefPin) -> PinRow:
    released = date.fromisoformat(pin.released)
    if isinstance(pin, ChartPin):
        return PinRow(name, "chart", f"{pin.chart} @ {pin.repository}", pin.version, pin.source, released)
    if isinstance(pin, ImagePin):
        return PinRow(name, "image", pin.repository, pin.tag, pin.source, released)
    return PinRow(name, "git", pin.repository, pin.ref, pin.source, released)


def pin_rows() -> Iterator[PinRow]:
    """Every pin the library deploys, in the order versions.py declares them."""
    for name, value in vars(versions).items():
        if isinstance(value, ChartPin | ImagePin | GitRefPin):
            yield _row(name, value)
        elif name == "CLUSTER_AUTOSCALER_IMAGES":
            for minor, pin in value.items():
                yield _row(f"{name}[{minor}]", pin)
    checked = date.fromisoformat(versions.EKS_ADDONS_CHECKED)
    for minor, addons in versions.EKS_ADDON_VERSIONS.items():
        row = EKS_VERSIONS.get(minor)
        for addon, version in addons.items():
            yield PinRow(
                f"EKS_ADDON_VERSIONS[{minor}][{addon}]", "eks-addon", f"{addon} (Kubernetes {minor})",
                version, versions.EKS_ADDONS_SOURCE, checked,
                end_of_life=row.end_of_extended if row else None, dated="written",
                note="the offline plan's answer; not verified offline (the -eksbuild builds are "
                     "only published by the EKS API); pulumi up asks AWS",
            )
    eks = EKS_VERSIONS[EKS_KUBERNETES_VERSION]
    yield PinRow(
        "EKS_KUBERNETES_VERSION", "eks", "EKS Kubernetes (default)", eks.version, eks.source,
        eks.released, end_of_life=eks.end_of_extended, end_of_standard=eks.end_of_standard,
    )


def format_report(today: date) -> tuple[str, int]:
    """The report's text and how many pins are flagged."""
    rows = list(pin_rows())
    flagged = 0
    lines = [f"Pinned versions on {today.isoformat()} ({len(rows)} pins; flags: older than a year, "
             "past end of life or standard support)"]
    for row in rows:
        flags = row.flags(today)
        flagged += bool(flags)
        mark = "!" if flags else " "
        dated = f"{row.dated} {row.released.isoformat()}"
        lines.append(f"{mark} {row.name}: {row.target} {row.version} ({dated})")
        lines.append(f"      source: {row.source}")
        if row.note:
            lines.append(f"      note: {row.note}")
        lines.extend(f"      FLAG: {flag}" for flag in flags)
    lines.append(f"{flagged} of {len(rows)} pins flagged")
    return "\n".join(lines) + "\n", flagged


__all__ = ["STALE_AFTER", "PinRow", "format_report", "pin_rows"]

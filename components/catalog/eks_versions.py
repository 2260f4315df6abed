"""EKS Kubernetes versions as data: when each leaves standard and extended support, what it costs.

A minor is in EKS standard support for 14 months after its EKS release, then in extended support
for 12 more at a higher control-plane rate; after that EKS upgrades the cluster itself
(https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html). AWS defaults a
cluster's ``upgradePolicy.supportType`` to EXTENDED, so a cluster that silently ages past standard
support is billed the extended rate: the library always sets it (STANDARD unless asked).

Dates: 1.32-1.35 from the EKS Kubernetes release calendar as mirrored by
https://endoflife.date/amazon-eks (snapshot of 2026-02); 1.33's extended support from 2026-07-29,
1.34's end of standard support on 2026-12-02 and 1.36's GA on 2026-06-02 as the calendar was read
for issue 15 on 2026-11-26; 1.36's end dates follow the 14 + 12 month rule (not read offline).
EKS 1.37 is not listed: its EKS availability could not be confirmed offline. Versions whose
extended support has ended (1.31 and older on 2026-11-26) cannot be created and are not listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from gpu_platform.versions import (
    CLUSTER_AUTOSCALER_IMAGES,
    EKS_ADDON_VERSIONS,
    KNATIVE_MIN_KUBERNETES,
    KNATIVE_SERVING_VERSION,
    KUBERNETES_MINORS,
)

SupportType = Literal["STANDARD", "EXTENDED"]

CALENDAR_SOURCE = "https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html"
CALENDAR_CHECKED = date(2026, 11, 26)


@dataclass(frozen=True)
class EksVersion:
    version: str  # Kubernetes minor, as EKS takes it ("1.36")
    released: date  # EKS GA
    end_of_standard: date
    end_of_extended: date
    source: str = CALENDAR_SOURCE

    def support_on(self, day: date) -> Literal["unreleased", "standard", "extended", "ended"]:
        if day < self.released:
            return "unreleased"
        if day <= self.end_of_standard:
            return "standard"
        if day <= self.end_of_extended:
            return "extended"
        return "ended"


EKS_VERSIONS: dict[str, EksVersion] = {
    v.version: v
    for v in (
        EksVersion("1.32", date(2025, 1, 25), date(2026, 3, 23), date(2027, 3, 23)),
        EksVersion("1.33", date(2025, 5, 28), date(2026, 7, 29), date(2027, 7, 29)),
        EksVersion("1.34", date(2025, 10, 6), date(2026, 12, 2), date(2027, 12, 2)),
        EksVersion("1.35", date(2026, 1, 28), date(2027, 3, 27), date(2028, 3, 27)),
        EksVersion("1.36", date(2026, 6, 2), date(2027, 8, 2), date(2028, 8, 2)),
    )
}

# Control-plane price per cluster-hour by support tier (https://aws.amazon.com/eks/pricing/:
# $0.10 standard, $0.60 extended, as measured for issue 15 on 2026-11-26; not re-read offline).
CONTROL_PLANE_PRICING_SOURCE = "https://aws.amazon.com/eks/pricing/ (issue 15, 2026-11-26)"
CONTROL_PLANE_USD_HOUR: dict[str, float] = {"standard": 0.10, "extended": 0.60}


def stack_supports(version: str) -> bool:
    """Whether the library validates ``version`` and has its add-on and autoscaler pins."""
    return (
        version in KUBERNETES_MINORS
        and version in EKS_ADDON_VERSIONS
        and version in CLUSTER_AUTOSCALER_IMAGES
    )


def default_version(today: date = CALENDAR_CHECKED) -> str:
    """The newest EKS version in standard support on ``today`` that the rest of the stack supports."""
    newest = newest_supported(today)
    if newest is None:
        raise LookupError(f"no EKS version in standard support on {today} is supported by the stack")
    return newest


def _minor(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def newest_supported(today: date) -> str | None:
    candidates = [
        v.version for v in EKS_VERSIONS.values()
        if v.support_on(today) == "standard" and stack_supports(v.version)
    ]
    return max(candidates, key=_minor, default=None)


# The default of gpu-platform:aws.cluster.version. A constant, so plans do not change with the date
# they run on; tests/test_versions_eks.py fails once it is no longer default_version(checked date).
EKS_KUBERNETES_VERSION = "1.36"


def control_plane_rate(version: str, support_type: SupportType, today: date) -> float:
    """$/h the control plane costs on ``today``: the extended rate only once standard support has
    ended and the cluster opted into EXTENDED (STANDARD clusters are upgraded instead)."""
    tier = EKS_VERSIONS[version].support_on(today)
    extended = tier in ("extended", "ended") and support_type == "EXTENDED"
    return CONTROL_PLANE_USD_HOUR["extended" if extended else "standard"]


def control_plane_hourly(cluster_inputs: Mapping[str, Any], today: date) -> tuple[float, str]:
    """$/h of an ``aws:eks/cluster:Cluster`` as a plan records its inputs (``version``,
    ``upgradePolicy.supportType``), and the tier it is billed at; for the plan's cost summary."""
    version = str(cluster_inputs.get("version"))
    support_type = (cluster_inputs.get("upgradePolicy") or {}).get("supportType", "EXTENDED")
    if version not in EKS_VERSIONS:
        return CONTROL_PLANE_USD_HOUR["standard"], "standard"
    rate = control_plane_rate(version, support_type, today)
    return rate, "extended" if rate == CONTROL_PLANE_USD_HOUR["extended"] else "standard"


def support_warnings(version: str, support_type: SupportType, today: date) -> list[str]:
    """Warnings for a cluster on ``version`` planned on ``today`` (empty when all is current)."""
    found: list[str] = []
    row = EKS_VERSIONS[version]
    tier = row.support_on(today)
    if tier in ("extended", "ended"):
        if support_type == "EXTENDED":
            consequence = (f"billed ${CONTROL_PLANE_USD_HOUR['extended']:.2f}/h instead of "
                           f"${CONTROL_PLANE_USD_HOUR['standard']:.2f}/h until "
                           f"{row.end_of_extended.isoformat()}")
        else:
            consequence = ("upgradePolicy.supportType is STANDARD, so EKS upgrades the control plane "
                           "to the next version automatically")
        found.append(
            f"EKS {version} left standard support on {row.end_of_standard.isoformat()}: "
            f"{consequence}; upgrade to {newest_supported(today) or 'a version in standard support'}"
        )
    elif tier == "standard" and (row.end_of_standard - today).days <= 60:
        found.append(
            f"EKS {version} leaves standard support on {row.end_of_standard.isoformat()} "
            f"({(row.end_of_standard - today).days} days); plan the upgrade to a newer version"
        )
    if not stack_supports(version):
        found.append(
            f"EKS {version} is outside the Kubernetes minors the library validates "
            f"({', '.join(KUBERNETES_MINORS)}); add-ons and charts are untested on it"
        )
    if _minor(version) < _minor(KNATIVE_MIN_KUBERNETES):
        found.append(
            f"Knative Serving {KNATIVE_SERVING_VERSION} (serving.deploymentMode Serverless) needs "
            f"Kubernetes {KNATIVE_MIN_KUBERNETES} or newer; EKS {version} cannot run it"
        )
    return found


__all__ = [
    "CALENDAR_CHECKED",
    "CONTROL_PLANE_USD_HOUR",
    "EKS_KUBERNETES_VERSION",
    "EKS_VERSIONS",
    "EksVersion",
    "SupportType",
    "control_plane_hourly",
    "control_plane_rate",
    "default_version",
    "newest_supported",
    "stack_supports",
    "support_warnings",
]

"""alerts: every metric an alert or recording rule reads has a scrape path in the plan (issue 14).

The check itself is ``gpu_platform.monitoring.readiness.blind_alerts`` (produced by an exporter the
plan runs, selected by a monitor Prometheus picks up, reachable through the NetworkPolicies); this
rule reports each of its findings as an error on the PrometheusRule that holds the alert.

Where the plan installs no Prometheus (``monitoring.installPrometheusStack: false``: the cluster's
own Prometheus loads the rules), the scrape paths are outside the plan and cannot be checked: one
warning per PrometheusRule names its rules and metrics instead of an error per metric.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from gpu_platform.monitoring.readiness import ScrapeModel, blind_alerts
from gpu_platform.plan.readiness import Finding, ReadinessInput, object_id

RULE = "alerts"


def rule_owners(objects: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """alert or record name -> the PrometheusRule object that defines it."""
    owners: dict[str, str] = {}
    for obj in objects:
        if obj.get("kind") != "PrometheusRule":
            continue
        for group in (obj.get("spec") or {}).get("groups") or []:
            for rule in group.get("rules") or []:
                name = rule.get("alert") or rule.get("record")
                if name:
                    owners.setdefault(str(name), object_id(obj))
    return owners


def alerts_rule(subject: ReadinessInput) -> Iterator[Finding]:
    owners = rule_owners(subject.objects)
    blind = blind_alerts(subject.plan)
    if blind and ScrapeModel(subject.plan).monitoring_namespace is None:
        unchecked: dict[str, dict[str, set[str]]] = {}
        for finding in blind:
            owner = owners.get(finding.rule, "PrometheusRule")
            unchecked.setdefault(owner, {}).setdefault(finding.rule, set()).add(finding.metric)
        for owner, rules in sorted(unchecked.items()):
            metrics = sorted({m for found in rules.values() for m in found})
            yield Finding(RULE, "warning", owner, (
                f"the plan installs no Prometheus (kube-prometheus-stack), so whether the cluster's "
                f"scrapes what {len(rules)} rule(s) ({', '.join(sorted(rules))}) read is not checked: "
                f"make it scrape {', '.join(metrics)}"))
        return
    for finding in blind:
        owner = owners.get(finding.rule, "PrometheusRule")
        yield Finding(RULE, "error", f"{owner} {finding.rule}", finding.message)

"""The platform's readiness policy: the rules for Kubernetes and GPU pools, and the cluster facts
of an environment, handed to the generic engine (``gpu_platform.plan.readiness``).

Rules (each a pure function of a ``ReadinessInput``):

- ``storage`` (``storage.py``): every claim resolves to a StorageClass whose CSI driver is installed;
- ``scheduling`` (``scheduling.py``): every pod template fits some pool; GPU-node DaemonSets
  tolerate every GPU pool's taints;
- ``network`` (``network.py``): NetworkPolicies are enforced and allow what workloads need;
- ``data`` (``data.py``): Fluid datasets are mountable where workloads run; mounted claims exist;
- ``alerts`` (``alerts.py``): no alert is blind (issue 14's scrape-path check,
  ``gpu_platform.monitoring.readiness.blind_alerts``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from gpu_platform.config import validate_model
from gpu_platform.environment import EnvironmentConfig
from gpu_platform.plan.model import Plan
from gpu_platform.plan.readiness import ClusterFacts, Finding, ReadinessInput, Rule, analyse
from gpu_platform.readiness.alerts import alerts_rule
from gpu_platform.readiness.data import data_rule
from gpu_platform.readiness.facts import environment_facts
from gpu_platform.readiness.network import network_rule
from gpu_platform.readiness.scheduling import scheduling_rule
from gpu_platform.readiness.storage import storage_rule

RULES: tuple[Rule, ...] = (storage_rule, scheduling_rule, network_rule, data_rule, alerts_rule)


def _parse(raw: str) -> Any:
    text = raw.strip()
    if text[:1] in ("{", "[") or text in ("true", "false", "null"):
        try:
            return json.loads(text)
        except ValueError:
            return raw
    return raw


def environment_from_config(values: Mapping[str, str], namespace: str) -> EnvironmentConfig:
    """The environment model from a stack's flat config (``StackConfig.values``)."""
    data = {key.partition(":")[2]: _parse(value) for key, value in values.items()
            if key.partition(":")[0] == namespace}
    return validate_model(EnvironmentConfig, data, source=f"configuration ({namespace}:*)")


def platform_readiness(plan: Plan, facts: ClusterFacts,
                       rendered: Mapping[str, Sequence[dict[str, Any]]] | None = None) -> list[Finding]:
    return analyse(ReadinessInput.from_plan(plan, facts, rendered), RULES)


__all__ = ["RULES", "environment_facts", "environment_from_config", "platform_readiness"]

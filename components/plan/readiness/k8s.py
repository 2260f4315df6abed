"""Kubernetes semantics the readiness rules share (pure): quantities, taints and selectors,
pod requests, and NetworkPolicy evaluation.

Sources: taints and tolerations https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/
(a NoSchedule/NoExecute taint repels a pod unless a toleration matches key, value (operator Equal)
or key alone (Exists), and effect, an empty effect matching every effect, an empty key with Exists
matching every taint); node affinity https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/
(terms ORed, expressions ANDed); a pod's effective request is max(sum of containers, largest init
container); NetworkPolicy https://kubernetes.io/docs/concepts/services-networking/network-policies/
(a pod is isolated for a direction once any policy selecting it lists that policyType; then only
the union of the rules of those policies is allowed).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_FACTORS = {
    "": Decimal(1), "m": Decimal("0.001"), "k": Decimal(10) ** 3, "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9, "T": Decimal(10) ** 12, "P": Decimal(10) ** 15, "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40, "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
}
GIB = 2**30


def quantity(value: Any) -> Decimal | None:
    """A quantity in base units; None for what is not one (templated or unknown values)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    match = _QUANTITY.match(str(value).strip())
    if match is None:
        return None
    return Decimal(match.group(1)) * _FACTORS[match.group(2) or ""]


# --- scheduling --------------------------------------------------------------------------------

REPELLING_EFFECTS = ("NoSchedule", "NoExecute")


def tolerates(tolerations: Iterable[Mapping[str, Any]], taint: Mapping[str, Any]) -> bool:
    for tol in tolerations:
        if not isinstance(tol, Mapping):
            continue
        effect = tol.get("effect") or ""
        if effect and effect != taint.get("effect"):
            continue
        operator = tol.get("operator") or "Equal"
        key = tol.get("key") or ""
        if operator == "Exists":
            if not key or key == taint.get("key"):
                return True
        elif key == taint.get("key") and str(tol.get("value") or "") == str(taint.get("value") or ""):
            return True
    return False


def untolerated(tolerations: Iterable[Mapping[str, Any]],
                taints: Iterable[Mapping[str, Any]]) -> list[str]:
    """The repelling taints (``key=value:Effect``) the tolerations do not cover."""
    tols = list(tolerations)
    return [f"{t.get('key')}={t.get('value', '')}:{t.get('effect')}" for t in taints
            if t.get("effect") in REPELLING_EFFECTS and not tolerates(tols, t)]


def _expression_matches(expr: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key, op = str(expr.get("key", "")), expr.get("operator")
    values = [str(v) for v in expr.get("values") or []]
    present = key in labels
    if op == "In":
        return present and labels[key] in values
    if op == "NotIn":
        return not present or labels[key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt") and present and values:
        try:
            number, bound = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return number > bound if op == "Gt" else number < bound
    return False


def selector_mismatch(pod_spec: Mapping[str, Any], labels: Mapping[str, str]) -> str | None:
    """Why a node with ``labels`` does not satisfy the pod's nodeSelector/required affinity."""
    for key, value in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(key) != str(value):
            return f"nodeSelector {key}={value}"
    required = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms") or []
    if terms and not any(
        all(_expression_matches(e, labels) for e in term.get("matchExpressions") or [])
        for term in terms
    ):
        return "required node affinity"
    return None


def pod_requests(pod_spec: Mapping[str, Any]) -> dict[str, Decimal]:
    """The pod's effective requests (limits stand in for requests that are not set)."""
    def of(container: Mapping[str, Any]) -> dict[str, Decimal]:
        resources = container.get("resources") or {}
        merged = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
        out = {}
        for name, value in merged.items():
            amount = quantity(value)
            if amount is not None:
                out[name] = amount
        return out

    total: dict[str, Decimal] = {}
    for container in pod_spec.get("containers") or []:
        for name, amount in of(container).items():
            total[name] = total.get(name, Decimal(0)) + amount
    for container in pod_spec.get("initContainers") or []:
        for name, amount in of(container).items():
            total[name] = max(total.get(name, Decimal(0)), amount)
    return total


# --- NetworkPolicy -----------------------------------------------------------------------------

NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Peer:
    """One end of a connection: a pod (namespace and labels) or an address outside the cluster."""

    namespace: str | None = None
    labels: Mapping[str, str] | None = None  # None: any pod of the namespace
    namespace_labels: Mapping[str, str] | None = None
    ip: str | None = None  # set for one known address
    # an address outside the pod network that the policy cannot know in advance (the API
    # server's endpoints, object storage): any ipBlock peer is taken to cover it
    external: bool = False


def labels_match(selector: Mapping[str, Any] | None, labels: Mapping[str, str] | None) -> bool:
    """A LabelSelector against labels; ``labels`` None stands for "some pod" (matches any)."""
    if selector is None:
        return True
    if labels is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != str(value):
            return False
    return all(_expression_matches(e, labels) for e in selector.get("matchExpressions") or [])


def _peer_matches(peer: Mapping[str, Any], target: Peer, own_namespace: str) -> bool:
    if "ipBlock" in peer:
        if target.external:
            return True
        if target.ip is None:
            return False
        block = peer["ipBlock"]
        address = ipaddress.ip_address(target.ip)
        if address not in ipaddress.ip_network(block.get("cidr", "0.0.0.0/0"), strict=False):
            return False
        return not any(address in ipaddress.ip_network(c, strict=False) for c in block.get("except") or [])
    if target.ip is not None or target.external:
        return False
    if "namespaceSelector" in peer:
        ns_labels = {NAME_LABEL: target.namespace or "", **(target.namespace_labels or {})}
        if not labels_match(peer["namespaceSelector"], ns_labels):
            return False
    elif target.namespace != own_namespace:
        return False
    return labels_match(peer.get("podSelector"), target.labels)


def _port_matches(ports: Sequence[Mapping[str, Any]] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    for entry in ports:
        if (entry.get("protocol") or "TCP") != protocol:
            continue
        value, end = entry.get("port"), entry.get("endPort")
        if value is None or (isinstance(value, int) and (value == port or (end and value <= port <= end))):
            return True
    return False


def allowed(policies: Iterable[Mapping[str, Any]], direction: str, pod_namespace: str,
            pod_labels: Mapping[str, str], other: Peer, port: int, protocol: str = "TCP") -> bool:
    """Whether NetworkPolicies in the pod's namespace allow traffic to (Egress) or from (Ingress)
    ``other`` on ``port``. Only one direction is judged; the other end's own policies are not."""
    key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    selecting = [
        p for p in policies
        if (p.get("metadata") or {}).get("namespace") == pod_namespace
        and labels_match((p.get("spec") or {}).get("podSelector") or {}, pod_labels)
        and direction in _policy_types(p.get("spec") or {})
    ]
    if not selecting:
        return True
    for policy in selecting:
        for rule in (policy.get("spec") or {}).get(key) or []:
            peers = rule.get(peers_key)
            if not _port_matches(rule.get("ports"), port, protocol):
                continue
            if not peers or any(_peer_matches(peer, other, pod_namespace) for peer in peers):
                return True
    return False


def _policy_types(spec: Mapping[str, Any]) -> list[str]:
    types = spec.get("policyTypes")
    if types:
        return list(types)
    return ["Ingress", *(["Egress"] if "egress" in spec else [])]

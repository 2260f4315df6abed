"""CIDR checks for secondary networks (pure, ``ipaddress`` only).

A whereabouts range that overlaps another network's range, or the cluster's own pod or service
CIDR, hands out addresses that are already routed elsewhere: pods get an IP, and traffic silently
goes to the wrong place. Every such clash is a config error naming both paths and both values.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

from gpu_platform.config import ConfigIssue
from gpu_platform.config.errors import issue

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

CIDR_HINT = "must be a CIDR such as 192.168.100.0/24"


def parse_cidr(value: str) -> IpNetwork | None:
    """The network ``value`` names, or None when it is not a CIDR (``a.b.c.d/n``).

    Host bits are allowed (whereabouts accepts ``192.168.2.225/28``); the network is what counts.
    """
    if "/" not in value:
        return None
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def cidr_format_issues(cidrs: Mapping[str, str]) -> list[ConfigIssue]:
    """An issue for every value of ``{path: cidr}`` that does not parse as a CIDR."""
    return [issue(path, CIDR_HINT, value) for path, value in cidrs.items() if parse_cidr(value) is None]


def overlap_issues(
    ranges: Mapping[str, str],
    reserved: Mapping[str, str] | None = None,
    *,
    message_prefix: str = "",
) -> list[ConfigIssue]:
    """Overlaps among ``ranges`` (``{path: cidr}``) and between them and ``reserved``.

    Each clash is reported once, on the later range's path (ranges in the order given), naming
    the other path and value. Values that do not parse are skipped (``cidr_format_issues``
    reports them).
    """
    found: list[ConfigIssue] = []
    parsed = _parsed(ranges.items())
    blocked = _parsed((reserved or {}).items())
    for index, (path, value, network) in enumerate(parsed):
        for other_path, other_value, other in parsed[:index]:
            if _overlaps(network, other):
                found.append(issue(path, f"overlaps {message_prefix}{other_path} ({other_value})", value))
        for other_path, other_value, other in blocked:
            if _overlaps(network, other):
                found.append(issue(path, f"overlaps {message_prefix}{other_path} ({other_value})", value))
    return found


def within_issues(path: str, value: str, container_path: str, container: str) -> list[ConfigIssue]:
    """``value`` (a CIDR or address at ``path``) must lie inside the CIDR ``container``."""
    outer = parse_cidr(container)
    if outer is None:
        return []
    inner = parse_cidr(value) if "/" in value else _address(value)
    if inner is None:
        hint = CIDR_HINT if "/" in value else "must be an IP address such as 192.168.100.1"
        return [issue(path, hint, value)]
    inside = (
        inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]
        if isinstance(inner, ipaddress.IPv4Network | ipaddress.IPv6Network)
        else inner in outer
    )
    if not inside:
        return [issue(path, f"must lie inside {container_path} ({container})", value)]
    return []


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _parsed(items: Iterable[tuple[str, str]]) -> list[tuple[str, str, IpNetwork]]:
    out = []
    for path, value in items:
        network = parse_cidr(value)
        if network is not None:
            out.append((path, value, network))
    return out


def _overlaps(a: IpNetwork, b: IpNetwork) -> bool:
    return a.version == b.version and a.overlaps(b)

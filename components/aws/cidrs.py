"""Subnet CIDR maths for a new VPC (pure).

The VPC block is cut into equal subnets, one private and one public per availability zone:
private subnets first (nodes and pods use VPC IPs through the VPC CNI, so they get the room),
then public subnets (load balancers and the NAT gateway).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass

# AWS allows subnets from /16 to /28.
MIN_SUBNET_PREFIX = 16
MAX_SUBNET_PREFIX = 28


@dataclass(frozen=True)
class ZoneSubnets:
    availability_zone: str
    private: str
    public: str


def subnet_prefix(vpc_cidr: str, zones: int) -> int:
    """Prefix length of each subnet when ``vpc_cidr`` holds 2 x ``zones`` equal subnets."""
    network = ipaddress.ip_network(vpc_cidr)
    return network.prefixlen + math.ceil(math.log2(2 * zones))


def zone_subnets(vpc_cidr: str, availability_zones: Sequence[str]) -> list[ZoneSubnets]:
    """A private and a public subnet per zone; ValueError says why when the VPC is too small."""
    network = ipaddress.ip_network(vpc_cidr)
    if not availability_zones:
        raise ValueError("at least one availability zone is required")
    prefix = subnet_prefix(vpc_cidr, len(availability_zones))
    if prefix > MAX_SUBNET_PREFIX:
        raise ValueError(
            f"{vpc_cidr} is too small for {2 * len(availability_zones)} subnets "
            f"(each would be /{prefix}; AWS allows /{MAX_SUBNET_PREFIX} at most)"
        )
    blocks = [str(b) for b in network.subnets(new_prefix=max(prefix, MIN_SUBNET_PREFIX))]
    count = len(availability_zones)
    return [
        ZoneSubnets(zone, blocks[index], blocks[count + index])
        for index, zone in enumerate(availability_zones)
    ]


def cidr_problem(vpc_cidr: str, zones: int) -> str | None:
    """Why ``vpc_cidr`` cannot hold the subnets for ``zones`` zones, or None."""
    try:
        network = ipaddress.ip_network(vpc_cidr)
    except ValueError:
        return "must be an IPv4 network such as 10.0.0.0/16 (host bits zero)"
    if network.version != 4:
        return "must be an IPv4 network"
    if not MIN_SUBNET_PREFIX <= network.prefixlen <= MAX_SUBNET_PREFIX:
        return f"prefix must be between /{MIN_SUBNET_PREFIX} and /{MAX_SUBNET_PREFIX}"
    if zones and subnet_prefix(vpc_cidr, zones) > MAX_SUBNET_PREFIX:
        return f"is too small for {2 * zones} subnets (a private and a public one per zone)"
    return None

"""List prices (us-east-1, on-demand) of the AWS services a stack pays for beside its nodes.

Each price carries where it was read and when; a price that could not be re-read from a source
for this table is marked unverified with the date it was last seen (as ``instances.py`` does).
For sizing conversations, never for billing: data transfer, NAT data processing ($/GB),
snapshots and backups depend on use and are not counted.

- NAT gateway: $0.045 per gateway-hour in us-east-1 (AWS VPC pricing
  https://aws.amazon.com/vpc/pricing/, as quoted for us-east-1 by the pricing guides
  https://basavytix.com/blog/aws-nat-gateway-pricing and https://cloudburn.io/blog/aws-nat-gateway-pricing,
  Feb-Mar 2026; read 2026-11-26).
- EBS gp3: $0.08 per GB-month in us-east-1 (https://aws.amazon.com/ebs/pricing/); the 3,000 IOPS
  and 125 MB/s baseline are included. Not found on a page read on 2026-11-26: unverified.
- ElastiCache nodes (Redis OSS/Valkey node-based, https://aws.amazon.com/elasticache/pricing/):
  the pricing page's node table could not be read offline on 2026-11-26: unverified, last seen
  2025-06.
- RDS instance classes (PostgreSQL/MySQL single-AZ, https://aws.amazon.com/rds/pricing/):
  unverified, last seen 2025-06.
"""

from __future__ import annotations

from dataclasses import dataclass

HOURS_PER_MONTH = 730  # AWS's convention for monthly estimates (pricing calculator)
CHECKED = "2026-11-26"


@dataclass(frozen=True)
class ServicePrice:
    usd: float
    unit: str  # "hour" or "GB-month"
    source: str
    verified: bool
    date: str  # when read (verified) or last seen (unverified)

    def note(self) -> str:
        state = f"read {self.date}" if self.verified else f"unverified, last seen {self.date}"
        return f"{self.source} ({state})"


_NAT = "https://aws.amazon.com/vpc/pricing/ (us-east-1; as quoted by basavytix.com and cloudburn.io)"
_EBS = "https://aws.amazon.com/ebs/pricing/ (us-east-1)"
_CACHE = "https://aws.amazon.com/elasticache/pricing/ (on-demand nodes, us-east-1)"
_RDS = "https://aws.amazon.com/rds/pricing/ (single-AZ, us-east-1)"

NAT_GATEWAY_HOUR = ServicePrice(0.045, "hour", _NAT, True, CHECKED)

# EBS volume types, $ per GB-month of provisioned storage.
EBS_GB_MONTH: dict[str, ServicePrice] = {
    "gp3": ServicePrice(0.08, "GB-month", _EBS, False, "2025-06"),
    "gp2": ServicePrice(0.10, "GB-month", _EBS, False, "2025-06"),
}

# ElastiCache node types the stacks use (and their neighbours), $ per node-hour.
ELASTICACHE_NODE_HOUR: dict[str, ServicePrice] = {
    name: ServicePrice(price, "hour", _CACHE, False, "2025-06")
    for name, price in {
        "cache.t4g.micro": 0.016,
        "cache.t4g.small": 0.032,
        "cache.t4g.medium": 0.065,
        "cache.r7g.large": 0.219,
        "cache.r7g.xlarge": 0.437,
        "cache.r7g.2xlarge": 0.873,
    }.items()
}

# RDS instance classes (PostgreSQL single-AZ), $ per instance-hour.
RDS_INSTANCE_HOUR: dict[str, ServicePrice] = {
    name: ServicePrice(price, "hour", _RDS, False, "2025-06")
    for name, price in {
        "db.t4g.micro": 0.016,
        "db.t4g.small": 0.032,
        "db.t4g.medium": 0.065,
        "db.m7g.large": 0.168,
        "db.r7g.large": 0.239,
    }.items()
}

# RDS storage, $ per GB-month (not EBS's price: RDS bills its own storage).
RDS_STORAGE_GB_MONTH: dict[str, ServicePrice] = {
    "gp3": ServicePrice(0.115, "GB-month", _RDS, False, "2025-06"),
    "gp2": ServicePrice(0.115, "GB-month", _RDS, False, "2025-06"),
}

__all__ = [
    "EBS_GB_MONTH",
    "ELASTICACHE_NODE_HOUR",
    "HOURS_PER_MONTH",
    "NAT_GATEWAY_HOUR",
    "RDS_INSTANCE_HOUR",
    "RDS_STORAGE_GB_MONTH",
    "ServicePrice",
]

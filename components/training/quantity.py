"""Kubernetes resource quantities as config values (pure): "500m", "8", "16Gi", "1G"."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import StringConstraints

from gpu_platform.config.errors import PATTERN_HINTS

QUANTITY_PATTERN = r"^([0-9]+(\.[0-9]+)?)(m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$"
PATTERN_HINTS[QUANTITY_PATTERN] = (
    "must be a Kubernetes quantity such as '500m', '8', '16Gi' or '1G'"
)
Quantity = Annotated[str, StringConstraints(pattern=QUANTITY_PATTERN)]

_FACTORS = {
    "": Decimal(1), "m": Decimal("0.001"), "k": Decimal(10) ** 3, "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9, "T": Decimal(10) ** 12, "P": Decimal(10) ** 15,
    "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40, "Pi": Decimal(2) ** 50,
}


def parse_quantity(text: str) -> Decimal:
    """The value of a quantity in base units (cores or bytes)."""
    match = re.match(QUANTITY_PATTERN, text)
    if match is None:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    return Decimal(match.group(1)) * _FACTORS[match.group(3) or ""]

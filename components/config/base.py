"""The base class for every component's input model.

Config files use camelCase keys (as Pulumi and Kubernetes do); Python code uses snake_case.
Unknown keys are errors so that a typo can never be silently ignored.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ConfigModel(BaseModel):
    """Strict, immutable input model: camelCase aliases, unknown keys forbidden."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        validate_default=True,
        str_strip_whitespace=False,
    )

"""Typed configuration: strict pydantic models and the error type every component raises."""

from components.config.base import ConfigModel
from components.config.errors import ConfigError, ConfigIssue, validate_model

__all__ = ["ConfigError", "ConfigIssue", "ConfigModel", "validate_model"]

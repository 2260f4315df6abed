"""Typed configuration: strict pydantic models and the error type every component raises."""

from gpu_platform.config.base import ConfigModel
from gpu_platform.config.errors import ConfigError, ConfigIssue, validate_model

__all__ = ["ConfigError", "ConfigIssue", "ConfigModel", "validate_model"]

"""Typed configuration: strict pydantic models and the error type every component raises."""

from gpu_platform.config.args import ComponentArgs, component_args
from gpu_platform.config.base import ConfigModel
from gpu_platform.config.errors import ConfigError, ConfigIssue, validate_model

__all__ = ["ComponentArgs", "ConfigError", "ConfigIssue", "ConfigModel", "component_args", "validate_model"]

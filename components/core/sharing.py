"""How a GPU pool shares its GPUs, and the NVIDIA config files that implement it.

A pool either hands out whole GPUs (the default), time-slices them (``timeSlicing``: N pods share
one GPU, no isolation) or partitions them with MIG (``mig``: isolated hardware slices). The GPU
Operator turns the rendered files into node behaviour:

- time-slicing: one ConfigMap (``devicePlugin.config.name``) holds one k8s-device-plugin config
  per key; a node picks one with the label ``nvidia.com/device-plugin.config=<key>``, and nodes
  without the label get ``devicePlugin.config.default``.
  https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-sharing.html
- MIG: one ConfigMap (``migManager.config.name``) holds a single mig-parted file under the key
  ``config.yaml``; a node picks a named layout with ``nvidia.com/mig.config=<name>``, and the
  operator's ``migManager.config.default`` is ``all-disabled``, so that layout must exist.
  https://github.com/NVIDIA/gpu-operator/blob/main/deployments/gpu-operator/values.yaml

Both watchers act on a change of the node *label* value, not of the ConfigMap content
(k8s-device-plugin cmd/config-manager/main.go and mig-parted cmd/nvidia-mig-manager/main.go:
their informers only fire when the label value differs), so ``sharing_profile_name`` folds a
digest of the rendered config into the name: editing a pool's sharing yields a new name, the
pool's label changes, and the node is reconfigured.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, StringConstraints, model_validator

from gpu_platform.catalog.mig import check_mig_layout
from gpu_platform.config.base import ConfigModel
from gpu_platform.config.errors import ConfigIssue, issue

DEVICE_PLUGIN_CONFIG_LABEL = "nvidia.com/device-plugin.config"
MIG_CONFIG_LABEL = "nvidia.com/mig.config"

# Device plugin ConfigMap key for whole GPUs; the operator's devicePlugin.config.default should
# name it. With several keys and no default the config-manager finds no config for unlabelled
# nodes (its fallbacks only pick a key literally named "default" or a lone key).
DEFAULT_DEVICE_PLUGIN_CONFIG = "default"
# mig-parted layout that returns a node to whole GPUs; the operator's default MIG config.
MIG_DISABLED_CONFIG = "all-disabled"
# The MIG manager reads only this key of its ConfigMap.
MIG_PARTED_CONFIG_KEY = "config.yaml"
CONFIG_VERSION = "v1"
GPU_RESOURCE = "nvidia.com/gpu"

MigStrategy = Literal["single", "mixed"]
SharingMode = Literal["whole", "time-slicing", "mig"]

# Plain GPU-instance profiles only (no +me/+gfx or <n>c. compute-instance forms); whether a name
# exists on a given GPU is checked against the catalog in MigLayout.check_against.
ProfileName = Annotated[str, StringConstraints(pattern=r"^[0-9]+g\.[0-9]+gb$")]
InstanceCount = Annotated[int, Field(ge=1)]
ProfileCounts = dict[ProfileName, InstanceCount]

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_PROFILE = re.compile(r"^([0-9]+)g\.([0-9]+)gb$")


class TimeSlicing(ConfigModel):
    """Oversubscribe each GPU: ``replicas`` pods share it, with no memory or fault isolation."""

    # The device plugin rejects fewer than 2 ("number of replicas must be >= 2",
    # api/config/v1/replicas.go); one replica is no sharing, so leave timeSlicing unset instead.
    replicas: int = Field(ge=2)
    # Upstream default: pods keep requesting nvidia.com/gpu (as the seed's pods do); GFD marks
    # shared nodes by suffixing the product label with -SHARED instead.
    rename_by_default: bool = False
    # Deliberately not upstream's default (false): asking for 2 replicas buys no more GPU time
    # than asking for 1, so such requests fail at admission instead of misleading the user.
    fail_requests_greater_than_one: bool = True
    # Time-slicing supports nvidia.com/gpu and the per-profile resources of the mixed MIG strategy.
    resource: str = Field(default=GPU_RESOURCE, pattern=r"^nvidia\.com/(gpu|mig-[0-9]+g\.[0-9]+gb)$")


class MigLayout(ConfigModel):
    """A MIG partitioning, in exactly one of two forms.

    ``profiles``: the same layout on every GPU of the node, e.g. ``{"1g.10gb": 7}``.
    ``devices``: one layout per GPU index, e.g. ``[{"3g.40gb": 1, "1g.10gb": 3}, {}]``; ``{}``
    keeps that GPU whole. mig-parted leaves GPUs that are not listed as they are, so list them all.

    ``strategy`` is the GPU Operator's ``mig.strategy`` the layout needs: ``single`` exposes
    every slice as ``nvidia.com/gpu`` and requires one profile type on every GPU of the node;
    ``mixed`` exposes ``nvidia.com/mig-<profile>`` per profile. Derived when omitted.
    """

    profiles: ProfileCounts | None = None
    devices: list[ProfileCounts] | None = None
    strategy: MigStrategy | None = None

    @model_validator(mode="after")
    def _exactly_one_form(self) -> MigLayout:
        if (self.profiles is None) == (self.devices is None):
            raise ValueError(
                "set exactly one of 'profiles' (the same MIG layout on every GPU) or 'devices' "
                "(one layout per GPU index; {} keeps that GPU whole)"
            )
        return self

    @property
    def device_layouts(self) -> list[dict[str, int]]:
        """The per-GPU layouts checked against a GPU model (one entry for the ``profiles`` form)."""
        if self.profiles is not None:
            return [dict(self.profiles)]
        return [dict(d) for d in self.devices or []]

    @property
    def required_strategy(self) -> MigStrategy:
        layouts = self.device_layouts
        kinds = {name for layout in layouts for name in layout}
        uniform = len(kinds) == 1 and all(len(layout) == 1 for layout in layouts)
        return "single" if uniform else "mixed"

    @property
    def effective_strategy(self) -> MigStrategy:
        return self.strategy or self.required_strategy

    def issues(self) -> list[ConfigIssue]:
        found: list[ConfigIssue] = []
        if self.profiles is not None and not self.profiles:
            found.append(issue("profiles", "must name at least one MIG profile and its count", {}))
        if self.devices is not None:
            if not self.devices:
                found.append(issue("devices", "must list at least one GPU", []))
            elif not any(self.devices):
                found.append(
                    issue(
                        "devices",
                        "keeps every GPU whole; omit 'mig' for whole GPUs",
                        [dict(d) for d in self.devices],
                    )
                )
        if self.strategy == "single" and self.required_strategy == "mixed" and not found:
            found.append(
                issue(
                    "strategy",
                    "'single' needs one MIG profile type on every GPU of the node and no GPU "
                    "left whole; this layout needs 'mixed'",
                    self.strategy,
                )
            )
        return found

    def check_against(self, gpu_model_key: str, gpus_per_node: int | None = None) -> list[ConfigIssue]:
        """Problems with this layout on ``gpu_model_key`` GPUs, paths relative to the layout.

        ``gpus_per_node``, when known, checks that the ``devices`` form lists every GPU.
        Raises KeyError for a GPU model the catalog does not know.
        """
        found: list[ConfigIssue] = []
        for problem in check_mig_layout(gpu_model_key, self.device_layouts):
            if problem.device is None:
                path = ""
            elif self.profiles is not None:
                path = "profiles"
            else:
                path = f"devices.{problem.device}"
            if problem.has_value:
                found.append(issue(path, problem.message, problem.value))
            else:
                found.append(issue(path, problem.message))
        if self.devices is not None and gpus_per_node is not None and len(self.devices) != gpus_per_node:
            found.append(
                issue(
                    "devices",
                    f"lists {len(self.devices)} GPUs but each node has {gpus_per_node}; "
                    "list every GPU ({} keeps one whole)",
                    len(self.devices),
                )
            )
        return found


class GpuSharing(ConfigModel):
    """How a pool shares its GPUs: at most one of ``timeSlicing`` and ``mig``; neither is whole
    GPUs, one per pod request."""

    time_slicing: TimeSlicing | None = None
    mig: MigLayout | None = None

    @model_validator(mode="after")
    def _at_most_one_mode(self) -> GpuSharing:
        if self.time_slicing is not None and self.mig is not None:
            raise ValueError(
                "set at most one of 'timeSlicing' (pods share a whole GPU, no isolation) or "
                "'mig' (isolated hardware partitions); set neither for whole GPUs"
            )
        return self

    @property
    def mode(self) -> SharingMode:
        if self.time_slicing is not None:
            return "time-slicing"
        if self.mig is not None:
            return "mig"
        return "whole"

    def check_against(self, gpu_model_key: str, gpus_per_node: int | None = None) -> list[ConfigIssue]:
        """GPU-model-dependent problems, with paths relative to this model."""
        if self.mig is None:
            return []
        return [i.prefixed("mig") for i in self.mig.check_against(gpu_model_key, gpus_per_node)]


# --- renderers -----------------------------------------------------------------------------


def render_device_plugin_config(ts: TimeSlicing) -> dict[str, Any]:
    """One k8s-device-plugin config file (version v1) that time-slices ``ts.resource``."""
    return {
        "version": CONFIG_VERSION,
        "sharing": {
            "timeSlicing": {
                # both flags rendered explicitly so behaviour never rests on plugin defaults
                "renameByDefault": ts.rename_by_default,
                "failRequestsGreaterThanOne": ts.fail_requests_greater_than_one,
                "resources": [{"name": ts.resource, "replicas": ts.replicas}],
            }
        },
    }


def render_whole_gpu_device_plugin_config() -> dict[str, Any]:
    """The config for unlabelled nodes: no sharing; flags come from the operator (MIG strategy)."""
    return {"version": CONFIG_VERSION}


def render_device_plugin_configs(profiles: Mapping[str, TimeSlicing]) -> dict[str, str]:
    """ConfigMap data for ``devicePlugin.config``: one YAML config per profile name, plus
    ``default`` (whole GPUs) for nodes without the ``nvidia.com/device-plugin.config`` label."""
    _check_config_names(profiles, DEFAULT_DEVICE_PLUGIN_CONFIG, "device plugin config")
    data = {DEFAULT_DEVICE_PLUGIN_CONFIG: dump_yaml(render_whole_gpu_device_plugin_config())}
    for name in sorted(profiles):
        data[name] = dump_yaml(render_device_plugin_config(profiles[name]))
    return data


def render_mig_config_entries(layout: MigLayout) -> list[dict[str, Any]]:
    """The mig-parted entries for one named config.

    The per-GPU form groups GPUs with identical layouts into one entry, in order of first index.
    """
    if layout.profiles is not None:
        return [{"devices": "all", "mig-enabled": True, "mig-devices": _ordered(layout.profiles)}]
    groups: dict[tuple[tuple[str, int], ...], list[int]] = {}
    for index, device in enumerate(layout.devices or []):
        groups.setdefault(tuple(sorted(device.items())), []).append(index)
    entries: list[dict[str, Any]] = []
    for key, indices in groups.items():
        if not key:
            entries.append({"devices": indices, "mig-enabled": False})
        else:
            entries.append({"devices": indices, "mig-enabled": True, "mig-devices": _ordered(dict(key))})
    return entries


def render_mig_parted_config(layouts: Mapping[str, MigLayout]) -> dict[str, Any]:
    """A mig-parted config file (version v1) with ``all-disabled`` and one config per name."""
    _check_config_names(layouts, MIG_DISABLED_CONFIG, "MIG config")
    configs: dict[str, list[dict[str, Any]]] = {
        MIG_DISABLED_CONFIG: [{"devices": "all", "mig-enabled": False}]
    }
    for name in sorted(layouts):
        configs[name] = render_mig_config_entries(layouts[name])
    return {"version": CONFIG_VERSION, "mig-configs": configs}


def render_mig_parted_configmap_data(layouts: Mapping[str, MigLayout]) -> dict[str, str]:
    """ConfigMap data for ``migManager.config``: the whole file under ``config.yaml``."""
    return {MIG_PARTED_CONFIG_KEY: dump_yaml(render_mig_parted_config(layouts))}


def cluster_mig_strategy(layouts: Mapping[str, MigLayout]) -> MigStrategy:
    """The GPU Operator's cluster-wide ``mig.strategy`` for these layouts.

    ``mixed`` if any layout needs or declares it, else ``single`` (the chart's default, harmless
    where no GPU has MIG enabled). A layout that declares ``single`` cannot share a cluster with
    one that needs ``mixed``: its pods would find ``nvidia.com/mig-<profile>`` resources instead
    of ``nvidia.com/gpu``.
    """
    mixed = sorted(name for name, lay in layouts.items() if lay.effective_strategy == "mixed")
    if not mixed:
        return "single"
    pinned = sorted(name for name, lay in layouts.items() if lay.strategy == "single")
    if pinned:
        raise ValueError(
            f"MIG layouts {', '.join(pinned)} declare strategy 'single' but "
            f"{', '.join(mixed)} need 'mixed'; mig.strategy is one setting for the whole cluster"
        )
    return "mixed"


def sharing_profile_name(pool_name: str, sharing: GpuSharing | TimeSlicing | MigLayout) -> str | None:
    """The config name a pool's nodes select, or None for whole GPUs (the defaults apply).

    ``<pool>-ts-<replicas>-<digest>`` for time-slicing, ``<pool>-mig-<digest>`` for MIG, where
    digest is 8 hex digits of the SHA-256 of the rendered config: the same input always gives
    the same name, and any change to what is rendered gives a new one (see module docstring).
    """
    if isinstance(sharing, GpuSharing):
        if sharing.time_slicing is not None:
            sharing = sharing.time_slicing
        elif sharing.mig is not None:
            sharing = sharing.mig
        else:
            return None
    if isinstance(sharing, TimeSlicing):
        stem = f"{pool_name}-ts-{sharing.replicas}"
        rendered: Any = render_device_plugin_config(sharing)
    else:
        stem = f"{pool_name}-mig"
        rendered = render_mig_config_entries(sharing)
    name = f"{stem}-{_digest(rendered)}"
    if not _is_label_value(name):
        raise ValueError(
            f"config name {name!r} for pool {pool_name!r} is not a valid label value "
            "(at most 63 characters: letters, digits, '-', '_', '.'); shorten the pool name"
        )
    return name


def sharing_node_labels(pool_name: str, sharing: GpuSharing) -> dict[str, str]:
    """The node labels that select the pool's config; empty for whole GPUs."""
    name = sharing_profile_name(pool_name, sharing)
    if name is None:
        return {}
    label = DEVICE_PLUGIN_CONFIG_LABEL if sharing.mode == "time-slicing" else MIG_CONFIG_LABEL
    return {label: name}


def dump_yaml(document: Mapping[str, Any]) -> str:
    """Block-style YAML, keys in the order given (the order the renderers chose)."""
    return yaml.safe_dump(dict(document), sort_keys=False, default_flow_style=False)


# --- helpers -------------------------------------------------------------------------------


def _ordered(counts: Mapping[str, int]) -> dict[str, int]:
    """Profiles smallest first (by compute, then memory) so output is stable and readable."""

    def key(name: str) -> tuple[int, int, str]:
        match = _PROFILE.match(name)
        return (int(match[1]), int(match[2]), name) if match else (0, 0, name)

    return {name: counts[name] for name in sorted(counts, key=key)}


def _digest(rendered: Any) -> str:
    canonical = json.dumps(rendered, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:8]


def _is_label_value(value: str) -> bool:
    return len(value) <= 63 and _LABEL_VALUE.match(value) is not None


def _check_config_names(names: Mapping[str, object], reserved: str, what: str) -> None:
    """Names become ConfigMap keys (or mig-parted names) and node label values."""
    if reserved in names:
        raise ValueError(f"{what} name {reserved!r} is reserved; it is always rendered")
    bad = sorted(name for name in names if not name or not _is_label_value(name))
    if bad:
        raise ValueError(
            f"{what} names must be valid label values (at most 63 characters: letters, digits, "
            f"'-', '_', '.', starting and ending alphanumeric): {', '.join(map(repr, bad))}"
        )

"""GPU sharing models, their error messages, and the NVIDIA config files they render.

Rendered files are compared exactly and validated against the upstream format schemas in
``../shared/upstream/formats`` (or ``$GPU_PLATFORM_UPSTREAM/formats``); schema checks skip, with
the reason, where that folder is absent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema.validators import validator_for

from gpu_platform.config.base import ConfigModel
from gpu_platform.config.errors import ConfigError, ConfigIssue, validate_model
from gpu_platform.core.sharing import (
    DEFAULT_DEVICE_PLUGIN_CONFIG,
    DEVICE_PLUGIN_CONFIG_LABEL,
    MIG_CONFIG_LABEL,
    MIG_DISABLED_CONFIG,
    MIG_PARTED_CONFIG_KEY,
    GpuSharing,
    MigLayout,
    TimeSlicing,
    cluster_mig_strategy,
    render_device_plugin_config,
    render_device_plugin_configs,
    render_mig_parted_config,
    render_mig_parted_configmap_data,
    sharing_node_labels,
    sharing_profile_name,
)


def _upstream_formats() -> Path | None:
    configured = os.environ.get("GPU_PLATFORM_UPSTREAM")
    root = Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared" / "upstream"
    formats = root / "formats"
    return formats if formats.is_dir() else None


def _validator(schema_file: str) -> Any:
    formats = _upstream_formats()
    if formats is None:
        pytest.skip("../shared/upstream/formats is absent: upstream format schemas unavailable")
    schema = json.loads((formats / schema_file).read_text())
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.fixture(scope="module")
def device_plugin_schema() -> Any:
    return _validator("device-plugin-config.schema.json")


@pytest.fixture(scope="module")
def mig_parted_schema() -> Any:
    return _validator("mig-parted-config.schema.json")


def _errors(validator: Any, document: Any) -> list[str]:
    return sorted(e.message for e in validator.iter_errors(document))


def _config_error(model: type[ConfigModel], data: Any) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        validate_model(model, data)
    return [str(i) for i in raised.value.issues]


# --- time-slicing ----------------------------------------------------------------------------


def test_time_slicing_defaults() -> None:
    ts = validate_model(TimeSlicing, {"replicas": 4})
    assert (ts.rename_by_default, ts.fail_requests_greater_than_one, ts.resource) == (
        False,
        True,
        "nvidia.com/gpu",
    )


def test_dev_time_slicing_renders_device_plugin_config_v1(device_plugin_schema: Any) -> None:
    rendered = render_device_plugin_config(validate_model(TimeSlicing, {"replicas": 4}))
    assert rendered == {
        "version": "v1",
        "sharing": {
            "timeSlicing": {
                "renameByDefault": False,
                "failRequestsGreaterThanOne": True,
                "resources": [{"name": "nvidia.com/gpu", "replicas": 4}],
            }
        },
    }
    assert _errors(device_plugin_schema, rendered) == []


def test_camel_case_keys_and_mig_resource() -> None:
    ts = validate_model(
        TimeSlicing,
        {
            "replicas": 3,
            "renameByDefault": True,
            "failRequestsGreaterThanOne": False,
            "resource": "nvidia.com/mig-1g.10gb",
        },
    )
    assert render_device_plugin_config(ts)["sharing"]["timeSlicing"] == {
        "renameByDefault": True,
        "failRequestsGreaterThanOne": False,
        "resources": [{"name": "nvidia.com/mig-1g.10gb", "replicas": 3}],
    }


@pytest.mark.parametrize("replicas", [0, 1])
def test_fewer_than_two_replicas_is_rejected(replicas: int) -> None:
    # the device plugin itself rejects replicas < 2 (api/config/v1/replicas.go)
    assert _config_error(TimeSlicing, {"replicas": replicas}) == [f"replicas: must be >= 2 (got {replicas})"]


def test_replicas_are_required_and_resource_is_checked() -> None:
    assert _config_error(TimeSlicing, {"resource": "amd.com/gpu"}) == [
        "replicas: is required",
        'resource: must match the pattern ^nvidia\\.com/(gpu|mig-[0-9]+g\\.[0-9]+gb)$ (got "amd.com/gpu")',
    ]


def test_seed_per_product_replicas_become_two_named_configs(device_plugin_schema: Any) -> None:
    """The seed wants 8 replicas on T4 inference nodes and 2 on A100 training nodes; upstream
    expresses that as one named config per node group, selected by node label."""
    data = render_device_plugin_configs(
        {
            "t4-inference": TimeSlicing(replicas=8),
            "a100-training": TimeSlicing(replicas=2),
        }
    )
    assert data == {
        "default": "version: v1\n",
        "a100-training": (
            "version: v1\n"
            "sharing:\n"
            "  timeSlicing:\n"
            "    renameByDefault: false\n"
            "    failRequestsGreaterThanOne: true\n"
            "    resources:\n"
            "    - name: nvidia.com/gpu\n"
            "      replicas: 2\n"
        ),
        "t4-inference": (
            "version: v1\n"
            "sharing:\n"
            "  timeSlicing:\n"
            "    renameByDefault: false\n"
            "    failRequestsGreaterThanOne: true\n"
            "    resources:\n"
            "    - name: nvidia.com/gpu\n"
            "      replicas: 8\n"
        ),
    }
    assert list(data) == ["default", "a100-training", "t4-inference"]
    for name, text in data.items():
        assert _errors(device_plugin_schema, yaml.safe_load(text)) == [], name


def test_seed_selector_form_is_not_the_upstream_format(device_plugin_schema: Any) -> None:
    """The seed's single config with per-product ``selector`` entries does not exist upstream."""
    seed = {
        "version": "v1",
        "sharing": {
            "timeSlicing": {
                "resources": [
                    {"name": "nvidia.com/gpu", "replicas": 4},
                    {
                        "name": "nvidia.com/gpu",
                        "selector": {"nvidia.com/gpu.product": "Tesla-T4"},
                        "replicas": 8,
                    },
                    {
                        "name": "nvidia.com/gpu",
                        "selector": {"nvidia.com/gpu.product": "A100-SXM4-80GB"},
                        "replicas": 2,
                    },
                ]
            }
        },
    }
    assert _errors(device_plugin_schema, seed) == [
        "Additional properties are not allowed ('selector' was unexpected)",
        "Additional properties are not allowed ('selector' was unexpected)",
    ]


def test_device_plugin_config_names_are_checked() -> None:
    with pytest.raises(ValueError, match="name 'default' is reserved"):
        render_device_plugin_configs({DEFAULT_DEVICE_PLUGIN_CONFIG: TimeSlicing(replicas=2)})
    with pytest.raises(ValueError, match=r"must be valid label values .*: 'Bad name!'"):
        render_device_plugin_configs({"Bad name!": TimeSlicing(replicas=2)})


# --- MIG layouts -----------------------------------------------------------------------------

# The seed's three mig-parted configs for A100-80GB, as MigLayouts.
SEED_MIG = {
    "all-balanced": {"profiles": {"1g.10gb": 7}},
    "half-half": {"profiles": {"3g.40gb": 2}},
    "mixed": {"devices": [{"3g.40gb": 1, "1g.10gb": 3}, {}]},
}


def _seed_layouts() -> dict[str, MigLayout]:
    return {name: validate_model(MigLayout, data) for name, data in SEED_MIG.items()}


def test_seed_mig_configs_render_exactly(mig_parted_schema: Any) -> None:
    rendered = render_mig_parted_config(_seed_layouts())
    assert rendered == {
        "version": "v1",
        "mig-configs": {
            "all-disabled": [{"devices": "all", "mig-enabled": False}],
            "all-balanced": [{"devices": "all", "mig-enabled": True, "mig-devices": {"1g.10gb": 7}}],
            "half-half": [{"devices": "all", "mig-enabled": True, "mig-devices": {"3g.40gb": 2}}],
            "mixed": [
                {
                    "devices": [0],
                    "mig-enabled": True,
                    "mig-devices": {"1g.10gb": 3, "3g.40gb": 1},
                },
                {"devices": [1], "mig-enabled": False},
            ],
        },
    }
    assert list(rendered["mig-configs"]) == ["all-disabled", "all-balanced", "half-half", "mixed"]
    assert _errors(mig_parted_schema, rendered) == []


def test_seed_mig_layouts_fit_an_a100_80gb_and_need_these_strategies() -> None:
    layouts = _seed_layouts()
    for name, layout in layouts.items():
        assert layout.check_against("A100-80GB", gpus_per_node=2) == [], name
    assert {n: lay.effective_strategy for n, lay in layouts.items()} == {
        "all-balanced": "single",
        "half-half": "single",
        "mixed": "mixed",
    }
    # the seed installs the operator with mig.strategy=single; its "mixed" config needs mixed
    assert cluster_mig_strategy(layouts) == "mixed"


def test_all_disabled_matches_upstream_example() -> None:
    formats = _upstream_formats()
    if formats is None:
        pytest.skip("../shared/upstream/formats is absent: mig-parted's example unavailable")
    example = yaml.safe_load((formats / "mig-parted-example-config.yaml").read_text())
    ours = render_mig_parted_config({})
    assert ours == {
        "version": "v1",
        "mig-configs": {MIG_DISABLED_CONFIG: example["mig-configs"][MIG_DISABLED_CONFIG]},
    }


def test_configmap_data_round_trips(mig_parted_schema: Any) -> None:
    data = render_mig_parted_configmap_data(_seed_layouts())
    assert list(data) == [MIG_PARTED_CONFIG_KEY]
    assert data[MIG_PARTED_CONFIG_KEY].startswith("version: v1\nmig-configs:\n  all-disabled:\n")
    parsed = yaml.safe_load(data[MIG_PARTED_CONFIG_KEY])
    assert parsed == render_mig_parted_config(_seed_layouts())
    assert _errors(mig_parted_schema, parsed) == []


def test_identical_gpus_are_grouped_in_first_index_order(mig_parted_schema: Any) -> None:
    layout = validate_model(
        MigLayout,
        {"devices": [{"1g.10gb": 7}, {}, {"1g.10gb": 7}, {"4g.40gb": 1, "3g.40gb": 1}, {}]},
    )
    rendered = render_mig_parted_config({"pool": layout})
    assert rendered["mig-configs"]["pool"] == [
        {"devices": [0, 2], "mig-enabled": True, "mig-devices": {"1g.10gb": 7}},
        {"devices": [1, 4], "mig-enabled": False},
        {"devices": [3], "mig-enabled": True, "mig-devices": {"3g.40gb": 1, "4g.40gb": 1}},
    ]
    assert _errors(mig_parted_schema, rendered) == []
    assert layout.effective_strategy == "mixed"


def test_mig_form_errors() -> None:
    expected = (
        "(root): set exactly one of 'profiles' (the same MIG layout on every GPU) or 'devices' "
        "(one layout per GPU index; {} keeps that GPU whole)"
    )
    assert _config_error(MigLayout, {}) == [f"{expected} (got {{}})"]
    both = _config_error(MigLayout, {"profiles": {"1g.10gb": 7}, "devices": [{"1g.10gb": 7}]})
    assert both == [f'{expected} (got {{"devices": [{{"1g.10gb": 7}}], "profiles": {{"1g.10gb": 7}}}})']


def test_mig_structural_errors() -> None:
    assert _config_error(MigLayout, {"profiles": {"1g.10gb": 0, "1g": 1}}) == [
        "profiles.1g.10gb: must be >= 1 (got 0)",
        'profiles.1g: must match the pattern ^[0-9]+g\\.[0-9]+gb$ (got "1g")',
    ]
    assert _config_error(MigLayout, {"profiles": {}}) == [
        "profiles: must name at least one MIG profile and its count (got {})"
    ]
    assert _config_error(MigLayout, {"devices": []}) == ["devices: must list at least one GPU (got [])"]
    assert _config_error(MigLayout, {"devices": [{}, {}]}) == [
        "devices: keeps every GPU whole; omit 'mig' for whole GPUs (got [{}, {}])"
    ]


def test_declared_single_strategy_must_fit() -> None:
    assert _config_error(MigLayout, {"devices": [{"3g.40gb": 2}, {}], "strategy": "single"}) == [
        "strategy: 'single' needs one MIG profile type on every GPU of the node and no GPU left "
        "whole; this layout needs 'mixed' (got \"single\")"
    ]
    mixed = validate_model(MigLayout, {"profiles": {"1g.10gb": 7}, "strategy": "mixed"})
    assert (mixed.required_strategy, mixed.effective_strategy) == ("single", "mixed")


def test_cluster_strategy_conflict() -> None:
    layouts = {
        "inference": MigLayout(profiles={"1g.10gb": 7}, strategy="single"),
        "notebooks": MigLayout(profiles={"1g.10gb": 2, "2g.20gb": 1}),
    }
    with pytest.raises(ValueError) as raised:
        cluster_mig_strategy(layouts)
    assert str(raised.value) == (
        "MIG layouts inference declare strategy 'single' but notebooks need 'mixed'; "
        "mig.strategy is one setting for the whole cluster"
    )
    assert cluster_mig_strategy({}) == "single"
    assert cluster_mig_strategy({"a": MigLayout(profiles={"3g.40gb": 2})}) == "single"


def test_mig_config_names_are_checked() -> None:
    with pytest.raises(ValueError, match="name 'all-disabled' is reserved"):
        render_mig_parted_config({MIG_DISABLED_CONFIG: MigLayout(profiles={"1g.10gb": 7})})


# --- GPU-model checks through a pool-like model, as a pool component would run them ----------


class _Pool(ConfigModel):
    gpu_model: str
    gpus_per_node: int = 8
    sharing: GpuSharing = GpuSharing()

    def issues(self) -> list[ConfigIssue]:
        found = self.sharing.check_against(self.gpu_model, self.gpus_per_node)
        return [i.prefixed("sharing") for i in found]


def test_unknown_mig_profile_on_h100_names_the_valid_ones() -> None:
    assert _config_error(
        _Pool, {"gpuModel": "H100-80GB", "sharing": {"mig": {"profiles": {"1g.5gb": 7}}}}
    ) == [
        "sharing.mig.profiles: unknown MIG profile for H100-80GB; valid profiles: 1g.10gb, "
        '1g.20gb, 2g.20gb, 3g.40gb, 4g.40gb, 7g.80gb (got "1g.5gb")'
    ]


def test_compute_slices_over_seven() -> None:
    data = {
        "gpuModel": "A100-80GB",
        "gpusPerNode": 2,
        "sharing": {"mig": {"devices": [{"1g.10gb": 7}, {"4g.40gb": 1, "3g.40gb": 1, "1g.10gb": 1}]}},
    }
    assert _config_error(_Pool, data) == [
        "sharing.mig.devices.1: needs 8 compute slices; A100-80GB GPUs have 7 "
        '(got {"1g.10gb": 1, "3g.40gb": 1, "4g.40gb": 1})',
        "sharing.mig.devices.1: needs 9 memory slices; A100-80GB GPUs have 8 "
        '(got {"1g.10gb": 1, "3g.40gb": 1, "4g.40gb": 1})',
    ]


def test_too_many_instances_and_unlisted_gpus() -> None:
    data = {"gpuModel": "H200-141GB", "sharing": {"mig": {"devices": [{"3g.71gb": 3}]}}}
    assert _config_error(_Pool, data) == [
        "sharing.mig.devices.0: at most 2 x 3g.71gb fit on one H200-141GB (got 3)",
        'sharing.mig.devices.0: needs 9 compute slices; H200-141GB GPUs have 7 (got {"3g.71gb": 3})',
        'sharing.mig.devices.0: needs 12 memory slices; H200-141GB GPUs have 8 (got {"3g.71gb": 3})',
        "sharing.mig.devices: lists 1 GPUs but each node has 8; list every GPU ({} keeps one whole) (got 1)",
    ]


def test_mig_on_a_t4() -> None:
    data = {"gpuModel": "T4", "sharing": {"mig": {"profiles": {"1g.10gb": 7}}}}
    assert _config_error(_Pool, data) == [
        "sharing.mig: T4 does not support MIG; MIG-capable GPUs: A30, A100-40GB, A100-80GB, "
        "H100-80GB, H200-141GB, B200, GB200, B300, "
        "RTX-PRO-6000"
    ]


def test_time_slicing_and_whole_gpus_pass_on_any_gpu() -> None:
    validate_model(_Pool, {"gpuModel": "T4", "sharing": {"timeSlicing": {"replicas": 8}}})
    pool = validate_model(_Pool, {"gpuModel": "T4"})
    assert pool.sharing.mode == "whole"


def test_both_sharing_modes_is_an_error() -> None:
    data = {"timeSlicing": {"replicas": 4}, "mig": {"profiles": {"1g.10gb": 7}}}
    assert _config_error(GpuSharing, data) == [
        "(root): set at most one of 'timeSlicing' (pods share a whole GPU, no isolation) or "
        "'mig' (isolated hardware partitions); set neither for whole GPUs "
        '(got {"mig": {"profiles": {"1g.10gb": 7}}, "timeSlicing": {"replicas": 4}})'
    ]
    nested = _config_error(_Pool, {"gpuModel": "A100-80GB", "sharing": data})
    assert [line.split(":")[0] for line in nested] == ["sharing"]


def test_nested_time_slicing_error_path() -> None:
    assert _config_error(GpuSharing, {"timeSlicing": {"replicas": 0}}) == [
        "timeSlicing.replicas: must be >= 2 (got 0)"
    ]


# --- names and labels ------------------------------------------------------------------------


def test_profile_names_are_deterministic_and_follow_the_rendered_config() -> None:
    assert sharing_profile_name("dev", TimeSlicing(replicas=4)) == "dev-ts-4-2ea64ca2"
    assert sharing_profile_name("t4-inference", TimeSlicing(replicas=8)) == "t4-inference-ts-8-6654eb3a"
    # same replicas, different flag: a different name, so the node label changes too
    assert sharing_profile_name("a100-training", TimeSlicing(replicas=2)) == "a100-training-ts-2-7f0c4142"
    assert (
        sharing_profile_name("a100-training", TimeSlicing(replicas=2, fail_requests_greater_than_one=False))
        == "a100-training-ts-2-70978c2b"
    )
    layout = MigLayout(profiles={"1g.10gb": 7})
    assert sharing_profile_name("inference", layout) == "inference-mig-400a3253"
    assert sharing_profile_name("inference", GpuSharing(mig=layout)) == "inference-mig-400a3253"
    # strategy does not change what mig-parted applies, so it does not change the name
    assert (
        sharing_profile_name("inference", MigLayout(profiles={"1g.10gb": 7}, strategy="mixed"))
        == "inference-mig-400a3253"
    )
    assert sharing_profile_name("whole", GpuSharing()) is None


def test_profile_name_must_be_a_label_value() -> None:
    with pytest.raises(ValueError, match="is not a valid label value"):
        sharing_profile_name("p" * 50, TimeSlicing(replicas=2))


def test_node_labels_select_the_rendered_config() -> None:
    ts = GpuSharing(time_slicing=TimeSlicing(replicas=4))
    mig = GpuSharing(mig=MigLayout(profiles={"3g.40gb": 2}))
    ts_name = sharing_profile_name("dev", ts)
    mig_name = sharing_profile_name("train", mig)
    assert sharing_node_labels("dev", ts) == {DEVICE_PLUGIN_CONFIG_LABEL: ts_name}
    assert sharing_node_labels("train", mig) == {MIG_CONFIG_LABEL: mig_name}
    assert sharing_node_labels("whole", GpuSharing()) == {}
    assert (DEVICE_PLUGIN_CONFIG_LABEL, MIG_CONFIG_LABEL) == (
        "nvidia.com/device-plugin.config",
        "nvidia.com/mig.config",
    )
    # the names are keys of what the renderers produce
    assert ts_name is not None and ts.time_slicing is not None
    assert mig_name is not None and mig.mig is not None
    assert ts_name in render_device_plugin_configs({ts_name: ts.time_slicing})
    assert mig_name in render_mig_parted_config({mig_name: mig.mig})["mig-configs"]

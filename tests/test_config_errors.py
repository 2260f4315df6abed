"""Every config error is reported at once, with its dotted path, the value and what is allowed."""

import pytest

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.environment import EnvironmentConfig

CLUSTER = {"kind": "existing", "context": "ctx"}
POOL = {"role": "training", "gpu": {"model": "A10G", "count": 1}, "minSize": 0, "maxSize": 2}


def errors(data):
    with pytest.raises(ConfigError) as caught:
        validate_model(EnvironmentConfig, data)
    return [str(i) for i in caught.value.issues]


def test_negative_count():
    pool = {**POOL, "minSize": -1}
    assert errors({"cluster": CLUSTER, "gpuPools": {"a": pool}}) == [
        "gpuPools.a.minSize: must be >= 0 (got -1)"
    ]


def test_unknown_key_suggests_the_right_one():
    pool = {**POOL, "maxSzie": 3}
    assert errors({"cluster": CLUSTER, "gpuPools": {"a": pool}}) == [
        "gpuPools.a.maxSzie: unknown key; did you mean 'maxSize'? allowed keys: driver, gpu, labels, "
        "maxSize, minSize, role, sharing, taints"
    ]


def test_unknown_top_level_key():
    # the allowed list grows as components land; the format is what this test pins
    allowed = ", ".join(sorted(f.alias for f in EnvironmentConfig.model_fields.values()))
    assert errors({"cluster": CLUSTER, "gpuPool": {}}) == [
        f"gpuPool: unknown key; did you mean 'gpuPools'? allowed keys: {allowed}"
    ]
    assert "gpuPools" in allowed and "cluster" in allowed


def test_wrong_type():
    pool = {**POOL, "gpu": {"model": "A10G", "count": "eight"}}
    assert errors({"cluster": CLUSTER, "gpuPools": {"a": pool}}) == [
        "gpuPools.a.gpu.count: must be a whole number (got \"eight\")"
    ]


def test_all_errors_are_reported_together():
    pools = {"a": {**POOL, "minSize": -1}, "b": {**POOL, "role": "trainer"}}
    assert errors({"cluster": {**CLUSTER, "contxt": "x"}, "gpuPools": pools}) == [
        "cluster.contxt: unknown key; did you mean 'context'? allowed keys: context, kind, "
        "kubeconfig, networkPolicyEnforced, storageClasses",
        "gpuPools.a.minSize: must be >= 0 (got -1)",
        "gpuPools.b.role: must be one of 'training', 'inference' or 'interactive' (got \"trainer\")",
    ]


def test_missing_required_key():
    assert errors({"gpuPools": {}}) == ["cluster: is required"]


def test_bad_pool_name():
    assert errors({"cluster": CLUSTER, "gpuPools": {"Big_Pool": POOL}}) == [
        "gpuPools.Big_Pool: must be a DNS label: lowercase letters, digits and '-', starting and "
        "ending with a letter or digit (got \"Big_Pool\")"
    ]


def test_min_greater_than_max_names_the_pool():
    pool = {**POOL, "minSize": 3, "maxSize": 2}
    assert errors({"cluster": CLUSTER, "gpuPools": {"train": pool}}) == [
        "gpuPools.train.minSize: must be <= maxSize (2) (got 3)"
    ]


def test_error_message_lists_one_line_per_error():
    with pytest.raises(ConfigError) as caught:
        validate_model(EnvironmentConfig, {"gpuPools": {"a": {**POOL, "minSize": -1}}},
                       source="configuration of stack 'dev'")
    assert str(caught.value) == (
        "invalid configuration of stack 'dev' (2 errors):\n"
        "  - cluster: is required\n"
        "  - gpuPools.a.minSize: must be >= 0 (got -1)"
    )


def test_unknown_key_without_a_close_match_lists_the_allowed_keys():
    assert errors({"cluster": {**CLUSTER, "zzz": 1}}) == [
        "cluster.zzz: unknown key; allowed keys: context, kind, kubeconfig, networkPolicyEnforced, "
        "storageClasses"
    ]


def test_unknown_gpu_model_names_the_pool():
    pool = {**POOL, "gpu": {"model": "V100", "count": 1}}
    assert errors({"cluster": CLUSTER, "gpuPools": {"old": pool}}) == [
        "gpuPools.old.gpu.model: unknown GPU model; known models: T4, A10G, L4, L40S, A30, "
        "A100-40GB, A100-80GB, H100-80GB, H200-141GB, B200, GB200, B300, RTX-PRO-6000, "
            "RTX-PRO-4500 (got \"V100\")"
    ]


def test_mig_on_a_gpu_without_mig_names_the_pool():
    pool = {**POOL, "sharing": {"mig": {"profiles": {"1g.10gb": 7}}}}
    assert errors({"cluster": CLUSTER, "gpuPools": {"dev": pool}}) == [
        "gpuPools.dev.sharing.mig: A10G does not support MIG; MIG-capable GPUs: A30, A100-40GB, "
        "A100-80GB, H100-80GB, H200-141GB, B200, GB200, B300, "
        "RTX-PRO-6000"
    ]


def test_time_slicing_replicas_below_two_names_the_pool():
    pool = {**POOL, "sharing": {"timeSlicing": {"replicas": 0}}}
    assert errors({"cluster": CLUSTER, "gpuPools": {"dev": pool}}) == [
        "gpuPools.dev.sharing.timeSlicing.replicas: must be >= 2 (got 0)"
    ]

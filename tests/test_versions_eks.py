"""EKS versions as data: the default, upgradePolicy, the support warning, add-ons per minor, cost."""

from __future__ import annotations

from datetime import date

import pulumi
import pytest

from gpu_platform.aws import AwsConfig, build_aws
from gpu_platform.aws import eks_cluster as eks_cluster_module
from gpu_platform.aws.addons import autoscaler_values
from gpu_platform.aws.config import EksClusterConfig
from gpu_platform.catalog.addon_versions import (
    EKS_ADDONS,
    addon_version,
    answer_addon_version_lookup,
    cluster_autoscaler_image,
)
from gpu_platform.catalog.eks_versions import (
    CALENDAR_CHECKED,
    CONTROL_PLANE_USD_HOUR,
    EKS_KUBERNETES_VERSION,
    EKS_VERSIONS,
    control_plane_hourly,
    control_plane_rate,
    default_version,
    stack_supports,
    support_warnings,
)
from gpu_platform.config import ConfigError, validate_model
from gpu_platform.versions import CLUSTER_AUTOSCALER_IMAGES, EKS_ADDON_VERSIONS, KUBERNETES_MINORS

CLUSTER = "aws:eks/cluster:Cluster"
ADDON = "aws:eks/addon:Addon"
TODAY = date(2026, 11, 26)


def aws_config(**cluster) -> AwsConfig:
    return validate_model(AwsConfig, {"cluster": {
        "name": "gpu-test", "vpc": {"availabilityZones": ["us-east-1a", "us-east-1b"]}, **cluster}})


def plan_cluster(run_component, **cluster):
    config = aws_config(**cluster)
    return run_component(
        lambda: build_aws("aws", config, {}, pulumi.ResourceOptions(), region="us-east-1"))


# --- the table -------------------------------------------------------------------------------


def test_the_table_is_dated_and_follows_the_14_plus_12_month_rule():
    assert EKS_VERSIONS["1.33"].end_of_standard == date(2026, 7, 29)  # extended since then
    assert EKS_VERSIONS["1.34"].end_of_standard == date(2026, 12, 2)
    assert EKS_VERSIONS["1.36"].released == date(2026, 6, 2)
    for row in EKS_VERSIONS.values():
        months = ((row.end_of_standard.year - row.released.year) * 12
                  + row.end_of_standard.month - row.released.month)
        assert months == 14, row
        assert (row.end_of_extended.year - row.end_of_standard.year,
                row.end_of_extended.month, row.end_of_extended.day) == (
            1, row.end_of_standard.month, row.end_of_standard.day), row
        assert row.support_on(CALENDAR_CHECKED) != "ended", row  # only versions EKS still runs


def test_default_is_the_newest_standard_version_the_stack_supports():
    assert EKS_KUBERNETES_VERSION == default_version(CALENDAR_CHECKED) == "1.36"
    assert EKS_VERSIONS[EKS_KUBERNETES_VERSION].support_on(TODAY) == "standard"
    assert tuple(int(p) for p in EKS_KUBERNETES_VERSION.split(".")) >= (1, 35)
    # before 1.36's GA the default would have been 1.35; with nothing current there is none
    assert default_version(date(2026, 5, 1)) == "1.35"
    with pytest.raises(LookupError, match="no EKS version in standard support on 2031-01-01"):
        default_version(date(2031, 1, 1))


def test_validated_minors_are_the_supported_ones():
    assert KUBERNETES_MINORS == ("1.35", "1.36", "1.37")
    assert [v for v in EKS_VERSIONS if stack_supports(v)] == ["1.35", "1.36"]


def test_every_eks_version_has_addons_and_an_autoscaler_of_its_minor():
    for version in EKS_VERSIONS:
        assert set(EKS_ADDON_VERSIONS[version]) == set(EKS_ADDONS)
        assert EKS_ADDON_VERSIONS[version]["kube-proxy"].startswith(f"v{version}.")
        assert cluster_autoscaler_image(version).tag.startswith(f"v{version}.")
    assert set(CLUSTER_AUTOSCALER_IMAGES) == set(EKS_VERSIONS)


# --- config ------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", list(EKS_VERSIONS))
def test_any_version_in_the_table_may_be_chosen(version):
    assert EksClusterConfig.model_validate({
        "name": "c", "version": version, "vpc": {"availabilityZones": ["a", "b"]}}).version == version


def test_a_version_outside_the_table_is_refused():
    with pytest.raises(ConfigError) as info:
        aws_config(version="1.31")
    assert str(info.value) == (
        "invalid configuration (1 error):\n"
        "  - cluster.version: not an EKS version EKS still runs; use one of 1.32, 1.33, 1.34, "
        "1.35, 1.36 (components/catalog/eks_versions.py; default 1.36) (got \"1.31\")"
    )


def test_support_type_is_standard_or_extended():
    assert aws_config().cluster.support_type == "STANDARD"
    assert aws_config(supportType="EXTENDED").cluster.support_type == "EXTENDED"
    with pytest.raises(ConfigError) as info:
        aws_config(supportType="FOREVER")
    assert [i.path for i in info.value.issues] == ["cluster.supportType"]


# --- plan ----------------------------------------------------------------------------------------


def test_cluster_sets_upgrade_policy_and_addons_follow_its_version(run_component):
    plan = plan_cluster(run_component)
    cluster = plan.one(CLUSTER, "aws-eks-cluster").inputs
    assert (cluster["version"], cluster["upgradePolicy"]) == ("1.36", {"supportType": "STANDARD"})
    addons = {r.inputs["addonName"]: r.inputs["addonVersion"] for r in plan.find(ADDON)}
    assert addons == EKS_ADDON_VERSIONS["1.36"]

    older = plan_cluster(run_component, version="1.35", supportType="EXTENDED")
    cluster = older.one(CLUSTER, "aws-eks-cluster").inputs
    assert (cluster["version"], cluster["upgradePolicy"]) == ("1.35", {"supportType": "EXTENDED"})
    assert {r.inputs["addonName"]: r.inputs["addonVersion"] for r in older.find(ADDON)} == (
        EKS_ADDON_VERSIONS["1.35"])
    assert EKS_ADDON_VERSIONS["1.35"]["kube-proxy"] != EKS_ADDON_VERSIONS["1.36"]["kube-proxy"]


def test_the_plan_answers_the_addon_lookup_from_the_table_and_fails_on_an_unknown_minor():
    assert answer_addon_version_lookup({"addonName": "coredns", "kubernetesVersion": "1.36"}) == {
        "addonName": "coredns", "kubernetesVersion": "1.36", "mostRecent": False,
        "version": EKS_ADDON_VERSIONS["1.36"]["coredns"], "id": "coredns"}
    with pytest.raises(LookupError, match=r"no EKS add-on versions for Kubernetes 1\.29"):
        addon_version("1.29", "coredns")
    with pytest.raises(LookupError, match="no version of EKS add-on 'istio'"):
        addon_version("1.36", "istio")


def test_autoscaler_image_matches_the_cluster_minor():
    assert autoscaler_values("c", "us-east-1", "arn")["image"] == {
        "repository": "registry.k8s.io/autoscaling/cluster-autoscaler", "tag": "v1.36.1"}
    assert autoscaler_values("c", "us-east-1", "arn", "1.35")["image"]["tag"] == "v1.35.2"
    with pytest.raises(LookupError, match="no cluster-autoscaler image for Kubernetes 1.37"):
        autoscaler_values("c", "us-east-1", "arn", "1.37")


def test_environments_plan_a_version_in_standard_support_with_upgrade_policy(plan_env):
    for env in ("dev", "staging", "prod"):
        cluster = plan_env(env).one(CLUSTER, "platform-aws-eks-cluster").inputs
        assert EKS_VERSIONS[cluster["version"]].support_on(TODAY) == "standard", env
        assert cluster["upgradePolicy"] == {"supportType": "STANDARD"}, env
        assert control_plane_hourly(cluster, TODAY) == (0.10, "standard")


# --- the warning ---------------------------------------------------------------------------------


def test_a_version_past_standard_support_warns_with_its_end_date():
    assert support_warnings("1.33", "EXTENDED", TODAY)[0] == (
        "EKS 1.33 left standard support on 2026-07-29: billed $0.60/h instead of $0.10/h until "
        "2027-07-29; upgrade to 1.36")
    assert support_warnings("1.33", "STANDARD", TODAY)[0] == (
        "EKS 1.33 left standard support on 2026-07-29: upgradePolicy.supportType is STANDARD, so "
        "EKS upgrades the control plane to the next version automatically; upgrade to 1.36")
    assert support_warnings("1.34", "STANDARD", TODAY) == [
        "EKS 1.34 leaves standard support on 2026-12-02 (6 days); plan the upgrade to a newer version",
        "EKS 1.34 is outside the Kubernetes minors the library validates (1.35, 1.36, 1.37); "
        "add-ons and charts are untested on it",
    ]
    assert support_warnings("1.33", "STANDARD", TODAY)[2] == (
        "Knative Serving 1.23.0 (serving.deploymentMode Serverless) needs Kubernetes 1.34 or "
        "newer; EKS 1.33 cannot run it")
    assert support_warnings("1.36", "STANDARD", TODAY) == []
    assert support_warnings("1.36", "STANDARD", date(2027, 8, 3))[0].startswith(
        "EKS 1.36 left standard support on 2027-08-02")


def test_plan_warns_through_pulumi_log(run_component, monkeypatch):
    warned: list[str] = []
    real = eks_cluster_module.pulumi.log.warn
    monkeypatch.setattr(eks_cluster_module.pulumi.log, "warn",
                        lambda msg, *a, **kw: (warned.append(msg), real(msg, *a, **kw)))
    plan_cluster(run_component, version="1.33", supportType="EXTENDED")
    assert warned[0].startswith(
        "EKS 1.33 left standard support on 2026-07-29: billed $0.60/h instead of $0.10/h")
    warned.clear()
    plan_cluster(run_component)  # the default is current: no warning (until 1.36 ages)
    assert warned == support_warnings("1.36", "STANDARD", date.today())


# --- cost ----------------------------------------------------------------------------------------


def test_control_plane_rate_per_tier():
    assert CONTROL_PLANE_USD_HOUR == {"standard": 0.10, "extended": 0.60}
    assert control_plane_rate("1.33", "EXTENDED", TODAY) == 0.60
    assert control_plane_rate("1.33", "STANDARD", TODAY) == 0.10  # EKS upgrades it instead
    assert control_plane_rate("1.36", "EXTENDED", TODAY) == 0.10  # still in standard support
    assert control_plane_hourly({"version": "1.33", "upgradePolicy": {"supportType": "EXTENDED"}},
                                TODAY) == (0.60, "extended")
    # no upgradePolicy: AWS's default is EXTENDED, the silent surcharge this issue was about
    assert control_plane_hourly({"version": "1.33"}, TODAY) == (0.60, "extended")

"""Every pin carries a source and a date; `gpu-platform versions` prints them and flags old ones."""

from __future__ import annotations

from datetime import date

import pytest

from gpu_platform import versions
from gpu_platform.plan.cli import main
from gpu_platform.versions import ChartPin, GitRefPin, ImagePin
from gpu_platform.versions_report import PinRow, format_report, pin_rows

TODAY = date(2026, 11, 26)


def test_every_pin_has_an_upstream_source_and_an_iso_date():
    pins = [v for v in vars(versions).values() if isinstance(v, ChartPin | ImagePin | GitRefPin)]
    pins += list(versions.CLUSTER_AUTOSCALER_IMAGES.values())
    assert len(pins) >= 30
    for pin in pins:
        assert pin.source.startswith("https://"), pin
        released = date.fromisoformat(pin.released)
        assert date(2024, 1, 1) <= released <= TODAY, pin


def test_no_pin_floats():
    for row in pin_rows():
        assert row.version and row.version not in ("latest", "main", "master", "stable"), row


def test_rows_cover_charts_images_refs_addons_and_eks():
    rows = list(pin_rows())
    kinds = {row.kind for row in rows}
    assert kinds == {"chart", "image", "git", "eks-addon", "eks"}
    names = {row.name for row in rows}
    assert {"GPU_OPERATOR", "WHEREABOUTS", "RAY", "KNATIVE_SERVING", "KATIB",
            "CLUSTER_AUTOSCALER_IMAGES[1.36]", "EKS_ADDON_VERSIONS[1.36][vpc-cni]",
            "EKS_KUBERNETES_VERSION"} <= names


def test_flags_old_and_end_of_life_pins():
    row = PinRow("X", "chart", "x @ repo", "1.0.0", "https://example.org", date(2025, 11, 25),
                 end_of_life=date(2026, 11, 25), end_of_standard=date(2026, 1, 1))
    assert row.flags(TODAY) == ["past end of life (2026-11-25)", "older than a year (2025-11-25)"]
    assert row.flags(date(2026, 6, 1)) == ["past standard support (2026-01-01)"]
    fresh = PinRow("Y", "image", "y", "2", "https://example.org", date(2025, 11, 26))
    assert fresh.flags(TODAY) == []


def test_report_on_the_pinning_date_flags_only_the_year_old_releases():
    text, flagged = format_report(TODAY)
    flagged_names = [line.split(":")[0][2:] for line in text.splitlines() if line.startswith("! ")]
    # newest upstream releases that are nonetheless more than a year old on 2026-11-26
    assert flagged_names == ["AWS_EFA_DEVICE_PLUGIN", "FLUID", "KATIB"]
    assert flagged == 3
    assert ("  GPU_OPERATOR: gpu-operator @ https://helm.ngc.nvidia.com/nvidia v26.7.0 "
            "(released 2026-08-20)") in text
    assert "      FLAG: older than a year (2025-10-30)" in text
    assert ("  EKS_ADDON_VERSIONS[1.36][vpc-cni]: vpc-cni (Kubernetes 1.36) v1.23.0-eksbuild.1 "
            "(written 2026-11-26)\n      source: https://docs.aws.amazon.com/eks/latest/userguide/"
            "workloads-add-ons-available-eks.html\n      note: the offline plan's answer; not "
            "verified offline") in text
    assert text.rstrip().endswith(f"3 of {len(list(pin_rows()))} pins flagged")


def test_report_later_flags_the_eks_default_past_standard_support():
    text, _ = format_report(date(2027, 8, 3))
    assert "! EKS_KUBERNETES_VERSION: EKS Kubernetes (default) 1.36 (released 2026-06-02)" in text
    assert "      FLAG: past standard support (2027-08-02)" in text


def test_cli_versions_prints_and_strict_fails_on_flags(capsys):
    assert main(["versions", "--today", "2026-11-26"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Pinned versions on 2026-11-26")
    assert "source: https://github.com/knative/serving/releases/tag/knative-v1.23.0" in out
    assert main(["versions", "--today", "2026-11-26", "--strict"]) == 1
    capsys.readouterr()
    assert main(["versions", "--today", "2026-09-01", "--strict"]) == 0  # nothing a year old yet


def test_cli_versions_rejects_a_bad_date(capsys):
    with pytest.raises(SystemExit):
        main(["versions", "--today", "yesterday"])
    assert "invalid fromisoformat value" in capsys.readouterr().err

"""Everything every environment renders validates against upstream: objects and Helm values."""

import pytest

from gpu_platform.plan.model import helm_release_manifest
from gpu_platform.testing.fixtures import ENVIRONMENTS


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_object_validates_against_upstream_schemas(plan_env, conformance, env):
    objects = plan_env(env).kubernetes_objects()
    assert objects, f"{env} renders no Kubernetes objects"
    conformance.assert_conformant(conformance.validate_all(objects))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_helm_values_key_exists_upstream(plan_env, conformance, env):
    releases = plan_env(env).helm_releases()
    assert releases, f"{env} installs no Helm chart"
    problems = []
    for release in releases:
        chart = helm_release_manifest(release)
        problems += conformance.validate_helm_values(chart["chart"], chart["values"])
    conformance.assert_conformant(problems)

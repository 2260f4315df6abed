"""Tests of gpu_platform.testing.conformance against the real upstream schemas.

Fixture objects are small and inline; the schemas and chart values are read from the upstream
folder (never copied here). Every assertion names the exact problem text it expects, so a checker
that went lenient (or a message that lost its path) fails.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gpu_platform.testing import conformance as conformance_mod
from gpu_platform.testing.conformance import Conformance, assert_conformant, upstream_root
from gpu_platform.versions import KUBERNETES_MINORS

_FOUND = upstream_root()
if _FOUND is None:
    pytest.skip(
        "upstream schemas not found: clone the repo beside shared/upstream "
        "(<repo>/../shared/upstream) or set GPU_PLATFORM_UPSTREAM",
        allow_module_level=True,
    )
ROOT: Path = _FOUND

ALL_MINORS = ", ".join(KUBERNETES_MINORS)


@pytest.fixture(scope="module")
def checker() -> Conformance:
    return Conformance(ROOT)


# --------------------------------------------------------------------------- fixture objects


def ray_cluster() -> dict[str, Any]:
    """A valid RayCluster (worker minReplicas/maxReplicas omitted: required, but defaulted)."""
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayCluster",
        "metadata": {"name": "demo", "namespace": "ml", "labels": {"app.kubernetes.io/name": "ray"}},
        "spec": {
            "rayVersion": "2.9.0",
            "headGroupSpec": {
                "rayStartParams": {"dashboard-host": "0.0.0.0"},
                "template": {
                    "metadata": {"labels": {"role": "head"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "ray-head",
                                "image": "rayproject/ray:2.9.0",
                                "resources": {"limits": {"cpu": 2, "memory": "8Gi"}},
                            }
                        ]
                    },
                },
            },
            "workerGroupSpecs": [
                {
                    "groupName": "gpu",
                    "replicas": 1,
                    "rayStartParams": {},
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "ray-worker",
                                    "image": "rayproject/ray:2.9.0-gpu",
                                    "resources": {"limits": {"nvidia.com/gpu": 1}},
                                }
                            ]
                        }
                    },
                }
            ],
        },
    }


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx:1.27",
                            "resources": {"limits": {"cpu": 1, "memory": "256Mi"}},
                        }
                    ]
                },
            },
        },
    }


def inference_service() -> dict[str, Any]:
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "iris", "namespace": "serving"},
        "spec": {
            "predictor": {
                "model": {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://models/iris"}
            }
        },
    }


def head_container(obj: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = obj["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    return container


# --------------------------------------------------------------------------- custom resources


def test_valid_raycluster_passes(checker: Conformance) -> None:
    assert checker.validate_object(ray_cluster()) == []


def test_undeclared_field_under_head_group_spec_fails_naming_its_path(
    checker: Conformance,
) -> None:
    obj = ray_cluster()
    obj["spec"]["headGroupSpec"]["rayStartParam"] = {"num-cpus": "0"}
    assert checker.validate_object(obj) == [
        "RayCluster/ml/demo: spec.headGroupSpec.rayStartParam: field not declared in the schema "
        "(the API server would drop it) (did you mean 'rayStartParams'?)"
    ]


def test_undeclared_field_deep_in_a_list_fails(checker: Conformance) -> None:
    obj = ray_cluster()
    obj["spec"]["workerGroupSpecs"][0]["template"]["spec"]["containers"][0]["imagePolicy"] = "x"
    assert checker.validate_object(obj) == [
        "RayCluster/ml/demo: spec.workerGroupSpecs[0].template.spec.containers[0].imagePolicy: "
        "field not declared in the schema (the API server would drop it) "
        "(did you mean 'imagePullPolicy', 'resizePolicy', 'image'?)"
    ]


def test_unknown_top_level_field_fails(checker: Conformance) -> None:
    obj = ray_cluster()
    obj["specs"] = {}
    assert checker.validate_object(obj) == [
        "RayCluster/ml/demo: specs: field not declared in the schema "
        "(the API server would drop it) (did you mean 'spec'?)"
    ]


def test_preserve_unknown_fields_node_accepts_undeclared_fields(checker: Conformance) -> None:
    # InferenceService's status is the node carrying x-kubernetes-preserve-unknown-fields.
    schema = json.loads(
        (ROOT / "crds/serving.kserve.io/InferenceService_v1beta1.json").read_text()
    )
    status = schema["properties"]["status"]
    assert status["x-kubernetes-preserve-unknown-fields"] is True
    assert "vendorExtension" not in status["properties"]

    obj = inference_service()
    obj["status"] = {"vendorExtension": {"anything": [1, {"goes": True}]}}
    assert checker.validate_object(obj) == []


def test_preserve_unknown_fields_does_not_cover_declared_nested_objects(
    checker: Conformance,
) -> None:
    # As in the API server: status.address is declared (without the flag), so it is still pruned.
    obj = inference_service()
    obj["status"] = {"vendorExtension": 1, "address": {"url": "http://iris", "bogus": 1}}
    obj["spec"]["predictor"]["bogus"] = 1
    assert checker.validate_object(obj) == [
        "InferenceService/serving/iris: spec.predictor.bogus: field not declared in the schema "
        "(the API server would drop it)",
        "InferenceService/serving/iris: status.address.bogus: field not declared in the schema "
        "(the API server would drop it)",
    ]


def test_wrong_type_fails(checker: Conformance) -> None:
    obj = ray_cluster()
    obj["spec"]["workerGroupSpecs"][0]["replicas"] = "two"
    obj["spec"]["headGroupSpec"]["enableIngress"] = "yes"
    assert checker.validate_object(obj) == [
        "RayCluster/ml/demo: spec.headGroupSpec.enableIngress: 'yes' is not of type 'boolean'",
        "RayCluster/ml/demo: spec.workerGroupSpecs[0].replicas: 'two' is not of type 'integer'",
    ]


@pytest.mark.parametrize("quantity", [2, "2", "500m", "1.5", "8Gi"])
def test_int_or_string_accepts_ints_and_strings(checker: Conformance, quantity: Any) -> None:
    obj = ray_cluster()
    head_container(obj)["resources"]["limits"]["cpu"] = quantity
    assert checker.validate_object(obj) == []


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (True, "True is not of type 'integer', 'string'"),
        (0.5, "0.5 is not of type 'integer', 'string'"),
        ("lots", "'lots' does not match"),  # the CRD's quantity pattern applies to strings
    ],
)
def test_int_or_string_rejects_other_values(
    checker: Conformance, quantity: Any, message: str
) -> None:
    obj = ray_cluster()
    head_container(obj)["resources"]["limits"]["cpu"] = quantity
    problems = checker.validate_object(obj)
    assert len(problems) == 1
    assert problems[0].startswith(
        "RayCluster/ml/demo: spec.headGroupSpec.template.spec.containers[0].resources.limits.cpu: "
        + message
    )


def test_required_field_without_default_is_required(checker: Conformance) -> None:
    obj = ray_cluster()
    del obj["spec"]["workerGroupSpecs"][0]["groupName"]
    assert checker.validate_object(obj) == [
        "RayCluster/ml/demo: spec.workerGroupSpecs[0]: 'groupName' is a required property"
    ]


def test_list_map_keys_must_be_unique(checker: Conformance) -> None:
    obj = ray_cluster()
    containers = obj["spec"]["headGroupSpec"]["template"]["spec"]["containers"]
    containers.append({"name": "ray-head", "image": "busybox"})
    assert checker.validate_object(obj) == [
        "RayCluster/ml/demo: spec.headGroupSpec.template.spec.containers[1]: duplicate entry "
        "(name='ray-head') also at index 0: the list is a map keyed by name"
    ]


def test_object_schema_declaring_no_fields_rejects_any_field(checker: Conformance) -> None:
    # controller-gen emits embedded ObjectMeta as a bare {type: object}: the API server prunes
    # everything set there (here: fluid's ephemeral volumeClaimTemplate.metadata).
    schema = json.loads((ROOT / "crds/data.fluid.io/JuiceFSRuntime_v1alpha1.json").read_text())
    volume = schema["properties"]["spec"]["properties"]["volumes"]["items"]
    template = volume["properties"]["ephemeral"]["properties"]["volumeClaimTemplate"]
    assert template["properties"]["metadata"] == {"type": "object"}
    runtime = {
        "apiVersion": "data.fluid.io/v1alpha1",
        "kind": "JuiceFSRuntime",
        "metadata": {"name": "jfs", "namespace": "data"},
        "spec": {
            "volumes": [
                {
                    "name": "cache",
                    "ephemeral": {
                        "volumeClaimTemplate": {
                            "metadata": {"labels": {"a": "b"}},
                            "spec": {"accessModes": ["ReadWriteOnce"]},
                        }
                    },
                }
            ]
        },
    }
    assert checker.validate_object(runtime) == [
        'JuiceFSRuntime/data/jfs: spec.volumes[0].ephemeral.volumeClaimTemplate.metadata.labels: '
        "field not allowed: the schema declares no fields here (the API server would drop it)"
    ]


def test_missing_crd_schema_fails(checker: Conformance) -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert checker.validate_object(widget) == [
        "Widget/w: no upstream CRD schema for example.com/v1 Widget"
    ]
    future = ray_cluster()
    future["apiVersion"] = "ray.io/v2"
    assert checker.validate_object(future) == [
        "RayCluster/ml/demo: no upstream CRD schema for ray.io/v2 RayCluster "
        "(upstream has RayCluster v1, v1alpha1)"
    ]


def test_custom_resource_metadata_is_checked(checker: Conformance) -> None:
    obj = ray_cluster()
    obj["metadata"]["labels"]["tier"] = 3
    obj["metadata"]["annotations"] = {"note": {"nested": "map"}}
    obj["metadata"]["labelz"] = {}
    assert checker.validate_object(obj) == [
        "RayCluster/ml/demo: metadata.annotations.note: {'nested': 'map'} is not of type 'string'",
        "RayCluster/ml/demo: metadata.labels.tier: 3 is not of type 'string'",
        "RayCluster/ml/demo: metadata.labelz: field not declared in the schema "
        "(the API server would drop it) (did you mean 'labels'?)",
    ]


def test_name_is_required_unless_generate_name(checker: Conformance) -> None:
    obj = ray_cluster()
    del obj["metadata"]["name"]
    assert checker.validate_object(obj) == [
        "RayCluster/ml/<unnamed>: metadata.name: required (or metadata.generateName)"
    ]
    obj["metadata"]["generateName"] = "demo-"
    assert checker.validate_object(obj) == []


def test_label_syntax_is_checked(checker: Conformance) -> None:
    obj = ray_cluster()
    obj["metadata"]["labels"]["version"] = "2.9.0+cuda"
    obj["metadata"]["annotations"] = {"Example.com/x": "ok value: anything"}
    assert checker.validate_object(obj) == [
        "RayCluster/ml/demo: metadata.labels.version: invalid label value '2.9.0+cuda': at most "
        "63 characters, alphanumeric at both ends, '-', '_' or '.' between",
        'RayCluster/ml/demo: metadata.annotations["Example.com/x"]: invalid key: prefix '
        "'Example.com' must be a DNS subdomain (lowercase, at most 253 characters)",
    ]


# --------------------------------------------------------------------------- built-in kinds


def test_valid_core_objects_pass(checker: Conformance) -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml"}}
    assert checker.validate_object(deployment()) == []
    assert checker.validate_object(namespace) == []


def test_core_typo_fails_for_every_minor(checker: Conformance) -> None:
    obj = deployment()
    obj["spec"]["replica"] = obj["spec"].pop("replicas")
    obj["replicas"] = 2  # top level: checked by the kind's own schema, not the definitions
    assert checker.validate_object(obj) == [
        "Deployment/default/web: replicas: field not declared in the schema "
        f"(the API server would drop it) [Kubernetes {ALL_MINORS}]",
        "Deployment/default/web: spec.replica: field not declared in the schema "
        f"(the API server would drop it) (did you mean 'replicas'?) [Kubernetes {ALL_MINORS}]",
    ]


@pytest.mark.parametrize("minor", KUBERNETES_MINORS)
def test_core_typo_fails_in_each_minor_alone(minor: str) -> None:
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolicies"] = "Always"
    assert Conformance(ROOT, (minor,)).validate_object(obj) == [
        "Deployment/default/web: spec.template.spec.containers[0].imagePullPolicies: field not "
        "declared in the schema (the API server would drop it) (did you mean 'imagePullPolicy'?) "
        f"[Kubernetes {minor}]"
    ]


def test_core_wrong_type_and_label_value_fail(checker: Conformance) -> None:
    obj = deployment()
    obj["metadata"]["labels"]["tier"] = 3
    obj["spec"]["replicas"] = "2"
    assert checker.validate_object(obj) == [
        f"Deployment/default/web: metadata.labels.tier: 3 is not of type 'string', 'null' "
        f"[Kubernetes {ALL_MINORS}]",
        f"Deployment/default/web: spec.replicas: '2' is not of type 'integer', 'null' "
        f"[Kubernetes {ALL_MINORS}]",
    ]


def test_core_kind_not_served_in_a_minor_fails() -> None:
    # ValidatingAdmissionPolicy went GA (admissionregistration.k8s.io/v1) in Kubernetes 1.30.
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "gpu-limits"},
        "spec": {"validations": [{"expression": "true"}]},
    }
    assert Conformance(ROOT, ("1.29", "1.30")).validate_object(policy) == [
        "ValidatingAdmissionPolicy/gpu-limits: no schema for admissionregistration.k8s.io/v1 "
        f"ValidatingAdmissionPolicy in kubernetes-validate {kubernetes_validate.__version__} "
        "(SchemaNotFoundError: not served) [Kubernetes 1.29]"
    ]


def test_unknown_core_kind_fails(checker: Conformance) -> None:
    obj = {"apiVersion": "apps/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "n"}}
    assert checker.validate_object(obj) == [
        f"Widget/n/w: no schema for apps/v1 Widget in kubernetes-validate "
        f"{kubernetes_validate.__version__} (SchemaNotFoundError: not served) "
        f"[Kubernetes {ALL_MINORS}]"
    ]


def test_minor_not_shipped_by_kubernetes_validate_fails() -> None:
    problems = Conformance(ROOT, ("1.24",)).validate_object(deployment())
    assert len(problems) == 1
    assert problems[0].startswith(
        f"Deployment/default/web: kubernetes-validate {kubernetes_validate.__version__} ships "
        "no schemas for Kubernetes 1.24 (it ships "
    )


@pytest.mark.parametrize("minor", KUBERNETES_MINORS)
def test_core_verdicts_agree_with_kubernetes_validate(minor: str) -> None:
    """The cached validators must say what kubernetes_validate.validate(strict=True) says."""
    check = Conformance(ROOT, (minor,))
    good = deployment()
    kubernetes_validate.validate(good, minor, strict=True)
    assert check.validate_object(good) == []

    bad = deployment()
    bad["spec"]["template"]["spec"]["dnsPolicyy"] = "None"
    with pytest.raises(kubernetes_validate.ValidationError) as caught:
        kubernetes_validate.validate(bad, minor, strict=True)
    assert list(caught.value.path) == ["spec", "template", "spec"]
    assert "'dnsPolicyy' was unexpected" in caught.value.message
    assert check.validate_object(bad) == [
        "Deployment/default/web: spec.template.spec.dnsPolicyy: field not declared in the schema "
        "(the API server would drop it) (did you mean 'dnsPolicy', 'restartPolicy'?) "
        f"[Kubernetes {minor}]"
    ]

    missing = {"apiVersion": "apps/v1", "kind": "Widget", "metadata": {"name": "w"}}
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(missing, minor, strict=True)
    assert len(check.validate_object(missing)) == 1


# --------------------------------------------------------------------------- collections


def test_validate_all_concatenates_in_order(checker: Conformance) -> None:
    bad_core = deployment()
    bad_core["spec"]["paused"] = "no"
    bad_custom = ray_cluster()
    bad_custom["spec"]["suspend"] = "no"
    problems = checker.validate_all([bad_custom, deployment(), bad_core, ray_cluster()])
    assert problems == [
        "RayCluster/ml/demo: spec.suspend: 'no' is not of type 'boolean'",
        f"Deployment/default/web: spec.paused: 'no' is not of type 'boolean', 'null' "
        f"[Kubernetes {ALL_MINORS}]",
    ]


def test_assert_conformant_lists_every_problem() -> None:
    assert_conformant([])
    with pytest.raises(AssertionError) as caught:
        assert_conformant(["A/x: one", "B/y: two"])
    assert str(caught.value) == "2 conformance problem(s):\nA/x: one\nB/y: two"


def test_validation_does_not_mutate_the_cached_schema(checker: Conformance) -> None:
    path = ROOT / "crds/ray.io/RayCluster_v1.json"
    checker.validate_object(ray_cluster())
    cached = conformance_mod._load_json(str(path))
    assert cached == json.loads(path.read_text())
    head = cached["properties"]["spec"]["properties"]["headGroupSpec"]
    assert "additionalProperties" not in head


def test_validation_does_not_mutate_the_object(checker: Conformance) -> None:
    obj = ray_cluster()
    before = copy.deepcopy(obj)
    checker.validate_object(obj)
    assert obj == before


# --------------------------------------------------------------------------- Helm values


def test_known_gpu_operator_keys_pass(checker: Conformance) -> None:
    values = {"driver": {"enabled": False}, "toolkit": {"enabled": True}, "mig": {"strategy": "mixed"}}
    assert checker.validate_helm_values("gpu-operator", values) == []


def test_unknown_helm_key_fails_with_a_suggestion(checker: Conformance) -> None:
    problems = checker.validate_helm_values("gpu-operator", {"driver": {"enabld": False}})
    assert problems == [
        "helm/gpu-operator: driver.enabld: not a key of the chart's values.yaml "
        "(did you mean 'enabled'?)"
    ]


def test_empty_map_upstream_is_free_form(checker: Conformance) -> None:
    upstream = yaml.safe_load((ROOT / "charts/gpu-operator/values.yaml").read_text())
    assert upstream["driver"]["nvidiaDriverCRD"]["nodeSelector"] == {}
    assert upstream["daemonsets"]["labels"] == {}
    values = {
        "driver": {"nvidiaDriverCRD": {"nodeSelector": {"node.kubernetes.io/gpu": "true"}}},
        "daemonsets": {"labels": {"team": "ml", "nested": {"any": 1}}},
    }
    assert checker.validate_helm_values("gpu-operator", values) == []
    # ...but only below the free-form map itself.
    sideways = {"driver": {"nvidiaDriverCRD": {"nodeSelectorr": {}}}}
    assert checker.validate_helm_values("gpu-operator", sideways) == [
        "helm/gpu-operator: driver.nvidiaDriverCRD.nodeSelectorr: not a key of the chart's "
        "values.yaml (did you mean 'nodeSelector'?)"
    ]


def test_null_upstream_is_free_form(checker: Conformance) -> None:
    upstream = yaml.safe_load((ROOT / "charts/volcano/values.yaml").read_text())
    assert upstream["custom"]["scheduler_podLabels"] is None
    values = {"custom": {"scheduler_podLabels": {"team": "ml"}}}
    assert checker.validate_helm_values("volcano", values) == []


def test_free_form_argument_covers_a_dotted_prefix(checker: Conformance) -> None:
    values = {"driver": {"futureKnob": {"a": 1}}, "toolkit": {"enabled": True}}
    assert checker.validate_helm_values("gpu-operator", values) == [
        "helm/gpu-operator: driver.futureKnob: not a key of the chart's values.yaml"
    ]
    assert checker.validate_helm_values("gpu-operator", values, free_form=["driver.futureKnob"]) == []
    assert checker.validate_helm_values("gpu-operator", values, free_form=["driver"]) == []
    # A prefix covers whole path segments only.
    assert checker.validate_helm_values("gpu-operator", values, free_form=["driver.future"]) == [
        "helm/gpu-operator: driver.futureKnob: not a key of the chart's values.yaml"
    ]


def test_map_where_upstream_has_a_scalar_fails(checker: Conformance) -> None:
    values = {"driver": {"enabled": {"value": True}}, "mig": "mixed"}
    assert checker.validate_helm_values("gpu-operator", values) == [
        "helm/gpu-operator: driver.enabled: is a map, but upstream's default is bool True",
        "helm/gpu-operator: mig: is str 'mixed', but upstream's default is a map",
    ]


def test_list_items_are_checked_against_the_first_upstream_item(checker: Conformance) -> None:
    values = {
        "operator": {
            "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "efect": "NoSchedule"}]
        },
        "driver": {"env": [{"name": "A", "value": "b"}]},  # upstream: an empty list
    }
    assert checker.validate_helm_values("gpu-operator", values) == [
        "helm/gpu-operator: operator.tolerations[0].efect: not a key of the chart's values.yaml "
        "(did you mean 'effect'?)"
    ]
    covered = checker.validate_helm_values(
        "gpu-operator", values, free_form=["operator.tolerations"]
    )
    assert covered == []


def test_known_free_form_paths_apply_to_every_check(checker: Conformance) -> None:
    # daemonsets.tolerations is declared free-form for gpu-operator (KNOWN_FREE_FORM)
    values = {"daemonsets": {"tolerations": [{"key": "a", "value": "b", "effect": "NoSchedule"}]}}
    assert checker.validate_helm_values("gpu-operator", values) == []


def test_missing_chart_fails(checker: Conformance) -> None:
    assert checker.validate_helm_values("no-such-chart", {}) == [
        "helm/no-such-chart: no upstream values.yaml for chart 'no-such-chart' "
        f"(looked in {ROOT / 'charts' / 'no-such-chart'})"
    ]


def test_cert_manager_defaults_pass_its_values_schema(checker: Conformance) -> None:
    assert checker.validate_helm_values("cert-manager", {}) == []
    assert checker.validate_helm_values("cert-manager", {"crds": {"enabled": True}}) == []


def test_cert_manager_schema_free_objects_accept_keys(checker: Conformance) -> None:
    upstream = yaml.safe_load((ROOT / "charts/cert-manager/values.yaml").read_text())
    schema = json.loads((ROOT / "charts/cert-manager/values.schema.json").read_text())
    # values.yaml shows a non-empty securityContext without runAsUser; the schema's object for it
    # declares no properties and does not forbid additional ones.
    assert "runAsUser" not in upstream["securityContext"]
    assert schema["$defs"]["helm-values.securityContext"]["type"] == "object"
    assert "properties" not in schema["$defs"]["helm-values.securityContext"]
    values = {"securityContext": {"runAsUser": 1000, "runAsNonRoot": True}}
    assert checker.validate_helm_values("cert-manager", values) == []


def test_cert_manager_schema_declared_keys_pass(checker: Conformance) -> None:
    # image.tag is only a comment in values.yaml, but values.schema.json declares it.
    upstream = yaml.safe_load((ROOT / "charts/cert-manager/values.yaml").read_text())
    assert "tag" not in upstream["image"]
    values = {"image": {"tag": "v1.21.1"}, "podDisruptionBudget": {"minAvailable": 1}}
    assert checker.validate_helm_values("cert-manager", values) == []


def test_cert_manager_unknown_key_and_bad_type_fail(checker: Conformance) -> None:
    values = {"webhook": {"replicaCunt": 2}, "replicaCount": "two"}
    assert checker.validate_helm_values("cert-manager", values) == [
        "helm/cert-manager: webhook.replicaCunt: not a key of the chart's values.yaml or "
        "values.schema.json (did you mean 'replicaCount'?)",
        "helm/cert-manager: replicaCount: 'two' is not of type 'number' (values.schema.json)",
    ]


def test_schema_additional_and_pattern_properties_accept_keys(tmp_path: Path) -> None:
    chart = tmp_path / "charts" / "demo"
    chart.mkdir(parents=True)
    (chart / "values.yaml").write_text("labels:\n  app: demo\nlimits:\n  cpu: 1\nstrict:\n  a: 1\n")
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "limits": {
                "type": "object",
                "properties": {"cpu": {"type": "integer"}},
                "patternProperties": {"^x-": {}},
            },
            "strict": {"type": "object", "properties": {"a": {"type": "integer"}}},
        },
    }
    (chart / "values.schema.json").write_text(json.dumps(schema))
    check = Conformance(tmp_path)
    ok = {"labels": {"team": "ml"}, "limits": {"x-memory": 2}, "strict": {"a": 2}}
    assert check.validate_helm_values("demo", ok) == []
    bad = {"labels": {"team": 1}, "limits": {"memory": 2}, "strict": {"b": 2}}
    assert check.validate_helm_values("demo", bad) == [
        "helm/demo: limits.memory: not a key of the chart's values.yaml or values.schema.json",
        "helm/demo: strict.b: not a key of the chart's values.yaml or values.schema.json",
        "helm/demo: labels.team: 1 is not of type 'string' (values.schema.json)",
    ]


def test_null_override_deletes_a_default_before_schema_validation(checker: Conformance) -> None:
    # Helm drops a key set to null; the schema then sees the merged values without it.
    assert checker.validate_helm_values("cert-manager", {"nodeSelector": None}) == []


# --------------------------------------------------------------------------- upstream_root


def test_upstream_root_prefers_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(conformance_mod.UPSTREAM_ENV, str(tmp_path))
    assert upstream_root() == tmp_path


def test_upstream_root_finds_a_sibling_shared_folder_from_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shared" / "upstream").mkdir(parents=True)
    inside = tmp_path / "checkout-any-name" / "tests"
    inside.mkdir(parents=True)
    monkeypatch.delenv(conformance_mod.UPSTREAM_ENV, raising=False)
    monkeypatch.chdir(inside)
    assert upstream_root() == tmp_path / "shared" / "upstream"


def test_find_upstream_returns_none_when_absent(tmp_path: Path) -> None:
    lonely = tmp_path / "repo"
    lonely.mkdir()
    # Only tmp_path's own ancestors are searched; none of them has shared/upstream.
    assert not any((p / "shared" / "upstream").is_dir() for p in (lonely, *lonely.parents))
    assert conformance_mod._find_upstream([lonely]) is None


def test_missing_root_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Conformance(tmp_path / "nope")

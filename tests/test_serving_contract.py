"""The component contract in the serving area: every component is ``X(name, args, opts=None)``,
refuses bad args (field and cross-field) with one ConfigError before registering anything,
waits for ``opts.depends_on`` and exposes typed outputs."""

import pulumi
import pulumi_kubernetes as k8s
import pytest
from component_outputs import resolved_outputs

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.core.pools import GpuPool
from gpu_platform.serving import (
    InferenceService,
    InferenceServiceArgs,
    InferenceServiceSpec,
    Keda,
    Knative,
    KServe,
    KServeArgs,
    ModelStore,
    Runtimes,
    Serving,
    ServingArgs,
    ServingConfig,
)
from gpu_platform.storage import StorageConfig

POOLS = {
    "infer": GpuPool.model_validate({"role": "inference", "gpu": {"model": "A100-80GB", "count": 8}}),
    "shared": GpuPool.model_validate({"role": "interactive", "gpu": {"model": "L4", "count": 4},
                                      "sharing": {"timeSlicing": {"replicas": 2}}}),
}
LLAMA = {"storageUri": "s3://models/llama", "pool": "infer", "gpus": 4,
         "model": {"catalog": "llama-2-70b-chat-awq"}}
ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
URL = "https://oidc.eks.us-east-1.amazonaws.com/id/ABC"
STORAGE = validate_model(StorageConfig, {"juicefs": {
    "fileSystems": {"lab": {"backend": "external",
                            "external": {"metaurl": "redis://r:6379/1", "bucket": "https://b/j"}}},
    "volumes": {"models": {"fileSystem": "lab", "namespace": "ml-serving", "size": "2Ti"},
                "checkpoints": {"fileSystem": "lab", "namespace": "ml", "size": "2Ti"}}}})
NS = "kubernetes:core/v1:Namespace"
REL = "kubernetes:helm.sh/v3:Release"



# --- refusals: exact messages, nothing registered --------------------------------------------

def test_kserve_refuses_an_ingress_class_in_serverless(refused):
    err = refused(lambda: KServe("k", {"deploymentMode": "Serverless",
                                       "kserve": {"ingressClassName": "nginx"}}))
    assert str(err) == (
        "invalid args of KServe 'k' (1 error):\n"
        "  - kserve.ingressClassName: Ingresses are for RawDeployment; Serverless is reached through "
        'Kourier (Knative routes on kserve.ingressDomain): remove it (got "nginx")')


def test_knative_refuses_a_domain_that_is_not_one(refused):
    err = refused(lambda: Knative("kn", {"domain": "Models.Example.org"}))
    assert str(err) == (
        "invalid args of Knative 'kn' (1 error):\n"
        "  - domain: must be a DNS domain: lowercase letters, digits, '-' and '.', starting and "
        'ending with a letter or digit (got "Models.Example.org")')


def test_runtimes_refuses_an_unknown_builtin(refused):
    err = refused(lambda: Runtimes("r", {"runtimes": {"builtin": {"tensorflw": True}}}))
    assert [str(i) for i in err.issues] == [
        "runtimes.builtin.tensorflw: unknown key; did you mean 'tensorflow'? allowed keys: "
        "autogluonserver, huggingfaceserver, lgbserver, mlserver, paddleserver, pmmlserver, "
        "predictiveserver, sklearnserver, tensorflow, torchserve, tritonserver, vllmserver, xgbserver"]


def test_model_store_refuses_a_provider_that_is_not_an_arn(refused):
    err = refused(lambda: ModelStore("m", {"oidcProviderArn": "oidc.eks.us-east-1.amazonaws.com/id/A",
                                           "oidcProviderUrl": "oidc.eks.us-east-1.amazonaws.com/id/A"}))
    assert str(err) == (
        "invalid args of ModelStore 'm' (2 errors):\n"
        "  - oidcProviderArn: must look like arn:aws:iam::<account>:oidc-provider/... "
        '(got "oidc.eks.us-east-1.amazonaws.com/id/A")\n'
        "  - oidcProviderUrl: must look like https://oidc.eks.<region>.amazonaws.com/id/<id> "
        '(got "oidc.eks.us-east-1.amazonaws.com/id/A")')
    missing = refused(lambda: ModelStore("m", {"oidcProviderArn": ARN}))
    assert [str(i) for i in missing.issues] == ["oidcProviderUrl: is required"]


def _isvc_args(spec, **extra):
    return InferenceServiceArgs(service_name="llama", spec=InferenceServiceSpec.model_validate(spec),
                                pools=POOLS, **extra)


def test_inference_service_refuses_more_gpus_than_a_node_has(refused):
    err = refused(lambda: InferenceService("i", _isvc_args({**LLAMA, "gpus": 16})))
    assert str(err) == (
        "invalid args of InferenceService 'i' (1 error):\n"
        "  - spec.gpus: a replica needs 16 GPUs on one node but nodes of pool 'infer' have 8; lower "
        "gpus or use a pool with bigger nodes (got 16)")


def test_inference_service_refuses_unknown_pools_runtimes_mounts_and_mode_options(refused):
    spec = {**LLAMA, "pool": "h100", "runtime": "kserve-sklearnserver", "vllm": {},
            "canaryTrafficPercent": 5, "mounts": {"checkpoints": {}, "weights": {}}}
    err = refused(lambda: InferenceService("i", _isvc_args(spec, storage=STORAGE)))
    assert [str(i) for i in err.issues] == [
        "spec.canaryTrafficPercent: canary rollouts need deploymentMode Serverless (Knative "
        "revisions); remove it for RawDeployment (got 5)",
        "spec.runtime: unknown or disabled runtime; available: gpu-platform-vllm "
        '(got "kserve-sklearnserver")',
        'spec.pool: unknown GPU pool; known pools: infer, shared (got "h100")',
        "spec.mounts.checkpoints: storage volume 'checkpoints' is in namespace 'ml', not 'ml-serving': "
        "a pod can only mount a PVC of its own namespace",
        "spec.mounts.weights: unknown storage volume or dataset 'weights'; known names: checkpoints, models",
    ]


def test_inference_service_refuses_tensor_parallelism_on_a_shared_pool(refused):
    err = refused(lambda: InferenceService("i", {"serviceName": "llama", "pools": POOLS,
                                                 "spec": {**LLAMA, "pool": "shared", "gpus": 2}}))
    assert [str(i) for i in err.issues] == [
        "spec.gpus: pool 'shared' shares its GPUs (time-slicing); tensor parallelism needs whole GPUs: "
        "use gpus: 1 or a whole-GPU pool (got 2)"]


def test_serving_refuses_what_build_serving_refuses(refused):
    config = {"aws": {"enabled": True}, "inferenceServices": {"llama": {**LLAMA, "gpus": 16}}}
    err = refused(lambda: Serving("s", {"serving": config, "pools": POOLS}))
    assert str(err) == (
        "invalid args of Serving 's' (3 errors):\n"
        "  - serving.inferenceServices.llama.gpus: a replica needs 16 GPUs on one node but nodes of "
        "pool 'infer' have 8; lower gpus or use a pool with bigger nodes (got 16)\n"
        "  - serving.aws.oidcProviderArn: is required when aws.enabled is true (IRSA trust)\n"
        "  - serving.aws.oidcProviderUrl: is required when aws.enabled is true (IRSA trust)")


# --- outputs ------------------------------------------------------------------------------------

def test_kserve_outputs_and_existing_namespaces(run_component):
    args = KServeArgs.model_validate({"kserve": {"createNamespace": False},
                                      "certManager": {"namespace": "certs", "createNamespace": False}})
    out = resolved_outputs(run_component, lambda: KServe("k", args),
                           "namespace_name", "release_name", "crd_release_name",
                           "cert_manager_namespace_name", "cert_manager_release_name")
    assert out == {"namespace_name": "kserve", "release_name": "kserve", "crd_release_name": "kserve-crd",
                   "cert_manager_namespace_name": "certs", "cert_manager_release_name": "cert-manager"}
    plan = run_component(lambda: KServe("k", args))
    assert plan.find(NS) == []  # both installs go into namespaces someone else manages
    assert plan.one(REL, "k-kserve-crd").dependencies == []


def test_kserve_without_cert_manager_has_no_cert_manager_outputs(run_component):
    seen = {}

    def program():
        kserve = KServe("k", {"certManager": {"enabled": False}})
        seen["outputs"] = (kserve.cert_manager_namespace_name, kserve.cert_manager_release_name)

    run_component(program)
    assert seen["outputs"] == (None, None)


def test_knative_outputs(run_component):
    out = resolved_outputs(run_component, lambda: Knative("kn", {"domain": "models.example.org"}),
                           "namespace_name", "kourier_namespace_name", "domain", "ingress_class")
    assert out == {"namespace_name": "knative-serving", "kourier_namespace_name": "kourier-system",
                   "domain": "models.example.org",
                   "ingress_class": "kourier.ingress.networking.knative.dev"}


def test_runtimes_outputs(run_component):
    args = {"runtimes": {"builtin": {"sklearnserver": True}}, "namespace": "models"}
    out = resolved_outputs(run_component, lambda: Runtimes("r", args),
                           "release_name", "namespace_name", "vllm_runtime_name", "available")
    assert out == {"release_name": "kserve-runtimes", "namespace_name": "models",
                   "vllm_runtime_name": "gpu-platform-vllm",
                   "available": ["gpu-platform-vllm", "kserve-sklearnserver"]}


def test_model_store_takes_outputs_and_exposes_bucket_role_and_service_account(run_component):
    # the bucket is named here: an auto-named bucket's name is unknown until it exists
    args = {"namespace": "models", "serviceAccount": "reader", "modelBucket": {"name": "acme-models"}}

    def build():
        return ModelStore("m", {**args, "oidcProviderArn": pulumi.Output.from_input(ARN),
                                "oidcProviderUrl": pulumi.Output.from_input(URL)})

    out = resolved_outputs(run_component, build, "bucket_name", "bucket_arn", "role_arn",
                           "service_account_name", "namespace_name")
    plan = run_component(lambda: ModelStore("m", {**args, "oidcProviderArn": ARN, "oidcProviderUrl": URL}))
    bucket = plan.one("aws:s3/bucket:Bucket", "m-bucket")
    role = plan.one("aws:iam/role:Role", "m-reader-role")
    assert out == {"bucket_name": "acme-models", "bucket_arn": bucket.outputs["arn"],
                   "role_arn": role.outputs["arn"], "service_account_name": "reader",
                   "namespace_name": "models"}
    # the role trusts the wired provider (an Output) for exactly that service account
    assert "system:serviceaccount:models:reader" in role.inputs["assumeRolePolicy"]
    assert ARN in role.inputs["assumeRolePolicy"]


def test_inference_service_outputs_its_in_cluster_url(run_component):
    args = _isvc_args(LLAMA, namespace="models")
    out = resolved_outputs(run_component, lambda: InferenceService("i", args),
                           "service_name", "namespace_name", "url")
    assert out == {"service_name": "llama", "namespace_name": "models",
                   "url": "http://llama-predictor.models.svc.cluster.local"}


def test_serving_outputs(run_component):
    config = validate_model(ServingConfig, {"enabled": True, "inferenceServices": {"llama": LLAMA}})
    out = resolved_outputs(run_component, lambda: Serving("s", ServingArgs(serving=config, pools=POOLS)),
                           "namespace_name", "kserve_namespace_name", "urls")
    assert out == {"namespace_name": "ml-serving", "kserve_namespace_name": "kserve",
                   "urls": {"llama": "http://llama-predictor.ml-serving.svc.cluster.local"}}


# --- ordering -----------------------------------------------------------------------------------

@pytest.mark.parametrize("build", [
    lambda opts: KServe("c", {}, opts),
    lambda opts: Knative("c", {}, opts),
    lambda opts: Runtimes("c", {}, opts),
    lambda opts: Keda("c", {}, opts),
    lambda opts: ModelStore("c", {"oidcProviderArn": ARN, "oidcProviderUrl": URL}, opts),
    lambda opts: InferenceService("c", _isvc_args(LLAMA), opts),
    lambda opts: Serving("c", {"serving": {"inferenceServices": {"llama": LLAMA}}, "pools": POOLS}, opts),
])
def test_every_kubernetes_child_waits_for_opts_depends_on(run_component, build):
    def program():
        before = k8s.core.v1.Namespace("before")
        build(pulumi.ResourceOptions(depends_on=[before]))

    plan = run_component(program)
    before = plan.one(NS, "before").urn
    children = [r for r in plan.resources if r.custom and r.name != "before"
                and r.type.startswith("kubernetes:")]
    assert children and all(before in r.dependencies for r in children), [
        r.name for r in children if before not in r.dependencies]



def test_the_area_exports_every_component_and_its_args():
    import gpu_platform.serving as serving

    for component in ("Serving", "KServe", "Knative", "Keda", "Runtimes", "ModelStore",
                      "InferenceService"):
        assert {component, f"{component}Args"} <= set(serving.__all__)
        assert issubclass(getattr(serving, component), pulumi.ComponentResource)
    assert all(hasattr(serving, name) for name in serving.__all__)


def test_a_bad_ingress_domain_is_a_config_error_before_serving_builds_knative():
    # Serving hands kserve.ingressDomain to Knative: the config refuses what Knative would
    with pytest.raises(ConfigError) as err:
        validate_model(ServingConfig, {"deploymentMode": "Serverless",
                                       "kserve": {"ingressDomain": "Models.Example.org"}})
    assert [str(i) for i in err.value.issues] == [
        "kserve.ingressDomain: must be a DNS domain: lowercase letters, digits, '-' and '.', starting "
        'and ending with a letter or digit (got "Models.Example.org")']


def test_inference_service_takes_the_model_store_service_account_as_an_output(run_component):
    def program():
        InferenceService("i", _isvc_args(LLAMA, service_account=pulumi.Output.from_input("reader")))

    plan = run_component(program)
    isvc = plan.one("kubernetes:serving.kserve.io/v1beta1:InferenceService", "i-isvc")
    assert isvc.inputs["spec"]["predictor"]["serviceAccountName"] == "reader"

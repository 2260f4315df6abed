"""InferenceServices: exact GPU resources, tensor parallelism, pool scheduling, autoscaling,
errors naming the path, and every rendered object valid against the upstream KServe CRDs."""

import pulumi
import pytest

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.core.pools import GpuPool, pool_scheduling
from gpu_platform.serving import ServingConfig, build_serving, check_serving_pools
from gpu_platform.serving.inference_service import InferenceServiceSpec, render_inference_service
from gpu_platform.serving.runtimes import VllmRuntimeConfig, vllm_runtime_object

POOLS = {
    "infer": GpuPool.model_validate({"role": "inference", "gpu": {"model": "A100-80GB", "count": 8}}),
    "notebooks": GpuPool.model_validate({
        "role": "interactive", "gpu": {"model": "L4", "count": 1},
        "sharing": {"timeSlicing": {"replicas": 2}},
    }),
}
LLAMA = {
    "storageUri": "s3://models/llama-70b-chat", "pool": "infer", "gpus": 4,
    "model": {"catalog": "llama-2-70b-chat-awq"},
    "minReplicas": 2, "maxReplicas": 10, "scaleMetric": "cpu", "scaleTarget": 80,
    "vllm": {"maxModelLen": 4096, "gpuMemoryUtilization": 0.9, "quantization": "awq"},
}
CR = "kubernetes:serving.kserve.io/v1beta1:InferenceService"


def _config(services, **extra):
    return validate_model(ServingConfig, {"enabled": True, "inferenceServices": services, **extra})


def _errors(fn):
    with pytest.raises(ConfigError) as err:
        fn()
    return [str(i) for i in err.value.issues]


def test_raw_deployment_inference_service_is_rendered_exactly(run_component):
    config = _config({"llama-70b": LLAMA})
    plan = run_component(lambda: build_serving("serving", config, POOLS, pulumi.ResourceOptions()))
    isvc = plan.one(CR, "serving-llama-70b-isvc")
    runtime = plan.one("kubernetes:serving.kserve.io/v1alpha1:ClusterServingRuntime", "serving-runtimes-vllm")
    builtin = plan.one("kubernetes:helm.sh/v3:Release", "serving-runtimes-builtin")
    assert {runtime.urn, builtin.urn} <= set(isvc.dependencies)
    assert isvc.inputs["metadata"]["annotations"] == {
        "serving.kserve.io/deploymentMode": "Standard",
        "serving.kserve.io/enable-prometheus-scraping": "true",
        "serving.kserve.io/autoscalerClass": "hpa",
    }
    gpu_amounts = {"cpu": "8", "memory": "64Gi", "nvidia.com/gpu": "4"}
    assert isvc.inputs["spec"] == {"predictor": {
        "minReplicas": 2, "maxReplicas": 10, "scaleMetric": "cpu", "scaleTarget": 80,
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "automountServiceAccountToken": False,
        "nodeSelector": {"gpu-platform.io/pool": "infer"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "true",
                         "effect": "NoSchedule"}],
        "priorityClassName": "inference-critical",  # the default for InferenceServices
        "model": {
            "modelFormat": {"name": "vllm"},
            "runtime": "gpu-platform-vllm",
            "storageUri": "s3://models/llama-70b-chat",
            "resources": {"requests": gpu_amounts, "limits": gpu_amounts},
            "readinessProbe": {"httpGet": {"path": "/health", "port": 8080},
                               "initialDelaySeconds": 120, "periodSeconds": 10,
                               "timeoutSeconds": 10, "failureThreshold": 3},
            "livenessProbe": {"httpGet": {"path": "/health", "port": 8080},
                              "initialDelaySeconds": 180, "periodSeconds": 30,
                              "timeoutSeconds": 10, "failureThreshold": 3},
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            "args": ["--tensor-parallel-size=4", "--max-model-len=4096",
                     "--gpu-memory-utilization=0.9", "--quantization=awq"],
        },
    }}


def test_serverless_rendering_uses_knative_annotations_and_canary():
    spec = InferenceServiceSpec.model_validate({
        **LLAMA, "gpus": 1, "scaleMetric": "concurrency", "scaleTarget": 10,
        "canaryTrafficPercent": 10, "modelName": "llama", "vllm": {},
    })
    obj = render_inference_service("llama", "ml-serving", spec, "Serverless",
                                   pool_scheduling("infer", POOLS["infer"]), "vllm")
    assert obj["metadata"]["annotations"] == {
        "serving.kserve.io/deploymentMode": "Knative",
        "serving.kserve.io/enable-prometheus-scraping": "true",
        "autoscaling.knative.dev/class": "kpa.autoscaling.knative.dev",
        "autoscaling.knative.dev/metric": "concurrency",
        "autoscaling.knative.dev/target": "10",
    }
    predictor = obj["spec"]["predictor"]
    assert predictor["canaryTrafficPercent"] == 10 and "scaleMetric" not in predictor
    assert predictor["model"]["args"] == ["--served-model-name=llama", "--tensor-parallel-size=1"]


def test_canary_in_raw_deployment_names_the_path():
    assert _errors(lambda: _config({"llama": {**LLAMA, "canaryTrafficPercent": 10}})) == [
        "inferenceServices.llama.canaryTrafficPercent: canary rollouts need deploymentMode "
        "Serverless (Knative revisions); remove it for RawDeployment (got 10)"
    ]


def test_more_gpus_than_the_pool_nodes_have_is_an_error():
    config = _config({"llama": {**LLAMA, "gpus": 16}})
    assert [str(i) for i in check_serving_pools(config, POOLS)] == [
        "serving.inferenceServices.llama.gpus: a replica needs 16 GPUs on one node but nodes of "
        "pool 'infer' have 8; lower gpus or use a pool with bigger nodes (got 16)"
    ]
    assert _errors(lambda: build_serving("s", config, POOLS, pulumi.ResourceOptions())) == [
        "serving.inferenceServices.llama.gpus: a replica needs 16 GPUs on one node but nodes of "
        "pool 'infer' have 8; lower gpus or use a pool with bigger nodes (got 16)"
    ]


def test_unknown_pool_and_shared_pool_tensor_parallelism():
    small = {"model": {"catalog": "qwen2.5-1.5b-instruct"}, "vllm": {"gpuMemoryUtilization": 0.5}}
    config = _config({"a": {**LLAMA, "pool": "h100"},
                      "b": {**LLAMA, "pool": "notebooks", "gpus": 1, **small},
                      "c": {**LLAMA, "pool": "notebooks", "gpus": 2}})
    assert [str(i) for i in check_serving_pools(config, POOLS)] == [
        'serving.inferenceServices.a.pool: unknown GPU pool; known pools: infer, notebooks (got "h100")',
        "serving.inferenceServices.c.gpus: a replica needs 2 GPUs on one node but nodes of pool "
        "'notebooks' have 1; lower gpus or use a pool with bigger nodes (got 2)",
    ]


def test_spec_validation_errors():
    bad = {**LLAMA, "storageUri": "gs://bucket/m", "minReplicas": 0, "scaleMetric": "rps",
           "vllm": {"gpuMemoryUtilization": 1.5, "quantization": "int3"}}
    errors = _errors(lambda: _config({"llama": bad}))
    assert errors[0].startswith("inferenceServices.llama.storageUri: must match the pattern")
    assert errors[1:] == [
        "inferenceServices.llama.vllm.gpuMemoryUtilization: must be <= 1.0 (got 1.5)",
        "inferenceServices.llama.vllm.quantization: must be one of 'awq', 'awq_marlin', 'gptq', "
        "'gptq_marlin', 'fp8', 'bitsandbytes', 'gguf' or 'compressed-tensors' (got \"int3\")",
    ]
    errors = _errors(lambda: _config({"llama": {**LLAMA, "minReplicas": 0, "scaleMetric": "rps",
                                                "runtime": "kserve-sklearnserver"}}))
    assert errors == [
        "inferenceServices.llama.minReplicas: scale to zero needs Serverless; use >= 1 (got 0)",
        'inferenceServices.llama.scaleMetric: RawDeployment (HPA) scales on cpu or memory (got "rps")',
        'inferenceServices.llama.vllm: vLLM args need runtime gpu-platform-vllm (got "kserve-sklearnserver")',
        "inferenceServices.llama.runtime: unknown or disabled runtime; available: gpu-platform-vllm "
        '(got "kserve-sklearnserver")',
    ]


def test_cpu_only_model_on_a_builtin_runtime(run_component):
    config = _config({"iris": {"storageUri": "pvc://models/iris", "gpus": 0, "cpu": "1",
                               "memory": "2Gi", "runtime": "kserve-sklearnserver"}},
                     runtimes={"builtin": {"sklearnserver": True}})
    plan = run_component(lambda: build_serving("serving", config, POOLS, pulumi.ResourceOptions()))
    predictor = plan.one(CR, "serving-iris-isvc").inputs["spec"]["predictor"]
    model = predictor["model"]
    assert model["modelFormat"] == {"name": "sklearn"} and "args" not in model
    assert model["resources"] == {"requests": {"cpu": "1", "memory": "2Gi"},
                                  "limits": {"cpu": "1", "memory": "2Gi"}}
    assert "nodeSelector" not in predictor and "tolerations" not in predictor


def test_gpu_and_cpu_only_declarations_are_consistent():
    errors = _errors(lambda: _config({
        "cpu-on-pool": {"storageUri": "pvc://m/a", "pool": "infer", "gpus": 0,
                        "runtime": "kserve-sklearnserver"},
        "vllm-no-gpu": {"storageUri": "pvc://m/b", "gpus": 0},
        "gpu-no-pool": {"storageUri": "pvc://m/c", "model": {"catalog": "qwen2.5-1.5b-instruct"}},
        "undeclared": {"storageUri": "pvc://m/d", "pool": "infer"},
    }, runtimes={"builtin": {"sklearnserver": True}}))
    assert errors == [
        'inferenceServices.cpu-on-pool.pool: a CPU-only model (gpus: 0) runs off the GPU pools; '
        'remove pool (got "infer")',
        "inferenceServices.vllm-no-gpu.gpus: runtime gpu-platform-vllm serves on GPUs; CPU-only "
        "models use a built-in runtime (e.g. kserve-sklearnserver) (got 0)",
        "inferenceServices.gpu-no-pool.pool: is required for a model on GPUs (or set gpus: 0 for "
        "a CPU-only model)",
        "inferenceServices.undeclared.model: is required for a model on GPUs: declare catalog, "
        "or parametersB and precision, so its fit in GPU memory is checked",
    ]


def test_every_rendered_object_conforms(run_component, conformance):
    config = _config({"llama-70b": LLAMA, "small": {**LLAMA, "gpus": 1, "storageUri": "pvc://m/x"}})
    plan = run_component(lambda: build_serving("serving", config, POOLS, pulumi.ResourceOptions()))
    objects = plan.kubernetes_objects()
    assert sorted(o["kind"] for o in objects) == [
        "ClusterServingRuntime", "InferenceService", "InferenceService", "Namespace", "Namespace",
        "Namespace",
    ]
    spec = InferenceServiceSpec.model_validate({**LLAMA, "scaleMetric": "rps", "scaleTarget": 5,
                                                "canaryTrafficPercent": 20})
    serverless = render_inference_service("s", "ml-serving", spec, "Serverless",
                                          pool_scheduling("infer", POOLS["infer"]), "vllm", "sa")
    conformance.assert_conformant(conformance.validate_all([*objects, serverless]))


def test_vllm_runtime_object():
    obj = vllm_runtime_object(VllmRuntimeConfig())
    (container,) = obj["spec"]["containers"]
    assert container["image"] == "vllm/vllm-openai:v0.33.0"
    assert container["args"] == ["--port=8080", "--model=/mnt/models", "--served-model-name={{.Name}}"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False, "privileged": False, "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    amounts = {"cpu": "8", "memory": "64Gi"}
    assert container["resources"] == {"requests": amounts, "limits": amounts}
    assert container["readinessProbe"] == {"httpGet": {"path": "/health", "port": 8080},
                                           "initialDelaySeconds": 120, "periodSeconds": 10,
                                           "timeoutSeconds": 10, "failureThreshold": 3}
    assert container["livenessProbe"] == {"httpGet": {"path": "/health", "port": 8080},
                                          "initialDelaySeconds": 180, "periodSeconds": 30,
                                          "timeoutSeconds": 10, "failureThreshold": 3}
    assert obj["spec"]["volumes"] == [{"name": "devshm",
                                       "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}}]

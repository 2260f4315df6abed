"""AWS model store: protected, encrypted, versioned, private bucket; IRSA reader role trusting one
service account; the ServiceAccount annotated with the role."""

import json

import pulumi

from gpu_platform.config import validate_model
from gpu_platform.core.pools import GpuPool
from gpu_platform.serving import ServingConfig, build_serving

AWS = {"enabled": True, "modelBucket": {"region": "us-east-1"},
       "oidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC",
       "oidcProviderUrl": "https://oidc.eks.us-east-1.amazonaws.com/id/ABC"}


def test_bucket_protections_and_irsa(run_component, conformance):
    config = validate_model(ServingConfig, {"enabled": True, "aws": AWS, "inferenceServices": {
        "m": {"storageUri": "s3://models/m", "pool": "p", "model": {"catalog": "llama-3.1-8b-instruct"},
              "vllm": {"maxModelLen": 8192}}}})
    pools = {"p": {"role": "inference", "gpu": {"model": "L4", "count": 1}}}
    pools = {k: GpuPool.model_validate(v) for k, v in pools.items()}
    plan = run_component(lambda: build_serving("serving", config, pools, pulumi.ResourceOptions()))
    bucket = plan.one("aws:s3/bucket:Bucket", "serving-models-bucket")
    assert (bucket.protect, bucket.retain_on_delete, bucket.inputs["forceDestroy"]) == (True, True, False)
    sse = plan.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                   "serving-models-bucket-encryption")
    assert sse.inputs["rules"] == [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}, "bucketKeyEnabled": True}
    ]
    versioning = plan.one("aws:s3/bucketVersioning:BucketVersioning", "serving-models-bucket-versioning")
    assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
    pab = plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                   "serving-models-bucket-public-access")
    assert all(pab.inputs[k] is True for k in ("blockPublicAcls", "blockPublicPolicy",
                                               "ignorePublicAcls", "restrictPublicBuckets"))
    role = plan.one("aws:iam/role:Role", "serving-models-reader-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Federated": AWS["oidcProviderArn"]}
    assert trust["Condition"]["StringEquals"] == {
        "oidc.eks.us-east-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:ml-serving:kserve-model-reader",
        "oidc.eks.us-east-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com",
    }
    policy = plan.one("aws:iam/rolePolicy:RolePolicy", "serving-models-reader-role-policy")
    bucket_arn = bucket.outputs["arn"]
    assert json.loads(policy.inputs["policy"])["Statement"] == [
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [bucket_arn]},
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"{bucket_arn}/*"]},
    ]
    sa = plan.one("kubernetes:core/v1:ServiceAccount", "serving-models-reader-sa")
    assert set(sa.inputs["metadata"]["annotations"]) == {"eks.amazonaws.com/role-arn",
                                                         "serving.kserve.io/s3-region"}
    isvc = plan.one("kubernetes:serving.kserve.io/v1beta1:InferenceService", "serving-m-isvc")
    assert isvc.inputs["spec"]["predictor"]["serviceAccountName"] == "kserve-model-reader"
    conformance.assert_conformant(conformance.validate_all(plan.kubernetes_objects()))


def test_irsa_needs_the_oidc_provider():
    import pytest

    from gpu_platform.config import ConfigError

    config = validate_model(ServingConfig, {"enabled": True, "aws": {"enabled": True}})
    with pytest.raises(ConfigError) as err:
        build_serving("serving", config, {}, pulumi.ResourceOptions())
    assert [str(i) for i in err.value.issues] == [
        "serving.aws.oidcProviderArn: is required when aws.enabled is true (IRSA trust)",
        "serving.aws.oidcProviderUrl: is required when aws.enabled is true (IRSA trust)",
    ]

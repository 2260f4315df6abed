"""IAM roles for Kubernetes service accounts (IRSA): one namespace/service account, one role.

The trust policy lets only tokens the cluster's OIDC issuer minted for exactly
``system:serviceaccount:<namespace>:<name>`` with audience ``sts.amazonaws.com`` assume the role;
the permissions are an inline policy the caller spells out (no ``*`` action), or, for an AWS
component whose permissions AWS itself maintains (the EBS CSI driver's
``service-role/AmazonEBSCSIDriverPolicy``), AWS managed policies attached by ARN.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pulumi

from gpu_platform.core.names import child_name

if TYPE_CHECKING:  # imported where an AWS resource is made: environments without AWS never
    import pulumi_aws as aws  # load pulumi_aws (~30 ms)

STS_AUDIENCE = "sts.amazonaws.com"
ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"
AWS_MANAGED_POLICY = "arn:aws:iam::aws:policy/"


def irsa_trust_policy(provider_arn: str, issuer: str, namespace: str, service_account: str) -> dict:
    """Trust policy for one service account; ``issuer`` without ``https://``."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                f"{issuer}:aud": STS_AUDIENCE,
            }},
        }],
    }


def check_statements(statements: Sequence[Mapping[str, Any]]) -> None:
    """Least privilege: at least one statement, each with explicit actions and resources."""
    if not statements:
        raise ValueError("a workload role needs at least one policy statement")
    for index, statement in enumerate(statements):
        actions = statement.get("Action")
        actions = [actions] if isinstance(actions, str) else list(actions or [])
        if not actions or any(a == "*" or a.endswith(":*") for a in actions):
            raise ValueError(
                f"statement {index}: name each action (got {actions}); wildcards are not allowed")
        if "Resource" not in statement:
            raise ValueError(f"statement {index}: Resource is required")


def workload_role(
    name: str,
    *,
    oidc_provider_arn: pulumi.Input[str],
    oidc_provider_url: pulumi.Input[str],
    namespace: str,
    service_account: str,
    statements: pulumi.Input[Sequence[Mapping[str, Any]]] = (),
    managed_policies: Sequence[str] = (),
    description: str | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> aws.iam.Role:
    """An IAM role only ``namespace/service_account`` can assume, with an inline policy.

    ``oidc_provider_url`` may carry its ``https://`` scheme or not; ``statements`` may contain
    Outputs (e.g. a bucket's ARN). ``managed_policies``: AWS managed policy ARNs
    (``arn:aws:iam::aws:policy/...``) attached instead of, or besides, the inline policy.
    """
    import pulumi_aws as aws
    for arn in managed_policies:
        if not arn.startswith(AWS_MANAGED_POLICY):
            raise ValueError(f"managed policy {arn!r}: only AWS managed policies "
                             f"({AWS_MANAGED_POLICY}...) are attached by ARN")
    inline = not (managed_policies and isinstance(statements, Sequence) and not statements)
    if inline and isinstance(statements, Sequence):
        check_statements(statements)  # fail before registering when the policy is known now

    def trust_document(args: list[str]) -> str:
        issuer = args[1].removeprefix("https://")
        return json.dumps(irsa_trust_policy(args[0], issuer, namespace, service_account))

    def policy_document(resolved: Sequence[Mapping[str, Any]]) -> str:
        check_statements(resolved)
        return json.dumps({"Version": "2012-10-17", "Statement": [dict(s) for s in resolved]})

    trust = pulumi.Output.all(oidc_provider_arn, oidc_provider_url).apply(trust_document)
    role = aws.iam.Role(
        name, assume_role_policy=trust,
        description=description or f"IRSA role for {namespace}/{service_account}", opts=opts)
    if inline:
        aws.iam.RolePolicy(
            child_name(name, "policy"), role=role.id,
            policy=pulumi.Output.from_input(statements).apply(policy_document),
            opts=opts)
    for arn in managed_policies:
        aws.iam.RolePolicyAttachment(
            child_name(name, arn.rsplit("/", 1)[-1]), role=role.name, policy_arn=arn, opts=opts)
    return role

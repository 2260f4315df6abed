"""The mock engine: a MockMonitor that records every registration as the real engine would see it.

The SDK hands parent, dependencies and resource options to the *monitor*, not to ``Mocks``, so
``CapturingMonitor`` reads them from each ``RegisterResourceRequest``. Inputs are recorded from
the serialized request (so secrets are still marked) and scrubbed: a secret becomes
``"[secret]"`` and its path is remembered. URNs follow the engine's rules (top-level resources
are not qualified by the root stack's type, nested types keep the whole parent chain), so the
URNs in a plan are the URNs ``pulumi up`` would create.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.settings import get_project, get_stack

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
SECRET = "[secret]"
UNKNOWN = "[unknown]"

# Signatures of the SDK's special values in serialized properties (pulumi/runtime/rpc.py).
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SIG_SECRET = "1b47061264138c4ac30d75fd1eb44270"
_SIG_RESOURCE = "5cf8f73096256a8f31e491e813e4eb8e"
_SIG_OUTPUT = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


class UnknownInvokeError(RuntimeError):
    """An invoke (data source) the offline plan has no answer for."""

    def __init__(self, token: str):
        super().__init__(
            f"the offline plan has no mock for the invoke '{token}'; add an answer for it to "
            "gpu_platform.plan.capture.INVOKE_ANSWERS or the plan policy's invokes (or pass invokes= "
            "to the runner)"
        )
        self.token = token


@dataclass
class Registration:
    """One registered resource, as the engine would receive it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    provider: str | None
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    inputs: dict[str, Any]
    secret_paths: list[str]
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    ignore_changes: list[str]
    replace_on_changes: list[str]
    aliases: list[Any]
    remote: bool
    # custom resources: the state the engine returns; components: what they pass to
    # register_outputs (secrets replaced by "[secret]", their paths in output_secret_paths)
    outputs: dict[str, Any] = field(default_factory=dict)
    output_secret_paths: list[str] = field(default_factory=list)


InvokeAnswer = Callable[[Mapping[str, Any]], dict[str, Any]]

# Answers for data sources the library's programs call, keyed by invoke token. Values are
# deterministic fakes of the right shape; anything not here fails loudly, naming the token.
INVOKE_ANSWERS: dict[str, InvokeAnswer] = {
    "aws:index/getCallerIdentity:getCallerIdentity": lambda _: {
        "accountId": "123456789012",
        "arn": "arn:aws:iam::123456789012:user/plan",
        "userId": "PLAN",
        "id": "123456789012",
    },
    "aws:index/getPartition:getPartition": lambda _: {
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
        "id": "aws",
    },
    "aws:index/getRegion:getRegion": lambda args: {
        "name": args.get("name") or "us-east-1",
        "region": args.get("region") or "us-east-1",
        "id": "us-east-1",
    },
}


def _eks_cluster_outputs(args: MockResourceArgs) -> dict[str, Any]:
    # what EKS computes once the cluster exists; IRSA trust policies and the kubeconfig use them
    return {
        "endpoint": f"https://{args.name}.gr7.us-east-1.eks.amazonaws.com",
        "certificateAuthority": {"data": "cGxhbi1jYQ=="},
        "identities": [
            {"oidcs": [{"issuer": f"https://oidc.eks.us-east-1.amazonaws.com/id/{args.name.upper()}"}]}
        ],
        "vpcConfig": {
            **(args.inputs.get("vpcConfig") or {}),
            "clusterSecurityGroupId": f"sg-{args.name}",
        },
    }


# Computed outputs per type, beyond the inputs the mock echoes back.
COMPUTED_OUTPUTS: dict[str, Callable[[MockResourceArgs], dict[str, Any]]] = {
    "aws:eks/cluster:Cluster": _eks_cluster_outputs,
}


def _fake_outputs(args: MockResourceArgs) -> dict[str, Any]:
    """Outputs a provider would compute, so downstream inputs have realistic shapes."""
    state = dict(args.inputs)
    if args.typ.startswith("aws:"):
        kind = args.typ.split(":")[-1].lower()
        state.setdefault("arn", f"arn:aws:{kind}:us-east-1:123456789012:{args.name}")
    computed = COMPUTED_OUTPUTS.get(args.typ)
    if computed is not None:
        state.update(computed(args))
    return state


class PlanMocks(Mocks):
    """Resource outputs echo their inputs; invokes must be known or they fail."""

    def __init__(self, invokes: Mapping[str, InvokeAnswer] | None = None):
        self._callers = dict(invokes or {})
        self._invokes: dict[str, InvokeAnswer] | None = None

    @property
    def invokes(self) -> dict[str, InvokeAnswer]:
        """Generic fakes, then the domain's answers (the plan policy's), then the caller's.

        Read at the first invoke: loading the policy imports the domain library behind it, which
        a program that invokes nothing (or has not yet) need not pay for."""
        if self._invokes is None:
            from gpu_platform.plan.policy import default_policy  # policy imports this module

            self._invokes = {**INVOKE_ANSWERS, **default_policy().invokes, **self._callers}
        return self._invokes

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        return f"{args.name}-id", _fake_outputs(args)

    def call(self, args: MockCallArgs) -> dict:  # type: ignore[override]
        answer = self.invokes.get(args.token)
        if answer is None:
            raise UnknownInvokeError(args.token)
        return answer(args.args)


class CapturingMonitor(MockMonitor):
    """Records each registration with its options; outputs of the root stack too."""

    def __init__(self, mocks: Mocks):
        super().__init__(mocks)
        self.registrations: dict[str, Registration] = {}
        self.order: list[str] = []
        self.stack_urn: str | None = None
        self.stack_outputs: dict[str, Any] = {}
        self.stack_output_secrets: list[str] = []
        self.invoke_errors: list[UnknownInvokeError] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine qualifies a child's type with its parent's full type chain, except for the
        # root stack (the SDK's MockMonitor keeps only the last link and includes the stack).
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != ROOT_STACK_TYPE:
                type_ = f"{parent_type}${type_}"
        return "urn:pulumi:" + "::".join([get_stack(), get_project(), type_, name])

    def Invoke(self, request):  # noqa: N802 - gRPC method name
        try:
            return super().Invoke(request)
        except UnknownInvokeError as exc:
            self.invoke_errors.append(exc)
            raise

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        urn = response.urn
        if request.type == ROOT_STACK_TYPE:
            self.stack_urn = urn
            return response
        secret_paths: list[str] = []
        inputs = scrub(json_format.MessageToDict(request.object), "", secret_paths)
        state = self.resources[urn].state if urn in self.resources else {}
        self.registrations[urn] = Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent or None,
            provider=_provider_urn(request.provider),
            dependencies=list(request.dependencies),
            property_dependencies={
                key: list(deps.urns) for key, deps in request.propertyDependencies.items()
            },
            inputs=inputs,
            secret_paths=secret_paths,
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            delete_before_replace=bool(request.deleteBeforeReplace),
            ignore_changes=list(request.ignoreChanges),
            replace_on_changes=list(request.replaceOnChanges),
            aliases=[_alias(spec) for spec in request.aliases] + list(request.aliasURNs),
            remote=bool(request.remote),
            outputs=scrub(state, "", []) if isinstance(state, dict) else {},
        )
        self.order.append(urn)
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802 - gRPC method name
        secrets: list[str] = []
        outputs = scrub(json_format.MessageToDict(request.outputs), "", secrets)
        if request.urn == self.stack_urn:
            self.stack_outputs = outputs
            self.stack_output_secrets = secrets
        elif request.urn in self.registrations:  # a component's register_outputs
            component = self.registrations[request.urn]
            component.outputs = outputs
            component.output_secret_paths = secrets
        return super().RegisterResourceOutputs(request)


def _provider_urn(reference: str) -> str | None:
    # A provider reference is "<urn>::<id>"; the plan records the provider's URN.
    if not reference:
        return None
    return reference.rsplit("::", 1)[0]


def _alias(spec: Any) -> Any:
    data = json_format.MessageToDict(spec)
    return data.get("urn", data.get("spec", data))


def scrub(value: Any, path: str, secret_paths: list[str]) -> Any:
    """Turn serialized properties into plain JSON: secrets hidden, numbers as the user wrote them."""
    if isinstance(value, dict):
        sig = value.get(_SIG_KEY)
        if sig == _SIG_SECRET:
            secret_paths.append(path)
            return SECRET
        if sig == _SIG_RESOURCE:
            return value.get("urn", value.get("id"))
        if sig == _SIG_OUTPUT:
            if value.get("secret"):
                secret_paths.append(path)
                return SECRET
            return scrub(value.get("value", UNKNOWN), path, secret_paths)
        if sig is not None:
            return {k: v for k, v in value.items() if k != _SIG_KEY}
        # protobuf maps have no order; sorted keys keep plans and manifests diff-stable
        return {
            key: scrub(value[key], f"{path}.{key}" if path else key, secret_paths)
            for key in sorted(value)
        }
    if isinstance(value, list):
        return [scrub(item, f"{path}[{i}]", secret_paths) for i, item in enumerate(value)]
    if isinstance(value, float) and value.is_integer():
        # protobuf Struct carries every number as a double; 3.0 was written as 3
        return int(value)
    if value == _UNKNOWN_VALUE:
        return UNKNOWN
    return value

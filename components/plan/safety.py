"""Data safety: the guards each stateful resource must carry, by the policy's classification.

Every resource type a plan contains must be classified by the ``PlanPolicy`` (this library's:
``gpu_platform.policy``), either as stateful (with the guards it needs) or as stateless, so that a
new stateful type cannot slip in unguarded: an unclassified type is itself a problem. Custom
resources (RayCluster, InferenceService, ...) need no entry: they are desired state the program
re-creates, and what must survive is their CRDs. No stateful resource may be
delete-before-replace, which would delete the data before its replacement exists.
"""

from __future__ import annotations

from gpu_platform.plan.capture import Registration
from gpu_platform.plan.model import BUILTIN_API_GROUPS, Plan
from gpu_platform.plan.policy import Guard, PlanPolicy, resolve

__all__ = ["Guard", "guard_problems", "is_custom_resource", "required_guard"]


def is_custom_resource(type_: str) -> bool:
    """RayCluster, InferenceService and the like: desired state this program re-creates; what
    must survive is their CRDs."""
    package, _, rest = type_.partition(":")
    group_version = rest.rpartition(":")[0]
    group = group_version.rpartition("/")[0]
    return package == "kubernetes" and "." in group and group not in BUILTIN_API_GROUPS


def required_guard(resource: Registration, policy: PlanPolicy | None = None) -> Guard | None:
    """The guard a resource needs, or None when it holds no data."""
    return resolve(policy).guard(resource)


def guard_problems(plan: Plan, policy: PlanPolicy | None = None) -> list[str]:
    """Every stateful resource lacking its guard, and every unclassified resource type."""
    rules = resolve(policy)
    problems = []
    for resource in plan.resources:
        if not resource.custom:
            continue  # components hold nothing themselves
        if not rules.classifies(resource.type) and not is_custom_resource(resource.type):
            problems.append(f"{resource.type}: not classified by the plan policy ({rules.name})")
            continue
        guard = rules.guard(resource)
        if guard is None:
            continue
        where = f"{resource.type} {resource.name}"
        if guard.protect and not resource.protect:
            problems.append(f"{where}: must be protected ({guard.why})")
        if guard.retain_on_delete and not resource.retain_on_delete:
            problems.append(f"{where}: must be retained on delete ({guard.why})")
        if resource.delete_before_replace:
            problems.append(f"{where}: must not be delete-before-replace ({guard.why})")
    return problems

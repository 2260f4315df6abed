"""Children options for the component contract: ``X(name, args, opts=None)`` orders itself
through ``opts.depends_on``.

Pulumi makes a resource that depends on a component wait for all of the component's children,
but a component's own ``depends_on`` is not inherited by the children it creates (the Python
SDK passes only ``parent``); a component that must start after something therefore hands its
``depends_on`` to each child. ``child_options`` is that one rule.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi


def depends_on_of(opts: pulumi.ResourceOptions | None) -> list[pulumi.Resource]:
    """``opts.depends_on`` as a list of resources (it may be one resource, a list, or None)."""
    found = opts.depends_on if opts is not None else None
    if found is None:
        return []
    if isinstance(found, pulumi.Resource):
        return [found]
    if isinstance(found, Sequence):
        return [r for r in found if isinstance(r, pulumi.Resource)]
    raise TypeError("depends_on must be resources known when the component is built, not Outputs")


def child_options(
    parent: pulumi.Resource,
    opts: pulumi.ResourceOptions | None,
    *,
    depends_on: Sequence[pulumi.Resource] = (),
    aliases: Sequence[pulumi.Alias | str] | None = None,
) -> pulumi.ResourceOptions:
    """Options for a component's child: ``parent``, after the component's own ``depends_on``
    and ``depends_on`` (resources created earlier inside the component), each resource once;
    ``aliases`` where the child moved (a renamed or retyped resource keeps its state)."""
    unique: list[pulumi.Resource] = []
    for resource in [*depends_on_of(opts), *depends_on]:
        if not any(resource is seen for seen in unique):
            unique.append(resource)
    return pulumi.ResourceOptions(
        parent=parent, depends_on=unique, aliases=list(aliases) if aliases else None
    )


__all__ = ["child_options", "depends_on_of"]

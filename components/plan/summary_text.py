"""The plan summary as text (``gpu-platform plan``): cost floor and ceiling, hourly and monthly;
capacity against quotas; prerequisites; node setup; pins; placeholders."""

from __future__ import annotations

from collections.abc import Sequence

from gpu_platform.plan.summary import HOURS_PER_MONTH, Summary


def _usd(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right, strict=True)]
        return ("  " + "  ".join(cells)).rstrip() + "\n"

    return line(header) + "".join(line(r) for r in rows)


def format_cost(summary: Summary) -> str:
    if not summary.pools and not summary.fixed:
        return "Cloud cost: no AWS resources in this plan (existing cluster): not estimated.\n"
    rows = []
    for p in summary.pools:
        note = []
        if p.holders:
            note.append("held by " + ", ".join(p.holders))
        if p.over_max:
            note.append(f"held pods need more than maxSize {p.max_size}: some stay Pending")
        if p.spot:
            note.append("spot: on-demand price shown as upper bound")
        if p.price is None:
            note.append("no list price")
        rows.append((p.pool, p.instance_type, f"{p.floor_nodes} ({p.min_size}..{p.max_size})",
                     _usd(p.hourly_floor), _usd(p.hourly_max), "; ".join(note)))
    for f in summary.fixed:
        rows.append((f.item, f.quantity, "", _usd(f.usd_hour), _usd(f.usd_hour), f.source))
    rows.append(("total $/h", "", "", _usd(summary.floor_hourly), _usd(summary.max_hourly), ""))
    monthly = (_usd(summary.floor_hourly * HOURS_PER_MONTH), _usd(summary.max_hourly * HOURS_PER_MONTH))
    rows.append((f"total $/month ({HOURS_PER_MONTH} h)", "", "", *monthly, ""))
    header = ("item", "type / quantity", "floor nodes (min..max)", "$/h at floor", "$/h at max", "notes")
    return ("Steady-state cost (on-demand list prices, us-east-1; floor = pool minimums and the nodes "
            "workloads' minimum replicas hold):\n"
            + _table(header, rows, (False, False, True, True, True, False)))


def format_capacity(summary: Summary) -> str:
    if not summary.capacity:
        return ""
    teams = sorted({t for c in summary.capacity for t in c.quotas})
    header = ("pool", "GPUs/node", "sharing", "units/node", "nodes", "units at max",
              *(f"quota {t}" for t in teams))
    rows = [(c.pool, c.gpus, c.sharing, str(c.units_per_node), f"{c.min_nodes}..{c.max_nodes}",
             str(c.units_at_max), *(str(c.quotas.get(t, "-")) for t in teams)) for c in summary.capacity]
    text = ("\nGPU capacity per pool (units: nvidia.com/gpu a node advertises) against team quotas:\n"
            + _table(header, rows, (False, False, False, True, True, True, *(True for _ in teams))))
    if summary.team_quotas:
        text += "  team GPU quotas (all pools): " + ", ".join(
            f"{t} {q}" for t, q in sorted(summary.team_quotas.items())) + "\n"
    return text


def _section(title: str, lines: Sequence[str]) -> str:
    if not lines:
        return ""
    return f"\n{title}\n" + "".join(f"  {line}\n" for line in lines)


def format_summary(summary: Summary) -> str:
    setup = [f"{n.pool}: label " + " ".join(f"{k}={v}" for k, v in n.labels.items())
             + ("; taint " + " ".join(n.taints) if n.taints else "") for n in summary.node_setup]
    return (
        format_cost(summary)
        + format_capacity(summary)
        + _section("Prerequisites (referenced, not created by the plan):", summary.prerequisites)
        + _section("Node setup by hand (existing cluster: kubectl label/taint each pool's nodes):", setup)
        + _section(f"Pins ({len(summary.pins)}; `gpu-platform versions` for sources):", summary.pins)
        + _section("Placeholders in the stack file (replace before `pulumi up`):",
                   [f"WARNING {p}" for p in summary.placeholders])
    )


__all__ = ["format_capacity", "format_cost", "format_summary"]

r"""Compare coalitions side by side: N coalitions x M scenarios in one sweep.

Each cell is the scenario solved with its coalition replaced. Within each scenario the
coalitions are ranked by the LP's own exposure measure, in share-years of each
coalition's own demand (so coalitions of different size compare fairly),

.. math:: E = \sum_{m,t} w_m\,(exposed_{m,t} + \pi\, unmet_{m,t}), \quad w_m = |T| / \sum_t D_{m,t},

lower first; ties (within 1e-6) go to the cheaper plan. A cell without an allocation
(error) ranks last.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from optimizer.analysis.common import (
    base_dataset,
    check_resolves,
    checked,
    coalition_label,
    engine_for,
    for_coalition,
    mean_share_by_year,
    meta,
    resolve_members,
    scenario_payload,
)
from optimizer.analysis.schemas import CompareCell, CompareRequest, CompareResult
from optimizer.analysis.sweep import ItemResult, Progress, ShouldCancel, SweepItem

logger = logging.getLogger(__name__)

TIE = 1e-6


def _labels(names: list[str]) -> list[str]:
    seen: dict[str, int] = defaultdict(int)
    labels = []
    for name in names:
        seen[name] += 1
        labels.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return labels


def _cell(coalition: str, members: list[str], scenario: str, item: ItemResult) -> CompareCell:
    cell = CompareCell(
        coalition=coalition, members=members, scenario=scenario, status=item.status, message=item.message
    )
    d = item.digest
    if d is None or not d.has_allocation:
        return cell
    shares = mean_share_by_year(d)
    cell.exposure_share_years = d.exposure_share_years
    cell.mean_exposed_share = sum(e for e, _ in shares.values()) / len(shares) if shares else None
    cell.final_exposed_share = shares[max(shares)][0] if shares else None
    cell.exposed_t, cell.unmet_t = d.exposed_t, d.unmet_t
    cell.cost_usd, cell.capex_usd = d.cost_usd, d.capex_usd
    cell.exposed_share_by_year = [
        {"year": r.year, "material": r.material, "exposed_share": r.exposed_share, "unmet_share": r.unmet_share}
        for r in d.exposure_by_year
    ]
    by_stage: dict[str, float] = defaultdict(float)
    by_host: dict[tuple[str, str], list[float]] = {}
    for b in d.builds:
        by_stage[b.stage] += b.capacity_t_per_yr
        acc = by_host.setdefault((b.country, b.stage), [0.0, 0.0])
        acc[0] += b.capacity_t_per_yr
        acc[1] += b.capex_usd
    cell.capacity_by_stage = dict(by_stage)
    cell.builds_by_host = [
        {"country": c, "stage": s, "capacity_t_per_yr": v[0], "capex_usd": v[1]}
        for (c, s), v in sorted(by_host.items(), key=lambda kv: -kv[1][1])
    ]
    cell.paid_by = dict(d.payers)
    return cell


def _rank(cells: list[CompareCell]) -> list[CompareCell]:
    def key(c: CompareCell) -> tuple[int, float, float]:
        if c.exposure_share_years is None:
            return (1, 0.0, 0.0)
        return (0, round(c.exposure_share_years / TIE), c.cost_usd or 0.0)

    ordered = sorted(cells, key=key)
    for position, cell in enumerate(ordered, start=1):
        cell.rank = position if cell.exposure_share_years is not None else None
    return ordered


def compare(
    request: CompareRequest | None = None,
    progress: Progress | None = None,
    should_cancel: ShouldCancel | None = None,
    allow_paths: bool = True,
    **kwargs: Any,
) -> CompareResult:
    """Solve every coalition on every scenario and rank them within each scenario.

    Pass a `CompareRequest` or its fields as keyword arguments, e.g.
    ``compare(coalitions=["five_eyes", "quad"])``.
    """
    request = request or CompareRequest(**kwargs)
    scenarios = request.scenarios or [request.scenario]
    scenario_names = _labels([s.name for s in scenarios])
    coalition_names = _labels([coalition_label(c) for c in request.coalitions])
    items: list[SweepItem] = []
    cells_meta: list[tuple[str, list[str], str]] = []
    for j, (scenario, s_name) in enumerate(zip(scenarios, scenario_names, strict=True)):
        prefix = f"scenarios.{j}" if request.scenarios else "scenario"
        dataset = base_dataset(scenario, allow_paths)
        for i, (spec, c_name) in enumerate(zip(request.coalitions, coalition_names, strict=True)):
            members = resolve_members(spec, scenario, dataset, f"coalitions.{i}")
            variant = check_resolves(for_coalition(scenario, members, spec), allow_paths, prefix)
            items.append(
                SweepItem(key=f"{c_name}|{s_name}", scenario=scenario_payload(variant), allow_paths=allow_paths)
            )
            cells_meta.append((c_name, members, s_name))
    with engine_for(request) as engine:
        sweep = checked(engine.run(items, progress=progress, should_cancel=should_cancel))
    cells = [_cell(c, m, s, item) for (c, m, s), item in zip(cells_meta, sweep.items, strict=True)]
    ranking = {}
    for s_name in scenario_names:
        ranked = _rank([c for c in cells if c.scenario == s_name])
        ranking[s_name] = [c.coalition for c in ranked]
    return CompareResult(
        coalitions=coalition_names,
        scenarios=scenario_names,
        cells=cells,
        ranking=ranking,
        meta=meta(request, [sweep]),
    )

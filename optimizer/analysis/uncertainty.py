r"""Monte Carlo over the dataset's low-high ranges, and a one-at-a-time tornado.

Ranged values. Every dataset table whose value column is declared ``range_of`` in
optimizer/data/schema.yaml carries ``low`` and ``high`` (``ore_share_low``/``_high`` for
materials); demand also has ``growth_low``/``growth_high`` around ``growth_rate``. A row is
varied when both bounds are given and high > low. Rows are grouped by table (parameter
groups: capacity, projects, capex, opex, lead_times, build_limits, demand, demand_growth,
yields, third_party, ore_share, parameters). The parameters group varies only
mine_life_years and default_third_party_share: the unmet-demand penalty is part of the
exposure measure itself, not an uncertain fact.

Draws. A numpy ``Generator`` seeded with ``seed`` draws a matrix U of uniform quantiles,
one row per draw and one column per group (``correlation: group``: all rows of a group move
together, comonotone) or per row (``independent``). A quantile u becomes a value by the
inverse CDF of the row's distribution:

* uniform: :math:`x = l + u (h - l)`
* triangular with mode v (the row's value): with :math:`c = (v - l)/(h - l)`,
  :math:`x = l + \sqrt{u (h - l)(v - l)}` if :math:`u < c`, else
  :math:`x = h - \sqrt{(1 - u)(h - l)(h - v)}`.

Integer columns (lead times) are rounded to the nearest year. Each draw is the base
scenario plus overrides setting the drawn values; same seed, same draws, same answers.

Outputs: percentiles (5, 25, 50, 75, 95) of exposure (share-years), exposed and unmet
tonnes and cost over the draws that solved, and per year of the mean exposed share. The
tornado runs each group at all-low and at all-high with everything else at its value; bars
are sorted by the exposure swing :math:`|E_{high} - E_{low}|`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizer.analysis.common import (
    base_dataset,
    check_resolves,
    checked,
    engine_for,
    for_coalition,
    mean_share_by_year,
    meta,
    metric,
    resolve_members,
    scenario_payload,
)
from optimizer.analysis.overrides import check_count, row_overrides
from optimizer.analysis.schemas import (
    DrawRecord,
    Percentiles,
    TornadoBar,
    UncertaintyRequest,
    UncertaintyResult,
)
from optimizer.analysis.sweep import Digest, ItemResult, Progress, ShouldCancel, SweepItem
from optimizer.data.dictionary import load_dictionary
from optimizer.data.loader import Dataset
from optimizer.errors import InputIssue, ScenarioError
from optimizer.schemas import Scenario

logger = logging.getLogger(__name__)

GROUP_NAMES = {"materials": "ore_share"}
EXTRA_RANGES = (("demand", "growth_rate", "growth_low", "growth_high", "demand_growth"),)
VARIED_PARAMETERS = {"mine_life_years", "default_third_party_share"}
PERCENTILES = (5, 25, 50, 75, 95)


@dataclass(frozen=True)
class RangedValue:
    """One cell that has a low-high range."""

    group: str
    table: str
    index: Any
    column: str
    value: float
    low: float
    high: float
    integer: bool


def ranged_values(dataset: Dataset) -> list[RangedValue]:
    """Every cell of the dataset with a usable low-high range, in table and row order."""
    found: list[RangedValue] = []
    specs = load_dictionary()
    ranges: list[tuple[str, str, str, str, str]] = []
    for name, spec in specs.items():
        if spec.value_column is not None and spec.low_high is not None:
            low, high = spec.low_high
            ranges.append((name, spec.value_column, low, high, GROUP_NAMES.get(name, name)))
    ranges += list(EXTRA_RANGES)
    for table, column, low_col, high_col, group in ranges:
        frame = dataset[table]
        integer = specs[table].columns[column].type == "int"
        for index, row in frame.iterrows():
            if table == "parameters" and row["name"] not in VARIED_PARAMETERS:
                continue
            low, high, value = row[low_col], row[high_col], row[column]
            if any(x is None or (isinstance(x, float) and np.isnan(x)) for x in (low, high, value)):
                continue
            if float(high) <= float(low):
                continue
            found.append(RangedValue(group, table, index, column, float(value), float(low), float(high), integer))
    return found


def inverse_cdf(u: np.ndarray | float, low: float, mode: float, high: float, distribution: str) -> np.ndarray:
    """Value at quantile u of uniform(low, high) or triangular(low, mode, high)."""
    u = np.asarray(u, dtype=float)
    width = high - low
    if distribution == "uniform":
        return low + u * width
    mode = min(max(mode, low), high)
    c = (mode - low) / width
    left = low + np.sqrt(u * width * (mode - low))
    right = high - np.sqrt((1 - u) * width * (high - mode))
    return np.where(u < c, left, right)


def _as_cell(r: RangedValue, x: float) -> float | int:
    x = min(max(float(x), r.low), r.high)
    return round(x) if r.integer else x


def _overrides(dataset: Dataset, chosen: dict[RangedValue, float | int]) -> list[dict[str, Any]]:
    by_table: dict[str, dict[Any, dict[str, Any]]] = {}
    for r, x in chosen.items():
        by_table.setdefault(r.table, {}).setdefault(r.index, {})[r.column] = x
    out: list[dict[str, Any]] = []
    for table in sorted(by_table):
        out += row_overrides(dataset, table, by_table[table])
    return out


def _with(base: Scenario, extra: list[dict[str, Any]]) -> dict[str, Any]:
    payload = scenario_payload(base)
    payload["overrides"] = [*payload["overrides"], *extra]
    return payload


def _percentiles(values: list[float]) -> Percentiles | None:
    if not values:
        return None
    a = np.asarray(values, dtype=float)
    p = np.percentile(a, PERCENTILES)
    return Percentiles(
        mean=float(a.mean()),
        std=float(a.std(ddof=1)) if len(a) > 1 else 0.0,
        min=float(a.min()),
        p5=float(p[0]),
        p25=float(p[1]),
        p50=float(p[2]),
        p75=float(p[3]),
        p95=float(p[4]),
        max=float(a.max()),
    )


def _record(draw: int, item: ItemResult, quantiles: dict[str, float]) -> DrawRecord:
    d = item.digest
    return DrawRecord(
        draw=draw,
        status=item.status,
        exposure_share_years=metric(d, "exposure_share_years"),
        exposed_t=metric(d, "exposed_t"),
        unmet_t=metric(d, "unmet_t"),
        cost_usd=metric(d, "cost_usd"),
        quantiles=quantiles,
    )


def _select_groups(request: UncertaintyRequest, rows: list[RangedValue]) -> list[str]:
    available = sorted({r.group for r in rows})
    if not available:
        raise ScenarioError(
            "the dataset has no low-high ranges to sample (no row has both low and high with"
            " high > low); fill low/high in the dataset or pass ranged overrides",
            location="scenario.dataset",
        )
    if request.parameters is None:
        return available
    issues = [
        InputIssue(f"parameters.{i}", f"no ranged values in group '{g}'; groups with ranges: {available}")
        for i, g in enumerate(request.parameters)
        if g not in available
    ]
    if issues:
        raise ScenarioError(issues)
    if not request.parameters:
        raise ScenarioError(f"no parameter group chosen; groups with ranges: {available}", location="parameters")
    return sorted(set(request.parameters))


def uncertainty(
    request: UncertaintyRequest | None = None,
    progress: Progress | None = None,
    should_cancel: ShouldCancel | None = None,
    allow_paths: bool = True,
    **kwargs: Any,
) -> UncertaintyResult:
    """Monte Carlo distribution of exposure and cost, and the tornado of parameter groups.

    Pass an `UncertaintyRequest` or its fields as keyword arguments, e.g.
    ``uncertainty(draws=500, seed=7)``.
    """
    request = request or UncertaintyRequest(**kwargs)
    dataset = base_dataset(request.scenario, allow_paths)
    members = resolve_members(request.coalition, request.scenario, dataset, "coalition")
    base = check_resolves(
        for_coalition(request.scenario, members, request.coalition or request.scenario.coalition), allow_paths
    )
    rows = ranged_values(dataset)
    groups = _select_groups(request, rows)
    rows = [r for r in rows if r.group in groups]
    counts = {g: sum(1 for r in rows if r.group == g) for g in groups}

    rng = np.random.default_rng(request.seed)
    by_group = request.correlation == "group"
    quantiles = rng.random((request.draws, len(groups) if by_group else len(rows)))
    column = {g: k for k, g in enumerate(groups)}

    items: list[SweepItem] = [SweepItem(key="base", scenario=scenario_payload(base), allow_paths=allow_paths)]
    existing = len(base.overrides)
    if request.tornado:
        for g in groups:
            for side in ("low", "high"):
                chosen = {r: _as_cell(r, getattr(r, side)) for r in rows if r.group == g}
                extra = _overrides(dataset, chosen)
                check_count(existing, extra, "parameters")
                items.append(SweepItem(key=f"{side}:{g}", scenario=_with(base, extra), allow_paths=allow_paths))
    draw_quantiles: list[dict[str, float]] = []
    for d in range(request.draws):
        chosen = {}
        for k, r in enumerate(rows):
            u = quantiles[d, column[r.group]] if by_group else quantiles[d, k]
            chosen[r] = _as_cell(r, float(inverse_cdf(u, r.low, r.value, r.high, request.distribution)))
        extra = _overrides(dataset, chosen)
        check_count(existing, extra, "parameters")
        items.append(SweepItem(key=f"draw:{d}", scenario=_with(base, extra), allow_paths=allow_paths))
        draw_quantiles.append({g: float(quantiles[d, column[g]]) for g in groups} if by_group else {})
    with engine_for(request) as engine:
        sweep = checked(engine.run(items, progress=progress, should_cancel=should_cancel))
    results = sweep.by_key()
    samples = [_record(d, results[f"draw:{d}"], draw_quantiles[d]) for d in range(request.draws)]
    ok = [s for s in samples if s.status == "ok"]

    def values(name: str) -> list[float]:
        return [v for s in ok if (v := getattr(s, name)) is not None]

    yearly: dict[int, list[float]] = {}
    for d in range(request.draws):
        item = results[f"draw:{d}"]
        if item.status == "ok" and item.digest is not None:
            for year, (share, _unmet) in mean_share_by_year(item.digest).items():
                yearly.setdefault(year, []).append(share)
    by_year = [
        {"year": year, **{f"p{q}": float(np.percentile(v, q)) for q in (5, 50, 95)}}
        for year, v in sorted(yearly.items())
    ]
    tornado = _tornado(groups, counts, results) if request.tornado else []
    return UncertaintyResult(
        coalition=members,
        seed=request.seed,
        distribution=request.distribution,
        correlation=request.correlation,
        groups=counts,
        base=_record(-1, results["base"], {}),
        draws_ok=len(ok),
        draws_failed=request.draws - len(ok),
        exposure_share_years=_percentiles(values("exposure_share_years")),
        exposed_t=_percentiles(values("exposed_t")),
        unmet_t=_percentiles(values("unmet_t")),
        cost_usd=_percentiles(values("cost_usd")),
        exposed_share_by_year=by_year,
        tornado=tornado,
        samples=samples,
        meta=meta(request, [sweep]),
    )


def _tornado(groups: list[str], counts: dict[str, int], results: dict[str, ItemResult]) -> list[TornadoBar]:
    def get(key: str, name: str) -> float | None:
        d: Digest | None = results[key].digest
        return metric(d, name) if results[key].status in ("ok", "infeasible") else None

    def swing(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else abs(b - a)

    bars = []
    for g in groups:
        e_low, e_high = get(f"low:{g}", "exposure_share_years"), get(f"high:{g}", "exposure_share_years")
        c_low, c_high = get(f"low:{g}", "cost_usd"), get(f"high:{g}", "cost_usd")
        bars.append(
            TornadoBar(
                group=g,
                rows=counts[g],
                exposure_low=e_low,
                exposure_high=e_high,
                exposure_swing=swing(e_low, e_high),
                cost_low_usd=c_low,
                cost_high_usd=c_high,
                cost_swing_usd=swing(c_low, c_high),
            )
        )
    bars.sort(key=lambda b: (-(b.exposure_swing or 0.0), -(b.cost_swing_usd or 0.0), b.group))
    return bars

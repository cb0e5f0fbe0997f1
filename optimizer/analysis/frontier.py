r"""The cost-vs-exposure Pareto frontier by the epsilon-constraint method.

The capital budget is the constraint swept; each point is the lexicographic optimum at
that budget,

.. math:: E(B) = \min_x \{\, E(x) : capex(x) \le B \,\}, \quad
          B_k = B_{min} + \tfrac{k}{K-1}(B_{max} - B_{min}), \; k = 0..K-1,

then the cheapest plan at that exposure (HiGHS feasibility tolerances tightened to 1e-9 unless
the scenario sets them: the budget row is in USD). :math:`E(B)` never rises with :math:`B`, and
:math:`B_{max}` defaults to the capital the unlimited-budget plan spends (its exposure is
the frontier's floor, reached at the last point). The model is built once per worker and
re-solved warm for each budget (the budget is a mutable parameter of the LP).

The knee is the point farthest from the chord between the first and the last point, with
both axes scaled to [0, 1]:

.. math:: k^* = \arg\max_k \frac{|(x_k - x_0)(y_K - y_0) - (y_k - y_0)(x_K - x_0)|}
                {\sqrt{(x_K - x_0)^2 + (y_K - y_0)^2}}
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from optimizer.analysis.common import (
    base_dataset,
    check_resolves,
    checked,
    chunks,
    engine_for,
    for_coalition,
    meta,
    offset_progress,
    resolve_members,
    scenario_payload,
    with_changes,
)
from optimizer.analysis.schemas import FrontierPoint, FrontierRequest, FrontierResult
from optimizer.analysis.sweep import Digest, ItemResult, Progress, ShouldCancel, SweepItem, status_of
from optimizer.errors import ScenarioError

logger = logging.getLogger(__name__)

EXPOSURE_TOL = 1e-6  # share-years: smaller differences are solver tolerance
# The budget row is in USD (coefficients ~1e6, right-hand side ~1e10): with HiGHS's default
# 1e-7 feasibility tolerances the exposure at a binding budget comes back up to ~1e-5
# (relative) above its optimum, enough to break monotonicity between close budgets.
TIGHT = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}
TOP_MARGIN = 1e-9  # relative: the top budget is a hair above what the unlimited plan spends


def _point(d: Digest | None, status: Any, message: str, budget: float | None) -> FrontierPoint:
    point = FrontierPoint(budget_usd=budget, status=status, message=message)
    if d is not None and d.has_allocation:
        point.exposure_share_years = d.exposure_share_years
        point.exposed_t, point.unmet_t = d.exposed_t, d.unmet_t
        point.capex_usd, point.cost_usd = d.capex_usd, d.cost_usd
    return point


def _from_digest(d: Digest) -> FrontierPoint:
    status, message = status_of(d)
    return _point(d, status, message, d.budget_usd)


def knee_index(xs: list[float], ys: list[float]) -> int | None:
    """Index of the point farthest from the first-last chord (axes scaled to [0, 1])."""
    if len(xs) < 3:
        return None
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    span_x, span_y = x.max() - x.min(), y.max() - y.min()
    if span_x <= 0 or span_y <= EXPOSURE_TOL:
        return None
    x, y = (x - x.min()) / span_x, (y - y.min()) / span_y
    dx, dy = x[-1] - x[0], y[-1] - y[0]
    chord = math.hypot(dx, dy)
    if chord == 0:
        return None
    distance = np.abs((x - x[0]) * dy - (y - y[0]) * dx) / chord
    best = int(np.argmax(distance))
    return best if distance[best] > 1e-9 else None


def _annotate(points: list[FrontierPoint]) -> int | None:
    solved = [i for i, p in enumerate(points) if p.exposure_share_years is not None]
    best: float | None = None
    previous: FrontierPoint | None = None
    for i in solved:
        p = points[i]
        exposure = p.exposure_share_years
        assert exposure is not None
        if best is not None and exposure >= best - EXPOSURE_TOL:
            p.dominated = True
        best = exposure if best is None else min(best, exposure)
        if previous is not None and p.budget_usd is not None and previous.budget_usd is not None:
            step = (p.budget_usd - previous.budget_usd) / 1e9
            if step > 0 and previous.exposure_share_years is not None:
                p.exposure_reduction_per_busd = (previous.exposure_share_years - exposure) / step
        previous = p
    xs = [points[i].budget_usd or 0.0 for i in solved]
    ys = [points[i].exposure_share_years or 0.0 for i in solved]
    k = knee_index(xs, ys)
    if k is None:
        return None
    points[solved[k]].knee = True
    return solved[k]


def frontier(
    request: FrontierRequest | None = None,
    progress: Progress | None = None,
    should_cancel: ShouldCancel | None = None,
    allow_paths: bool = True,
    **kwargs: Any,
) -> FrontierResult:
    """Sweep the capital budget and return exposure against budget, with the knee marked.

    Pass a `FrontierRequest` or its fields as keyword arguments, e.g. ``frontier(points=11)``.
    """
    request = request or FrontierRequest(**kwargs)
    dataset = base_dataset(request.scenario, allow_paths)
    members = resolve_members(request.coalition, request.scenario, dataset, "coalition")
    scenario = check_resolves(
        for_coalition(request.scenario, members, request.coalition or request.scenario.coalition), allow_paths
    )
    options = scenario.options.model_dump(mode="json")
    options["solver_options"] = {**TIGHT, **options["solver_options"]}
    scenario = with_changes(scenario, options=options)
    total = 1 + request.points
    sweeps = []
    with engine_for(request) as engine:
        unlimited_item = SweepItem(
            key="unlimited",
            scenario=scenario_payload(with_changes(scenario, budget_usd=None)),
            allow_paths=allow_paths,
        )
        first = checked(
            engine.run([unlimited_item], progress=offset_progress(progress, 0, total), should_cancel=should_cancel)
        )
        sweeps.append(first)
        top_item: ItemResult = first.items[0]
        unlimited = _point(top_item.digest, top_item.status, top_item.message, None)
        if request.budget_max_usd is not None:
            top = request.budget_max_usd
        elif unlimited.capex_usd is None:
            raise ScenarioError(
                f"the unlimited-budget plan has no allocation ({top_item.message});"
                " give budget_max_usd to sweep anyway",
                location="budget_max_usd",
            )
        else:
            top = max(unlimited.capex_usd * (1 + TOP_MARGIN), request.budget_min_usd)
        budgets = [float(b) for b in np.linspace(request.budget_min_usd, top, request.points)]
        items = [
            SweepItem(key=f"budgets-{i}", scenario=scenario_payload(scenario), budgets=chunk, allow_paths=allow_paths)
            for i, chunk in enumerate(chunks(budgets, request.workers))
        ]

        def chunk_progress(done: int, chunks: int) -> None:
            if progress is not None:
                progress(1 + round(done * request.points / max(chunks, 1)), total)

        second = checked(engine.run(items, progress=chunk_progress, should_cancel=should_cancel))
        sweeps.append(second)
    points: list[FrontierPoint] = []
    for item, work in zip(second.items, items, strict=True):
        if item.points:
            points += [_from_digest(d) for d in item.points]
        else:  # the whole chunk failed (e.g. the model could not be built)
            points += [_point(None, item.status, item.message, b) for b in work.budgets or []]
    knee = _annotate(points)
    return FrontierResult(
        coalition=members, points=points, unlimited=unlimited, knee_index=knee, meta=meta(request, sweeps)
    )

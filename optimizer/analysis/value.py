r"""What each member brings: leave-one-out contributions and Shapley values of two games.

The coalition games. The grand coalition N keeps its whole demand in every sub-game; a
sub-coalition S ⊆ N differs only in whose *assets* the coalition can use. A member
outside S keeps its demand but loses, for this game, its existing plants, announced
projects, reserves, stockpile and build sites, and (when the scenario sets per-member
budgets) its money (its budget is 0). Two values of S are offered (``game``):

* ``exposure`` (default): with E(S) the exposure the LP minimises (share-years of N's
  demand, unmet demand at its penalty), the value of S is the exposure it avoids:

  .. math:: v(S) = E(\emptyset) - E(S), \qquad v(\emptyset) = 0.

* ``cost``: the cost S's assets save while the coalition is held to the exposure it reaches
  with no member's assets, E_0 = E(∅) (reachable by every S, since adding assets only
  enlarges the feasible set). With the scenario's exposure tolerance τ and ε = 1e-9,

  .. math:: C(S) = \min\{K + \Sigma : E \le \bar E\}, \quad \bar E = E_0 (1 + \tau) + \varepsilon,
            \qquad v(S) = C(\emptyset) - C(S) \text{ (USD)},

  K the LP's cost (capex + opex + trade + stock holding, the objective of the lexicographic
  mode's second phase) and Σ its slack penalty (0 here: no targets, hard budgets). Unmet
  demand is priced as in the model, inside E at its penalty (K has no term for it): the cap
  bounds it, and an S whose assets bring exposure below E_0 may spend that room on cheaper,
  more exposed or unmet supply. E(∅) is one exposure-only solve, E(N) another (reported, not
  used), then every C(S) one cost solve under the cap (`optimizer.analysis.capped`).

In the LP a member outside S has its production, build, stockpile purchase and release and
financing variables fixed at zero: the same feasible set as deleting its plants, projects,
reserves, stockpile, build sites and budget from the data (tested against exactly that, in
both games), at the price of one model per chunk of at most 16 subsets, re-solved warm. Its
frozen stockpile still pays holding cost in the LP, a constant the data form does not pay:
the cost game subtracts it from C(S) (`idle_holding_usd`). Timeline targets
are dropped in the games (a missed target would move slack, not exposure or cost).
Since adding a member's assets only enlarges the feasible set, E(S) and C(S) fall as S grows:
both games are monotone and every Shapley value is non-negative (up to solver tolerance).

Shapley value (exact, 2^n solves, n <= 12):

.. math:: \phi_i = \sum_{S \subseteq N \setminus \{i\}}
          \frac{|S|!\,(n-|S|-1)!}{n!}\,\big(v(S \cup \{i\}) - v(S)\big),
          \qquad \sum_i \phi_i = v(N).

Sampled (Castro et al. 2009): P random member orders π; φ_i is the mean of i's marginal
contribution v(Pre_π(i) ∪ {i}) - v(Pre_π(i)); each order's contributions add up to v(N),
so the estimates do too; the interval is φ_i ± z s_i / sqrt(P).

Leave-one-out: v(N) - v(N \ {i}). Suggested burden (either game): member i pays the share
max(φ_i, 0) / Σ_j max(φ_j, 0) of the grand coalition's capital (and total) cost, taken from
the plan of the scenario as given (lexicographic, targets kept). E(S) itself is found by one
exposure-only solve per subset (weighted mode with cost weight 0), which is exact.
"""

from __future__ import annotations

import logging
import math
from statistics import NormalDist
from typing import Any, Literal

import numpy as np

from optimizer.analysis.common import (
    base_dataset,
    check_resolves,
    checked,
    chunks,
    engine_for,
    for_coalition,
    meta,
    metric,
    offset_progress,
    resolve_members,
    scenario_payload,
    with_changes,
)
from optimizer.analysis.schemas import (
    MAX_EXACT_MEMBERS,
    MAX_SAMPLED_MEMBERS,
    MemberValue,
    ValueRequest,
    ValueResult,
)
from optimizer.analysis.sweep import Digest, ItemResult, Progress, ShouldCancel, SweepEngine, SweepItem, SweepResult
from optimizer.data.loader import Dataset
from optimizer.errors import ScenarioError
from optimizer.schemas import Scenario
from optimizer.solve import ABSOLUTE_EXPOSURE_TOLERANCE

logger = logging.getLogger(__name__)

ASSETS = (
    " when the coalition may use the assets (plants, projects, reserves, stockpiles, build sites,"
    " member budgets) of the members in S only; demand is always the whole coalition's."
)
DEFINITIONS: dict[str, str] = {
    "exposure": (
        "v(S) = E(empty) - E(S): exposure (share-years of the whole coalition's demand, unmet"
        " demand at its penalty) avoided" + ASSETS
    ),
    "cost": (
        "v(S) = C(empty) - C(S): cost (USD: capex, opex, trade, stock holding) saved, C(S) being the"
        " least cost with exposure (unmet demand at its penalty) at most E(empty), the least exposure"
        " reachable with no member's assets," + ASSETS
    ),
}
UNITS: dict[str, Literal["share-years", "USD"]] = {"exposure": "share-years", "cost": "USD"}
DEFINITION = DEFINITIONS["exposure"]

Mask = int


def shapley_exact(n: int, value: dict[Mask, float]) -> list[float]:
    r"""Exact Shapley values from v on every subset (bit i of a mask = member i).

    .. math:: \phi_i = \sum_{S \not\ni i} \frac{|S|!(n-|S|-1)!}{n!}(v(S+i) - v(S))
    """
    weights = [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)]
    phi = []
    for i in range(n):
        bit = 1 << i
        terms = [
            weights[mask.bit_count()] * (value[mask | bit] - value[mask]) for mask in range(1 << n) if not mask & bit
        ]
        phi.append(math.fsum(terms))
    return phi


def sample_orders(n: int, permutations: int, seed: int) -> list[list[int]]:
    """Random member orders from a seeded numpy Generator (reproducible)."""
    rng = np.random.default_rng(seed)
    return [[int(i) for i in rng.permutation(n)] for _ in range(permutations)]


def marginals(orders: list[list[int]], value: dict[Mask, float]) -> np.ndarray:
    """Marginal contribution of each member (column) in each order (row)."""
    out = np.zeros((len(orders), len(orders[0]) if orders else 0))
    for p, order in enumerate(orders):
        mask = 0
        for i in order:
            out[p, i] = value[mask | (1 << i)] - value[mask]
            mask |= 1 << i
    return out


def _needed_masks(n: int, method: str, orders: list[list[int]]) -> list[Mask]:
    full = (1 << n) - 1
    if method == "exact":
        return list(range(1 << n))
    needed = {0, full}
    for i in range(n):
        needed.add(1 << i)
        needed.add(full & ~(1 << i))
    for order in orders:
        mask = 0
        for i in order:
            mask |= 1 << i
            needed.add(mask)
    return sorted(needed)


def _subset_names(members: list[str], mask: Mask) -> list[str]:
    return [m for i, m in enumerate(members) if mask & (1 << i)]


def _outside(members: list[str], mask: Mask) -> list[str]:
    return [m for i, m in enumerate(members) if not mask & (1 << i)]


def idle_holding_usd(dataset: Dataset, scenario: Scenario, members: list[str]) -> dict[str, float]:
    """Holding cost (USD) of each member's stockpile left at its initial level over the horizon.

    With its purchases and releases fixed at zero, the stockpile of a member outside S stays
    in the LP at its initial level and still pays its holding cost; the data form (the
    stockpile deleted) pays nothing. The cost game subtracts this constant from C(S).
    """
    years = scenario.end_year - scenario.start_year + 1
    idle = dict.fromkeys(members, 0.0)
    for row in dataset["stockpiles"].itertuples():
        if row.country in idle and row.capacity_t > 0:
            idle[row.country] += float(row.holding_usd_per_t_yr) * float(row.initial_stock_t) * years
    return idle


def _collect(
    members: list[str], groups: list[list[Mask]], items: list[ItemResult], needs_cost: bool
) -> dict[Mask, Digest]:
    """Each subset's digest; ScenarioError naming the subsets that gave no usable number."""
    solved: dict[Mask, Digest] = {}
    failed = []
    for group, item in zip(groups, items, strict=True):
        digests: list[Digest | None] = list(item.points) or [None] * len(group)
        for mask, d in zip(group, digests, strict=True):
            if d is None or d.exposure_share_years is None or (needs_cost and d.cost_usd is None):
                names = _subset_names(members, mask) or ["(no member)"]
                why = d.message if d is not None else item.message
                failed.append(f"{{{', '.join(names)}}}: {why or item.status}")
            else:
                solved[mask] = d
    if failed:
        total = sum(len(g) for g in groups)
        raise ScenarioError(
            f"{len(failed)} of {total} sub-coalition solves gave no allocation, so the game is"
            f" undefined: {'; '.join(failed[:5])}",
            location="scenario",
        )
    return solved


def _subset_items(
    key: str,
    base: Scenario,
    members: list[str],
    groups: list[list[Mask]],
    allow_paths: bool,
    exposure_cap: float | None = None,
) -> list[SweepItem]:
    return [
        SweepItem(
            key=f"{key}-{k}",
            scenario=scenario_payload(base),
            without=[_outside(members, mask) for mask in group],
            exposure_cap=exposure_cap,
            allow_paths=allow_paths,
        )
        for k, group in enumerate(groups)
    ]


def _exposure_game(
    engine: SweepEngine,
    plan_item: SweepItem,
    base: Scenario,
    members: list[str],
    groups: list[list[Mask]],
    allow_paths: bool,
    progress: Progress | None,
    should_cancel: ShouldCancel | None,
) -> tuple[dict[Mask, Digest], Digest | None, list[SweepResult]]:
    """E(S) of every subset needed, in one sweep with the grand coalition's plan."""
    items = [plan_item, *_subset_items("subsets", base, members, groups, allow_paths)]
    sweep = checked(engine.run(items, progress=progress, should_cancel=should_cancel))
    solved = _collect(members, groups, sweep.items[1:], needs_cost=False)
    return solved, sweep.items[0].digest, [sweep]


def _cost_game(
    engine: SweepEngine,
    plan_item: SweepItem,
    base: Scenario,
    members: list[str],
    groups: list[list[Mask]],
    allow_paths: bool,
    progress: Progress | None,
    should_cancel: ShouldCancel | None,
) -> tuple[dict[Mask, Digest], Digest | None, list[SweepResult], tuple[float, float, float]]:
    """C(S) under the cap E(∅)(1 + tol) + abs: E(∅) and E(N) first (with the plan), then the costs.

    Returns the subsets' digests, the plan's digest, the sweeps and (E(∅), E(N), cap).
    """
    total = 2 + len(groups)
    full = (1 << len(members)) - 1
    bounds_item = SweepItem(
        key="exposure-bounds",
        scenario=scenario_payload(base),
        without=[_outside(members, 0), _outside(members, full)],
        allow_paths=allow_paths,
    )
    first = checked(
        engine.run([plan_item, bounds_item], progress=offset_progress(progress, 0, total), should_cancel=should_cancel)
    )
    bounds = _collect(members, [[0, full]], first.items[1:], needs_cost=False)
    e_empty = float(bounds[0].exposure_share_years or 0.0)
    e_grand = float(bounds[full].exposure_share_years or 0.0)
    cap = e_empty * (1 + base.objective.exposure_tolerance) + ABSOLUTE_EXPOSURE_TOLERANCE
    items = _subset_items("costs", base, members, groups, allow_paths, exposure_cap=cap)
    second = checked(engine.run(items, progress=offset_progress(progress, 2, total), should_cancel=should_cancel))
    solved = _collect(members, groups, second.items, needs_cost=True)
    return solved, first.items[0].digest, [first, second], (e_empty, e_grand, cap)


def member_value(
    request: ValueRequest | None = None,
    progress: Progress | None = None,
    should_cancel: ShouldCancel | None = None,
    allow_paths: bool = True,
    **kwargs: Any,
) -> ValueResult:
    """Leave-one-out and Shapley values of each member, and a burden sharing.

    Pass a `ValueRequest` or its fields as keyword arguments, e.g.
    ``member_value(coalition="five_eyes_japan")`` (exposure avoided, share-years) or
    ``member_value(coalition="five_eyes_japan", game="cost")`` (cost saved at the exposure
    reachable without any member's assets, USD).
    """
    request = request or ValueRequest(**kwargs)
    dataset = base_dataset(request.scenario, allow_paths)
    members = resolve_members(request.coalition, request.scenario, dataset, "coalition")
    n = len(members)
    method = request.method
    if method == "auto":
        method = "exact" if n <= MAX_EXACT_MEMBERS else "sampled"
    if method == "exact" and n > MAX_EXACT_MEMBERS:
        raise ScenarioError(
            f"the coalition has {n} members; the exact method solves 2^n subsets and allows at most"
            f" {MAX_EXACT_MEMBERS} members: use method: sampled (--method sampled) for an estimate"
            " with a confidence interval",
            location="method",
        )
    if n > MAX_SAMPLED_MEMBERS:
        raise ScenarioError(
            f"the coalition has {n} members; the value analysis allows at most {MAX_SAMPLED_MEMBERS}",
            location="coalition",
        )
    grand = check_resolves(
        for_coalition(request.scenario, members, request.coalition or request.scenario.coalition), allow_paths
    )
    # E(S) needs only one exposure-only solve (weighted mode, cost weight 0): exact and four
    # times faster than exposure-then-cost. The cost game's solves replace the objective
    # themselves. The plan's cost comes from one lexicographic solve of the grand coalition
    # as the scenario asks.
    base = with_changes(
        grand,
        targets=[],
        objective={**grand.objective.model_dump(mode="json"), "mode": "weighted", "cost_weight_per_musd": 0.0},
    )
    orders = sample_orders(n, request.permutations, request.seed) if method == "sampled" else []
    masks = _needed_masks(n, method, orders)
    groups = chunks(masks, request.workers)
    plan_item = SweepItem(key="grand-plan", scenario=scenario_payload(grand), allow_paths=allow_paths)
    full = (1 << n) - 1
    cap: float | None = None
    cost: dict[Mask, float] = {}
    with engine_for(request) as engine:
        if request.game == "cost":
            solved, plan, sweeps, (e_empty, e_grand, cap) = _cost_game(
                engine, plan_item, base, members, groups, allow_paths, progress, should_cancel
            )
            idle = idle_holding_usd(dataset, grand, members)
            cost = {
                mask: float(d.cost_usd or 0.0) - math.fsum(idle[m] for m in _outside(members, mask))
                for mask, d in solved.items()
            }
            value = {mask: cost[0] - c for mask, c in cost.items()}
        else:
            solved, plan, sweeps = _exposure_game(
                engine, plan_item, base, members, groups, allow_paths, progress, should_cancel
            )
            exposure = {mask: float(d.exposure_share_years or 0.0) for mask, d in solved.items()}
            e_empty, e_grand = exposure[0], exposure[full]
            value = {mask: e_empty - e for mask, e in exposure.items()}
    value[0] = 0.0
    ci: list[tuple[float | None, float | None]] = [(None, None)] * n
    if method == "exact":
        phi = shapley_exact(n, value)
    else:
        contrib = marginals(orders, value)
        phi = [float(x) for x in contrib.mean(axis=0)]
        z = NormalDist().inv_cdf((1 + request.confidence) / 2)
        spread = contrib.std(axis=0, ddof=1) if len(orders) > 1 else np.zeros(n)
        half = z * spread / math.sqrt(len(orders))
        ci = [(phi[i] - float(half[i]), phi[i] + float(half[i])) for i in range(n)]
    grand_capex = metric(plan, "capex_usd")
    grand_cost = metric(plan, "cost_usd")
    positive = [max(p, 0.0) for p in phi]
    total_positive = sum(positive)
    shares = [p / total_positive for p in positive] if total_positive > 1e-12 else [1.0 / n] * n
    rows = [
        MemberValue(
            member=m,
            standalone=value.get(1 << i),
            leave_one_out=value[full] - value[full & ~(1 << i)] if (full & ~(1 << i)) in value else None,
            shapley=phi[i],
            ci_low=ci[i][0],
            ci_high=ci[i][1],
            share=shares[i],
            suggested_capex_usd=None if grand_capex is None else shares[i] * grand_capex,
            suggested_cost_usd=None if grand_cost is None else shares[i] * grand_cost,
        )
        for i, m in enumerate(members)
    ]
    subsets = []
    for mask in masks:
        row: dict[str, Any] = {
            "members": _subset_names(members, mask),
            "exposure_share_years": float(solved[mask].exposure_share_years or 0.0),
            "value": value[mask],
        }
        if request.game == "cost":
            row["cost_usd"] = cost[mask]
        subsets.append(row)
    return ValueResult(
        coalition=members,
        method=method,
        game=request.game,
        unit=UNITS[request.game],
        definition=DEFINITIONS[request.game],
        exposure_without_members=e_empty,
        exposure_grand=e_grand,
        exposure_cap=cap,
        cost_without_members=cost[0] if request.game == "cost" else None,
        cost_grand=cost[full] if request.game == "cost" else None,
        grand_value=value[full],
        shapley_sum=math.fsum(phi),
        grand_capex_usd=grand_capex,
        grand_cost_usd=grand_cost,
        members=rows,
        subsets_solved=len(masks),
        permutations=len(orders) if method == "sampled" else None,
        subsets=subsets,
        meta=meta(request, sweeps),
    )

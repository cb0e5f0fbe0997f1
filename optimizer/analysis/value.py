r"""What each member brings: leave-one-out contributions and Shapley values.

The coalition game. The grand coalition N keeps its whole demand in every sub-game; a
sub-coalition S ⊆ N differs only in whose *assets* the coalition can use. A member
outside S keeps its demand but loses, for this game, its existing plants, announced
projects, reserves, stockpile and build sites, and (when the scenario sets per-member
budgets) its money (its budget is 0). With E(S) the exposure the LP minimises (share-years
of N's demand, unmet demand at its penalty), the value of S is the exposure it avoids:

.. math:: v(S) = E(\emptyset) - E(S), \qquad v(\emptyset) = 0.

In the LP a member outside S has its production, build, stockpile purchase and release and
financing variables fixed at zero: the same feasible set as deleting its plants, projects,
reserves, stockpile, build sites and budget from the data (tested against exactly that), at
the price of one model per chunk of at most 16 subsets, re-solved warm. Timeline targets
are dropped in the game (a missed target would move slack, not exposure).
Since adding a member's assets only enlarges the feasible set, v is monotone and every
Shapley value is non-negative (up to solver tolerance).

Shapley value (exact, 2^n solves, n <= 12):

.. math:: \phi_i = \sum_{S \subseteq N \setminus \{i\}}
          \frac{|S|!\,(n-|S|-1)!}{n!}\,\big(v(S \cup \{i\}) - v(S)\big),
          \qquad \sum_i \phi_i = v(N).

Sampled (Castro et al. 2009): P random member orders π; φ_i is the mean of i's marginal
contribution v(Pre_π(i) ∪ {i}) - v(Pre_π(i)); each order's contributions add up to v(N),
so the estimates do too; the interval is φ_i ± z s_i / sqrt(P).

Leave-one-out: v(N) - v(N \ {i}). Suggested burden: member i pays the share
max(φ_i, 0) / Σ_j max(φ_j, 0) of the grand coalition's capital (and total) cost, taken from
the plan of the scenario as given (lexicographic, targets kept). E(S) itself is found by one
exposure-only solve per subset (weighted mode with cost weight 0), which is exact.
"""

from __future__ import annotations

import logging
import math
from statistics import NormalDist
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
    metric,
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
from optimizer.analysis.sweep import Digest, Progress, ShouldCancel, SweepItem
from optimizer.errors import ScenarioError

logger = logging.getLogger(__name__)

DEFINITION = (
    "v(S) = E(empty) - E(S): exposure (share-years of the whole coalition's demand, unmet"
    " demand at its penalty) avoided when the coalition may use the assets (plants, projects,"
    " reserves, stockpiles, build sites, member budgets) of the members in S only; demand is"
    " always the whole coalition's."
)

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


def member_value(
    request: ValueRequest | None = None,
    progress: Progress | None = None,
    should_cancel: ShouldCancel | None = None,
    allow_paths: bool = True,
    **kwargs: Any,
) -> ValueResult:
    """Leave-one-out and Shapley values of each member, and a burden sharing.

    Pass a `ValueRequest` or its fields as keyword arguments, e.g.
    ``member_value(coalition="five_eyes_japan")``.
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
    # The game needs only E(S): one exposure-only solve (weighted mode, cost weight 0) is exact
    # and four times faster than exposure-then-cost. The plan's cost comes from one
    # lexicographic solve of the grand coalition as the scenario asks.
    base = with_changes(
        grand,
        targets=[],
        objective={**grand.objective.model_dump(mode="json"), "mode": "weighted", "cost_weight_per_musd": 0.0},
    )
    orders = sample_orders(n, request.permutations, request.seed) if method == "sampled" else []
    masks = _needed_masks(n, method, orders)
    groups = chunks(masks, request.workers)
    items = [SweepItem(key="grand-plan", scenario=scenario_payload(grand), allow_paths=allow_paths)]
    items += [
        SweepItem(
            key=f"subsets-{k}",
            scenario=scenario_payload(base),
            without=[[m for i, m in enumerate(members) if not mask & (1 << i)] for mask in group],
            allow_paths=allow_paths,
        )
        for k, group in enumerate(groups)
    ]
    with engine_for(request) as engine:
        sweep = checked(engine.run(items, progress=progress, should_cancel=should_cancel))
    exposure: dict[Mask, float] = {}
    failed = []
    for group, item in zip(groups, sweep.items[1:], strict=True):
        digests: list[Digest | None] = list(item.points) or [None] * len(group)
        for mask, d in zip(group, digests, strict=True):
            if d is None or d.exposure_share_years is None:
                names = [m for i, m in enumerate(members) if mask & (1 << i)] or ["(no member)"]
                why = d.message if d is not None else item.message
                failed.append(f"{{{', '.join(names)}}}: {why or item.status}")
            else:
                exposure[mask] = float(d.exposure_share_years)
    if failed:
        raise ScenarioError(
            f"{len(failed)} of {len(masks)} sub-coalition solves gave no allocation, so the game is"
            f" undefined: {'; '.join(failed[:5])}",
            location="scenario",
        )
    full = (1 << n) - 1
    value = {mask: exposure[0] - e for mask, e in exposure.items()}
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
    plan = sweep.items[0].digest
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
    subsets = [
        {
            "members": [m for i, m in enumerate(members) if mask & (1 << i)],
            "exposure_share_years": exposure[mask],
            "value": value[mask],
        }
        for mask in masks
    ]
    return ValueResult(
        coalition=members,
        method=method,
        definition=DEFINITION,
        exposure_without_members=exposure[0],
        exposure_grand=exposure[full],
        grand_value=value[full],
        shapley_sum=math.fsum(phi),
        grand_capex_usd=grand_capex,
        grand_cost_usd=grand_cost,
        members=rows,
        subsets_solved=len(masks),
        permutations=len(orders) if method == "sampled" else None,
        subsets=subsets,
        meta=meta(request, [sweep]),
    )

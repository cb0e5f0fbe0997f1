"""Decision variables, all continuous and non-negative, on sparse index sets."""

from __future__ import annotations

import pyomo.core as pyo

from optimizer.model.index import ModelIndex
from optimizer.model.inputs import COALITION_POOL, ModelInputs

POOL_BOUND_T = 1e9  # t/yr: no flow comes near it; times 0 it closes a pool to a buyer


def declare_variables(model: pyo.ConcreteModel, inputs: ModelInputs, ix: ModelIndex) -> None:
    """Declare every variable of the LP.

    production[r,s,m,t,g]  output of stage s in r, t/yr, by provenance grade g
    local[r,s,m,t,g]       r's own stage-s output used in r (next stage, or demand)
    export[r,p,s,m,t,g]    sold into market pool p (coalition or rest)
    import_[q,s,m,t,g]     bought by q from its pool
    flow[o,d,s,m,t,g]      shipped on an explicit lane o -> d
    build[r,s,m,t]         new capacity started in year t, t/yr
    unmet[q,m,t]           coalition demand not served, t
    stock/purchase/release[q,m,t]  strategic stockpile, t
    finance[a,t]           member a's capex contribution in year t, USD
    *_slack                elastic slacks on targets and budgets
    """
    nonneg = pyo.NonNegativeReals
    model.production = pyo.Var(ix.production, within=nonneg)
    model.local = pyo.Var(ix.local, within=nonneg)
    model.export = pyo.Var(ix.exports, within=nonneg)
    model.import_ = pyo.Var(ix.imports, within=nonneg)
    model.flow = pyo.Var(ix.flows, within=nonneg)
    model.build = pyo.Var(
        inputs.builds, within=nonneg, bounds=lambda _m, r, s, m, t: build_rate_bounds(inputs, r, s, m)
    )
    model.unmet = pyo.Var(list(inputs.demand), within=nonneg)
    model.stock = pyo.Var(ix.stock, within=nonneg)
    model.purchase = pyo.Var(ix.stock, within=nonneg)
    model.release = pyo.Var(ix.stock, within=nonneg)
    payers = [(a, t) for a in inputs.coalition for t in inputs.years] if inputs.member_budgets else []
    model.finance = pyo.Var(payers, within=nonneg)
    model.target_slack = pyo.Var(sorted({(m, t) for (_k, m, t) in inputs.targets}), within=nonneg)
    model.budget_slack = pyo.Var(within=nonneg)
    model.member_budget_slack = pyo.Var(list(inputs.member_budgets), within=nonneg)
    # Budgets are hard; the diagnosis of an infeasible scenario lifts these bounds of 0.
    model.budget_slack.setub(0.0)
    for a in model.member_budget_slack:
        model.member_budget_slack[a].setub(0.0)


def declare_member_parameters(model: pyo.ConcreteModel, inputs: ModelInputs, ix: ModelIndex) -> None:
    """Parameters that depend on which members are active.

    demand_t[q,m,t] (t), weight[m] (1/t), seller_share[r] and seller_offtake[r] (fractions),
    member_budget_usd[a]. Mutable only in a member-parametric model, where switching
    members changes only these values; elsewhere they are constants in the expressions.
    """
    mutable = inputs.parametric_members
    model.demand_t = pyo.Param(list(inputs.demand), mutable=mutable, initialize=inputs.demand)
    model.weight = pyo.Param(inputs.materials, mutable=mutable, initialize=inputs.material_weight)
    active = set(inputs.members)
    model.is_member = pyo.Param(
        inputs.coalition, mutable=mutable, initialize={q: float(q in active) for q in inputs.coalition}
    )
    if mutable:
        # Switched-off members buy from the rest of the world's pool, members from the allies'.
        for q, p, s, m, t, g in ix.imports:
            if len(ix.import_pools[(q, s)]) > 1:
                open_ = model.is_member[q] if p == COALITION_POOL else 1 - model.is_member[q]
                model.import_[q, p, s, m, t, g].setub(POOL_BOUND_T * open_)
    sellers = inputs.sellers_limited
    model.seller_share = pyo.Param(sellers, mutable=mutable, initialize={r: inputs.share_caps(r)[0] for r in sellers})
    model.seller_offtake = pyo.Param(sellers, mutable=mutable, initialize={r: inputs.share_caps(r)[1] for r in sellers})


def update_member_parameters(model: pyo.ConcreteModel, inputs: ModelInputs) -> None:
    """Write the active members' values into the mutable parameters (after inputs.activate)."""
    for key, value in inputs.demand.items():
        model.demand_t[key].set_value(value)
    for m, value in inputs.material_weight.items():
        model.weight[m].set_value(value)
    for q in inputs.coalition:
        model.is_member[q].set_value(float(q in inputs.members))
    for r in inputs.sellers_limited:
        share, offtake = inputs.share_caps(r)
        model.seller_share[r].set_value(share)
        model.seller_offtake[r].set_value(offtake)


def build_rate_bounds(inputs: ModelInputs, r: str, s: str, m: str) -> tuple[float, float | None]:
    r"""Build-rate limit as a variable bound.

    .. math:: 0 \le build_{r,s,m,t} \le \overline{B}_{r,s,m}
    """
    return (0.0, inputs.max_build.get((r, s, m)))

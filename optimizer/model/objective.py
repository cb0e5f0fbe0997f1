"""Objectives: exposure first, cost second (lexicographic), or a weighted sum."""

from __future__ import annotations

import pyomo.core as pyo

from optimizer.model.constraints.balance import received
from optimizer.model.index import ModelIndex
from optimizer.model.inputs import (
    BUDGET_SLACK_PENALTY_PER_USD,
    COALITION_POOL,
    EXPOSED,
    TARGET_SLACK_PENALTY,
    ModelInputs,
)

USD_PER_MUSD = 1e6


def exposure_expression(model: pyo.ConcreteModel, inputs: ModelInputs, ix: ModelIndex) -> None:
    r"""Exposure, in share-years of demand: each material weighted by its mean yearly demand.

    .. math:: E = \sum_{q,m,t} w_m \big(received_{q,S,m,t,exposed} + \pi\, unmet_{q,m,t}\big),
              \quad w_m = |T| / \sum_{q,t} D_{q,m,t}
    """
    last = inputs.last_stage
    model.exposure = pyo.Expression(
        expr=pyo.quicksum(
            model.weight[m]
            * (received(model, ix, q, last, m, t, EXPOSED) + inputs.unmet_penalty * model.unmet[q, m, t])
            for (q, m, t) in inputs.demand
        )
    )


def slack_expression(model: pyo.ConcreteModel, inputs: ModelInputs) -> None:
    r"""Penalty on the elastic slacks: targets missed and budgets overspent.

    .. math:: \Sigma = M_T \sum_{m,t} w_m \sigma_{m,t} + M_B (\beta + \sum_a \beta_a)

    Budget slacks are fixed at zero in a normal solve (budgets are hard); only the
    diagnosis of a missed target frees them, to tell how much money would close the gap.
    """
    model.budget_slack_penalty = pyo.Param(mutable=True, initialize=BUDGET_SLACK_PENALTY_PER_USD)
    model.slack_penalty = pyo.Expression(
        expr=TARGET_SLACK_PENALTY
        * pyo.quicksum(model.weight[m] * model.target_slack[m, t] for (m, t) in model.target_slack)
        + model.budget_slack_penalty
        * (model.budget_slack + pyo.quicksum(model.member_budget_slack[a] for a in model.member_budget_slack))
    )


def cost_expression(model: pyo.ConcreteModel, inputs: ModelInputs, ix: ModelIndex) -> None:
    r"""Total cost of the coalition's supply, USD.

    .. math:: K = \sum c\, build + \sum o_{s,m}\, production + \sum (\tau_s + tariff)\, export
              + \sum c_l\, flow + \sum h\, stock
    """
    capex = pyo.quicksum(inputs.capex[(r, s, m)] * model.build[r, s, m, t] for (r, s, m, t) in inputs.builds)
    opex = pyo.quicksum(
        inputs.opex.get((s, m), 0.0) * model.production[r, s, m, t, g] for (r, s, m, t, g) in ix.production
    )
    transport = pyo.quicksum(
        (inputs.pool_transport[s] + (inputs.pool_tariff.get((r, s), 0.0) if p == COALITION_POOL else 0.0))
        * model.export[r, p, s, m, t, g]
        for (r, p, s, m, t, g) in ix.exports
    )
    lanes = pyo.quicksum(
        inputs.lane_cost[(o, d, s, m)] * model.flow[o, d, s, m, t, g] for (o, d, s, m, t, g) in ix.flows
    )
    holding = pyo.quicksum(inputs.stock_holding.get((q, m), 0.0) * model.stock[q, m, t] for (q, m, t) in ix.stock)
    model.capex_usd = pyo.Expression(expr=capex)
    model.opex_usd = pyo.Expression(expr=opex)
    model.trade_usd = pyo.Expression(expr=transport + lanes)
    model.holding_usd = pyo.Expression(expr=holding)
    model.cost = pyo.Expression(expr=capex + opex + transport + lanes + holding)


def declare_objectives(model: pyo.ConcreteModel, inputs: ModelInputs, cost_weight_per_musd: float) -> None:
    r"""Phase 1 minimises exposure + slack penalties; phase 2 minimises cost with exposure capped.

    .. math:: \min E + \Sigma \quad\text{then}\quad \min K + \Sigma
              \;\text{s.t.}\; E \le E^*(1+\epsilon) + \epsilon

    The weighted mode is one solve of :math:`\min E + \Sigma + \lambda K / 10^6`.
    """
    model.cost_weight = pyo.Param(mutable=True, initialize=cost_weight_per_musd)
    model.exposure_cap = pyo.Param(mutable=True, initialize=0.0)
    model.obj_exposure = pyo.Objective(expr=model.exposure + model.slack_penalty, sense=pyo.minimize)
    model.obj_cost = pyo.Objective(expr=model.cost / USD_PER_MUSD + model.slack_penalty, sense=pyo.minimize)
    model.obj_weighted = pyo.Objective(
        expr=model.exposure + model.slack_penalty + model.cost_weight * model.cost / USD_PER_MUSD,
        sense=pyo.minimize,
    )
    model.exposure_limit = pyo.Constraint(expr=model.exposure <= model.exposure_cap)
    model.obj_cost.deactivate()
    model.obj_weighted.deactivate()
    model.exposure_limit.deactivate()

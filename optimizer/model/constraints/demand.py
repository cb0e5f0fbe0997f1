"""Coalition demand and strategic stockpiles."""

from __future__ import annotations

import pyomo.core as pyo

from optimizer.model.constraints.balance import received
from optimizer.model.index import ModelIndex
from optimizer.model.inputs import GRADES, ModelInputs


def demand_balance(model: pyo.ConcreteModel, inputs: ModelInputs, ix: ModelIndex) -> None:
    r"""Each member's demand is met by final-stage deliveries, stock movements or is unmet.

    .. math:: \sum_g received_{q,S,m,t,g} + release_{q,m,t} - purchase_{q,m,t}
              + unmet_{q,m,t} = D_{q,m,t} \quad q \in C
    """
    last = inputs.last_stage

    def rule(_model: pyo.ConcreteModel, q: str, m: str, t: int) -> pyo.Expression:
        supply = pyo.quicksum(received(model, ix, q, last, m, t, g) for g in GRADES)
        if (q, m, t) in model.stock:
            supply = supply + model.release[q, m, t] - model.purchase[q, m, t]
        return supply + model.unmet[q, m, t] == model.demand_t[q, m, t]

    model.demand = pyo.Constraint(list(inputs.demand), rule=rule)


def stockpile_balance(model: pyo.ConcreteModel, inputs: ModelInputs, ix: ModelIndex) -> None:
    r"""Stock carries over: last year's stock (initial stock before the horizon) + purchases - releases.

    .. math:: stock_{q,m,t} = stock_{q,m,t-1} + purchase_{q,m,t} - release_{q,m,t},
              \quad stock_{q,m,t_0-1} = S^0_{q,m}, \quad stock_{q,m,t} \le \overline{S}_{q,m}
    """
    first_year = inputs.years[0]

    def rule(_model: pyo.ConcreteModel, q: str, m: str, t: int) -> pyo.Expression:
        before = inputs.stock_initial.get((q, m), 0.0) if t == first_year else model.stock[q, m, t - 1]
        return model.stock[q, m, t] == before + model.purchase[q, m, t] - model.release[q, m, t]

    model.stockpile = pyo.Constraint(ix.stock, rule=rule)
    for q, m, t in ix.stock:
        model.stock[q, m, t].setub(inputs.stock_capacity[(q, m)])

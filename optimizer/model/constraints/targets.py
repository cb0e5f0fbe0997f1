"""Timeline targets on dependence."""

from __future__ import annotations

import pyomo.core as pyo

from optimizer.model.constraints.balance import received
from optimizer.model.index import ModelIndex
from optimizer.model.inputs import EXPOSED, ModelInputs


def timeline_target(model: pyo.ConcreteModel, inputs: ModelInputs, ix: ModelIndex) -> None:
    r"""From the target year, exposed plus unmet supply is at most a share of demand (elastic).

    Unmet demand counts against the target, so a target cannot be met by going without.

    .. math:: \sum_{q \in C} (received_{q,S,m,t,exposed} + unmet_{q,m,t})
              \le x_k \sum_{q \in C} D_{q,m,t} + \sigma_{m,t}
    """
    last = inputs.last_stage

    def rule(_model: pyo.ConcreteModel, k: int, m: str, t: int) -> pyo.Expression:
        members = [q for q in inputs.coalition if (q, m, t) in model.demand_t]
        short = pyo.quicksum(received(model, ix, q, last, m, t, EXPOSED) + model.unmet[q, m, t] for q in members)
        total = pyo.quicksum(model.demand_t[q, m, t] for q in members)
        return short <= inputs.targets[(k, m, t)] * total + model.target_slack[m, t]

    model.target = pyo.Constraint(list(inputs.targets), rule=rule)

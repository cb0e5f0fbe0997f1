"""Trade policy: adversary export controls and third parties' willingness to sell."""

from __future__ import annotations

import pyomo.core as pyo

from optimizer.model.index import ModelIndex
from optimizer.model.inputs import COALITION_POOL, EXPOSED, GRADES, ModelInputs


def into_coalition(
    model: pyo.ConcreteModel,
    ix: ModelIndex,
    inputs: ModelInputs,
    origins: list[str],
    s: str,
    m: str,
    t: int,
    grades: tuple[str, ...],
) -> pyo.Expression:
    """Stage-s product of the given grades sold by `origins` to active members (pool + lanes).

    Only active members buy from the allies' pool; a lane counts when its destination is one.
    """
    coalition = set(inputs.coalition)
    terms = []
    for r in origins:
        for g in grades:
            key = (r, COALITION_POOL, s, m, t, g)
            if key in model.export:
                terms.append(model.export[key])
        for o, d, _s, _m in ix.lanes_out.get((r, s, m), []):
            if d in coalition:
                inside = model.is_member[d] if inputs.parametric_members else 1
                terms.extend(inside * model.flow[o, d, s, m, t, g] for g in grades if (o, d, s, m, t, g) in model.flow)
    return pyo.quicksum(terms)


def from_outside(
    model: pyo.ConcreteModel, ix: ModelIndex, inputs: ModelInputs, s: str, m: str, t: int, grades: tuple[str, ...]
) -> pyo.Expression:
    """Stage-s product reaching active members from every country outside them.

    In a member-parametric model a switched-off member is outside too (weight 1 - is_member).
    """
    coalition = set(inputs.coalition)
    terms = []
    for r in inputs.countries:
        sold = into_coalition(model, ix, inputs, [r], s, m, t, grades)
        if r not in coalition:
            terms.append(sold)
        elif inputs.parametric_members:
            terms.append((1 - model.is_member[r]) * sold)
    return pyo.quicksum(terms)


def export_control(model: pyo.ConcreteModel, inputs: ModelInputs, ix: ModelIndex) -> None:
    r"""From the control year, adversary product reaching the coalition is banned or capped.

    The cap is a share of the coalition's demand for the material that year (the model
    has no non-coalition demand, so a share of the adversary's own output would be
    circular). Direct form (the adversaries' own sales):

    .. math:: \sum_{a \in A} ship_{a \to C,s,m,t} \le \kappa \sum_{q \in C} D_{q,m,t}

    With re-exports, every exposed tonne entering the coalition from outside counts:

    .. math:: \sum_{r \notin C} ship_{r \to C,s,m,t,exposed} \le \kappa \sum_{q \in C} D_{q,m,t}

    A control naming other origins (a supplier cut off) caps their direct sales, any grade.
    """

    def rule(_model: pyo.ConcreteModel, k: int, s: str, m: str, t: int) -> pyo.Expression:
        share, reexports, origins = inputs.controls[(k, s, m, t)]
        if origins is not None:
            entering = into_coalition(model, ix, inputs, list(origins), s, m, t, GRADES)
        elif reexports:
            entering = from_outside(model, ix, inputs, s, m, t, (EXPOSED,))
        else:
            entering = into_coalition(model, ix, inputs, inputs.adversaries, s, m, t, GRADES)
        if isinstance(entering, int | float):
            return pyo.Constraint.Skip
        demand = pyo.quicksum(model.demand_t[q, m, t] for q in inputs.coalition if (q, m, t) in model.demand_t)
        return entering <= share * demand

    model.export_control = pyo.Constraint(list(inputs.controls), rule=rule)


def third_party_share(model: pyo.ConcreteModel, inputs: ModelInputs, ix: ModelIndex) -> None:
    r"""A third party sells the coalition a share of its capacity and the offtake of new builds.

    At most a share of its usable existing capacity, plus the secured share (offtake) of the
    new capacity the coalition financed there.

    .. math:: ship_{r \to C,s,m,t} \le u_s \Big(\phi_r K^0_{r,s,m,t}
              + \omega_r \sum_\tau \rho\, build_{r,s,m,\tau}\Big) \quad r \in P

    In a member-parametric model every non-adversary has this row; an active member's
    share and offtake are 1, which capacity already implies.
    """
    limited = set(inputs.sellers_limited)
    index = [(r, s, m, t) for (r, s, m) in inputs.producers if r in limited for t in inputs.years]

    def rule(_model: pyo.ConcreteModel, r: str, s: str, m: str, t: int) -> pyo.Expression:
        sold = into_coalition(model, ix, inputs, [r], s, m, t, GRADES)
        if isinstance(sold, int | float):
            return pyo.Constraint.Skip
        new = pyo.quicksum(f * model.build[r, s, m, tau] for tau, f in ix.builds_online.get((r, s, m, t), []))
        existing = inputs.existing.get((r, s, m, t), 0.0)
        return sold <= inputs.utilisation[s] * (model.seller_share[r] * existing + model.seller_offtake[r] * new)

    model.third_party = pyo.Constraint(index, rule=rule)

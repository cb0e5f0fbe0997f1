"""Trade policy: adversary export controls and third parties' willingness to sell."""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.model.index import ModelIndex
from optimizer.model.inputs import COALITION_POOL, EXPOSED, GRADES, ModelInputs


def into_coalition(
    model: pyo.ConcreteModel, ix: ModelIndex, inputs: ModelInputs, origins: list[str], s: str, m: str, t: int, grades: tuple[str, ...]
) -> pyo.Expression:
    """Stage-s product of the given grades sold by `origins` to coalition members (pool + lanes)."""
    coalition = set(inputs.coalition)
    terms = []
    for r in origins:
        for g in grades:
            key = (r, COALITION_POOL, s, m, t, g)
            if key in model.export:
                terms.append(model.export[key])
        for o, d, _s, _m in ix.lanes_out.get((r, s, m), []):
            if d in coalition:
                terms.extend(model.flow[o, d, s, m, t, g] for g in grades if (o, d, s, m, t, g) in model.flow)
    return pyo.quicksum(terms)


def export_control(model: pyo.ConcreteModel, inputs: ModelInputs, ix: ModelIndex) -> None:
    """From the control year, adversary product reaching the coalition is banned or capped.

    Direct form (the adversaries' own sales):

    .. math:: \\sum_{a \\in A} ship_{a \\to C,s,m,t} \\le \\kappa \\sum_{a \\in A, g} production_{a,s,m,t,g}

    With re-exports, every exposed tonne entering the coalition from outside counts:

    .. math:: \\sum_{r \\notin C} ship_{r \\to C,s,m,t,exposed} \\le \\kappa \\sum_{a,g} production_{a,s,m,t,g}
    """
    outsiders = [r for r in inputs.countries if r not in set(inputs.coalition)]

    def rule(_model: pyo.ConcreteModel, k: int, s: str, m: str, t: int) -> pyo.Expression:
        share, reexports = inputs.controls[(k, s, m, t)]
        if reexports:
            entering = into_coalition(model, ix, inputs, outsiders, s, m, t, (EXPOSED,))
        else:
            entering = into_coalition(model, ix, inputs, inputs.adversaries, s, m, t, GRADES)
        if isinstance(entering, int | float):
            return pyo.Constraint.Skip
        if share <= 0:
            return entering <= 0
        made = pyo.quicksum(
            model.production[a, s, m, t, EXPOSED] for a in inputs.adversaries if (a, s, m, t, EXPOSED) in model.production
        )
        return entering <= share * made

    model.export_control = pyo.Constraint(list(inputs.controls), rule=rule)


def third_party_share(model: pyo.ConcreteModel, inputs: ModelInputs, ix: ModelIndex) -> None:
    """A third party sells the coalition at most a share of its output, plus all output of new
    capacity built there (coalition-financed builds come with their offtake).

    .. math:: ship_{r \\to C,s,m,t} \\le \\phi_r \\sum_g production_{r,s,m,t,g}
              + u_s \\sum_\\tau \\rho\\, build_{r,s,m,\\tau} \\quad r \\in P
    """
    third = set(inputs.third_parties)
    index = [(r, s, m, t) for (r, s, m) in inputs.producers if r in third for t in inputs.years]

    def rule(_model: pyo.ConcreteModel, r: str, s: str, m: str, t: int) -> pyo.Expression:
        sold = into_coalition(model, ix, inputs, [r], s, m, t, GRADES)
        if isinstance(sold, int | float):
            return pyo.Constraint.Skip
        output = pyo.quicksum(model.production[r, s, m, t, g] for g in inputs.grades(r, s))
        new = pyo.quicksum(f * model.build[r, s, m, tau] for tau, f in ix.builds_online.get((r, s, m, t), []))
        return sold <= inputs.third_party_share[r] * output + inputs.utilisation[s] * new

    model.third_party = pyo.Constraint(index, rule=rule)

"""Mass balance along the chain, with provenance carried by grade."""

from __future__ import annotations

import pyomo.core as pyo

from optimizer.model.index import ModelIndex
from optimizer.model.inputs import GRADES, ModelInputs


def received(model: pyo.ConcreteModel, ix: ModelIndex, q: str, s: str, m: str, t: int, g: str) -> pyo.Expression:
    """Stage-s product of grade g that q receives: own output, pool imports, lane inflows."""
    terms = []
    if (q, s, m, t, g) in model.local:
        terms.append(model.local[q, s, m, t, g])
    for p in ix.import_pools.get((q, s), ()):
        if (q, p, s, m, t, g) in model.import_:
            terms.append(model.import_[q, p, s, m, t, g])
    terms.extend(
        model.flow[o, d, s, m, t, g]
        for (o, d, _s, _m) in ix.lanes_in.get((q, s, m), [])
        if (o, d, s, m, t, g) in model.flow
    )
    return pyo.quicksum(terms)


def output_balance(model: pyo.ConcreteModel, inputs: ModelInputs, ix: ModelIndex) -> None:
    r"""All output is shipped: used locally, sold into a pool, or sent on a lane.

    .. math:: production_{r,s,m,t,g} = local_{r,s,m,t,g} + \sum_p export_{r,p,s,m,t,g}
              + \sum_{d} flow_{r,d,s,m,t,g}
    """
    pools = ("coalition", "rest")

    def rule(_model: pyo.ConcreteModel, r: str, s: str, m: str, t: int, g: str) -> pyo.Expression:
        out = [model.export[r, p, s, m, t, g] for p in pools if (r, p, s, m, t, g) in model.export]
        if (r, s, m, t, g) in model.local:
            out.append(model.local[r, s, m, t, g])
        out.extend(model.flow[o, d, s, m, t, g] for (o, d, _s, _m) in ix.lanes_out.get((r, s, m), []))
        return model.production[r, s, m, t, g] == pyo.quicksum(out)

    model.output_balance = pyo.Constraint(ix.production, rule=rule)


def input_balance(model: pyo.ConcreteModel, inputs: ModelInputs, ix: ModelIndex) -> None:
    r"""Stage input equals the previous stage's product received; provenance follows the input.

    Outside the adversaries, each grade is balanced on its own (free output needs free
    input). In an adversary country every input becomes exposed output:

    .. math::
        production_{q,s,m,t,g} = y_{s,m}\, received_{q,s-1,m,t,g}  \quad q \notin A

        production_{q,s,m,t,exposed} = y_{s,m} \sum_g received_{q,s-1,m,t,g} \quad q \in A
    """
    index = [key for key in ix.production if key[1] != inputs.first_stage]

    def rule(_model: pyo.ConcreteModel, q: str, s: str, m: str, t: int, g: str) -> pyo.Expression:
        prev = inputs.previous(s)
        grades = GRADES if q in inputs.adversaries else (g,)
        inflow = pyo.quicksum(received(model, ix, q, prev, m, t, gg) for gg in grades)
        return model.production[q, s, m, t, g] == inputs.yield_[(s, m)] * inflow

    model.input_balance = pyo.Constraint(index, rule=rule)


def pool_balance(model: pyo.ConcreteModel, inputs: ModelInputs, ix: ModelIndex) -> None:
    r"""Each market pool clears: what is sold into it is bought from it.

    .. math:: \sum_r export_{r,p,s,m,t,g} = \sum_{q} import_{q,p,s,m,t,g}
    """
    sellers: dict[tuple, list] = {}
    for key in ix.exports:
        _r, p, s, m, t, g = key
        sellers.setdefault((p, s, m, t, g), []).append(key)
    buyers: dict[tuple, list] = {}
    for key in ix.imports:
        _q, p, s, m, t, g = key
        buyers.setdefault((p, s, m, t, g), []).append(key)
    index = sorted(set(sellers) | set(buyers))

    def rule(_model: pyo.ConcreteModel, p: str, s: str, m: str, t: int, g: str) -> pyo.Expression:
        sold = pyo.quicksum(model.export[k] for k in sellers.get((p, s, m, t, g), []))
        bought = pyo.quicksum(model.import_[k] for k in buyers.get((p, s, m, t, g), []))
        if isinstance(sold, int | float) and isinstance(bought, int | float):
            return pyo.Constraint.Skip
        return sold == bought

    model.pool_balance = pyo.Constraint(index, rule=rule)

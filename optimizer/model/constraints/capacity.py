"""Capacity: what exists, what is announced, what is built, and reserves."""

from __future__ import annotations

import pyomo.core as pyo

from optimizer.model.index import ModelIndex
from optimizer.model.inputs import ModelInputs


def capacity_constraint(model: pyo.ConcreteModel, inputs: ModelInputs, ix: ModelIndex) -> None:
    r"""Production is at most usable capacity: existing + announced + ramped-up builds.

    .. math::
        \sum_g production_{r,s,m,t,g} \le u_s \Big(K^0_{r,s,m,t}
            + \sum_{\tau + L_{r,s} \le t} \rho_{s,\,t-\tau-L_{r,s}}\, build_{r,s,m,\tau}\Big)
    """
    index = [(r, s, m, t) for (r, s, m) in inputs.producers for t in inputs.years]

    def rule(_model: pyo.ConcreteModel, r: str, s: str, m: str, t: int) -> pyo.Expression:
        output = pyo.quicksum(model.production[r, s, m, t, g] for g in inputs.grades(r, s))
        new = pyo.quicksum(f * model.build[r, s, m, tau] for tau, f in ix.builds_online.get((r, s, m, t), []))
        return output <= inputs.utilisation[s] * (inputs.existing.get((r, s, m, t), 0.0) + new)

    model.capacity = pyo.Constraint(index, rule=rule)


def reserve_constraint(model: pyo.ConcreteModel, inputs: ModelInputs) -> None:
    r"""New mine capacity is limited by reserves over the mine life.

    .. math:: \sum_t build_{r,mine,m,t} \le R_r \, \theta_m / life
    """
    mine = inputs.first_stage
    started: dict[tuple[str, str], list[int]] = {}
    for r, s, m, t in inputs.builds:
        if s == mine:
            started.setdefault((r, m), []).append(t)

    def rule(_model: pyo.ConcreteModel, r: str, m: str) -> pyo.Expression:
        return pyo.quicksum(model.build[r, mine, m, t] for t in started[(r, m)]) <= inputs.reserve_cap[(r, m)]

    model.reserves = pyo.Constraint(sorted(started), rule=rule)

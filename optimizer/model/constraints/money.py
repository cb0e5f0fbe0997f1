"""Money: the coalition's capital budget and members' co-financing."""

from __future__ import annotations

import pyomo.core as pyo

from optimizer.model.inputs import ModelInputs

UNLIMITED_BUDGET_USD = 1e15  # a quadrillion dollars: no budget


def capex_in_year(model: pyo.ConcreteModel, inputs: ModelInputs, t: int) -> pyo.Expression:
    """Capital spent on builds started in year t, USD."""
    return pyo.quicksum(
        inputs.capex[(r, s, m)] * model.build[r, s, m, tau] for (r, s, m, tau) in inputs.builds if tau == t
    )


def budget_constraint(model: pyo.ConcreteModel, inputs: ModelInputs) -> None:
    r"""Total capex of new builds stays within the budget (elastic: overspend is penalised).

    .. math:: \sum_{r,s,m,t} c_{r,s,m}\, build_{r,s,m,t} \le B + \beta
    """
    # The row exists even without a budget, so that sweeps can set and lift it. "No budget"
    # is a finite bound no plan reaches: an infinite bound would not stay mutable in HiGHS.
    budget = UNLIMITED_BUDGET_USD if inputs.budget_usd is None else inputs.budget_usd
    model.budget_usd = pyo.Param(mutable=True, initialize=budget, domain=pyo.Reals)
    spent = pyo.quicksum(inputs.capex[(r, s, m)] * model.build[r, s, m, t] for (r, s, m, t) in inputs.builds)
    model.budget = pyo.Constraint(expr=spent - model.budget_slack <= model.budget_usd)


def financing_constraint(model: pyo.ConcreteModel, inputs: ModelInputs) -> None:
    r"""Every build is fully financed by the members' contributions that year.

    .. math:: \sum_{a \in C} finance_{a,t} = \sum_{r,s,m} c_{r,s,m}\, build_{r,s,m,t}
    """
    if not inputs.member_budgets:
        return

    def rule(_model: pyo.ConcreteModel, t: int) -> pyo.Expression:
        paid = pyo.quicksum(model.finance[a, t] for a in inputs.coalition)
        return paid == capex_in_year(model, inputs, t)

    model.financing = pyo.Constraint(inputs.years, rule=rule)


def member_budget_constraint(model: pyo.ConcreteModel, inputs: ModelInputs) -> None:
    r"""A member's contributions stay within its own budget (elastic).

    .. math:: \sum_t finance_{a,t} \le B_a + \beta_a
    """

    def rule(_model: pyo.ConcreteModel, a: str) -> pyo.Expression:
        paid = pyo.quicksum(model.finance[a, t] for t in inputs.years)
        return paid <= inputs.member_budgets[a] + model.member_budget_slack[a]

    model.member_budget = pyo.Constraint(list(inputs.member_budgets), rule=rule)

"""Build the coalition allocation LP: a table of contents of the constraint families."""

from __future__ import annotations

import pyomo.core as pyo

from optimizer.model.constraints.balance import input_balance, output_balance, pool_balance
from optimizer.model.constraints.capacity import capacity_constraint, reserve_constraint
from optimizer.model.constraints.demand import demand_balance, stockpile_balance
from optimizer.model.constraints.money import budget_constraint, financing_constraint, member_budget_constraint
from optimizer.model.constraints.policy import export_control, third_party_share
from optimizer.model.constraints.targets import timeline_target
from optimizer.model.index import ModelIndex, build_index
from optimizer.model.inputs import ModelInputs
from optimizer.model.objective import cost_expression, declare_objectives, exposure_expression, slack_expression
from optimizer.model.variables import declare_member_parameters, declare_variables

MODEL_VERSION = "1.0.0"

# Every constraint family, by the model component it creates; tests check each is covered.
CONSTRAINT_FAMILIES = (
    "capacity",
    "reserves",
    "output_balance",
    "input_balance",
    "pool_balance",
    "demand",
    "stockpile",
    "export_control",
    "third_party",
    "budget",
    "financing",
    "member_budget",
    "target",
)


def build_model(inputs: ModelInputs, cost_weight_per_musd: float = 0.0) -> tuple[pyo.ConcreteModel, ModelIndex]:
    """Create the Pyomo model for one scenario."""
    ix = build_index(inputs)
    model = pyo.ConcreteModel(name="coalition_allocation")
    declare_variables(model, inputs, ix)
    declare_member_parameters(model, inputs, ix)

    # Capacity and building
    capacity_constraint(model, inputs, ix)
    reserve_constraint(model, inputs)

    # Mass balance and provenance along the chain
    output_balance(model, inputs, ix)
    input_balance(model, inputs, ix)
    pool_balance(model, inputs, ix)

    # Demand and stockpiles
    demand_balance(model, inputs, ix)
    stockpile_balance(model, inputs, ix)

    # Trade policy
    export_control(model, inputs, ix)
    third_party_share(model, inputs, ix)

    # Money
    budget_constraint(model, inputs)
    financing_constraint(model, inputs)
    member_budget_constraint(model, inputs)

    # Targets
    timeline_target(model, inputs, ix)

    # Objectives
    exposure_expression(model, inputs, ix)
    slack_expression(model, inputs)
    cost_expression(model, inputs, ix)
    declare_objectives(model, inputs, cost_weight_per_musd)
    return model, ix

"""Every constraint family of the model has at least one test that exercises it."""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.model import CONSTRAINT_FAMILIES, build_inputs, build_model
from optimizer.scenario import resolve_scenario
from optimizer.schemas import Scenario

import core.test_hand_solved  # noqa: F401  (registers its tests)
from core.registry import COVERED


def test_every_constraint_family_has_a_test() -> None:
    untested = [family for family in CONSTRAINT_FAMILIES if family not in COVERED]
    assert not untested, f"constraint families without a test: {untested}"


def test_registry_lists_every_constraint_the_model_builds(tiny) -> None:
    scenario = Scenario(
        dataset=str(tiny),
        coalition=["USA"],
        start_year=2026,
        end_year=2027,
        member_budgets_usd={"USA": 1.0},
        export_controls=[{"from_year": 2026}],
        targets=[{"from_year": 2026, "max_exposed_share": 1.0}],
    )
    model, _ = build_model(build_inputs(resolve_scenario(scenario)))
    built = {c.local_name for c in model.component_objects(pyo.Constraint)} - {"exposure_limit"}
    assert built <= set(CONSTRAINT_FAMILIES), built - set(CONSTRAINT_FAMILIES)

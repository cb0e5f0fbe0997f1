"""Model invariants on generated small worlds (hypothesis).

Each example is a random world: a coalition member with demand, two third parties, an
adversary, mine -> separation -> magnet, random capacities, costs, lead times, yields,
shares and budget. The properties hold for every LP of this shape.
"""

from __future__ import annotations

import copy
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import Scenario, solve
from optimizer.model import build_inputs
from optimizer.run import prepare
from optimizer.scenario import resolve_scenario

from core.checks import assert_capacity_holds, assert_mass_balance_holds
from factory import BASE, PROV, write_dataset

TOL = 1e-4
PROPERTY_SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
COUNTRIES = ["USA", "AUS", "BRA", "CHN"]
STAGES = ["mine", "separation", "magnet"]


def stage_rows() -> list[dict[str, Any]]:
    return [
        {
            "stage": s,
            "order": i + 1,
            "product": s,
            "max_utilisation": 0.9,
            "ramp_up": "0.5;1",
            "transport_usd_per_t": 50,
            "price_usd_per_t": 1000,
        }
        for i, s in enumerate(STAGES)
    ]


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    cap = []
    for r in ("AUS", "BRA", "CHN"):
        for s in STAGES:
            size = draw(st.sampled_from([0, 0, 20, 60, 200])) if r != "CHN" else 500
            if size:
                cap.append(
                    {
                        "country": r,
                        "stage": s,
                        "material": "NdPr",
                        "capacity_t_per_yr": size,
                        "unit": "t/yr",
                        "year": 2024,
                        "low": "",
                        "high": "",
                    }
                )
    capex = [
        {"stage": s, "material": "NdPr", "capex_usd_per_t_yr": draw(st.integers(500, 5000)), "low": "", "high": ""}
        for s in STAGES
    ]
    opex = [
        {"stage": s, "material": "NdPr", "opex_usd_per_t": draw(st.integers(0, 300)), "low": "", "high": ""}
        for s in STAGES
    ]
    lead = [
        {"stage": s, "country": "", "lead_time_years": draw(st.integers(0, 2)), "low": "", "high": ""} for s in STAGES
    ]
    yields = [
        {"stage": s, "material": "NdPr", "yield_t_per_t": draw(st.sampled_from([0.8, 0.9, 1.0])), "low": "", "high": ""}
        for s in STAGES[1:]
    ]
    shares = [
        {
            "country": r,
            "max_share_to_coalition": draw(st.sampled_from([0.0, 0.3, 1.0])),
            "new_build_offtake_share": draw(st.sampled_from([0.0, 1.0])),
            "low": "",
            "high": "",
        }
        for r in ("AUS", "BRA")
    ]
    reserves = [
        {"country": r, "reserves_t": draw(st.sampled_from([0, 2000, 20000])), "unit": "t REO"}
        for r in ("USA", "AUS", "BRA")
    ]
    demand = [
        {
            "country": "USA",
            "material": "NdPr",
            "base_year": 2026,
            "demand_t_per_yr": draw(st.integers(20, 150)),
            "unit": "t/yr",
            "growth_rate": draw(st.sampled_from([0.0, 0.1])),
            "growth_low": "",
            "growth_high": "",
            "low": "",
            "high": "",
        }
    ]
    stock = []
    if draw(st.booleans()):
        stock = [
            {
                "country": "USA",
                "material": "NdPr",
                "initial_stock_t": 10,
                "capacity_t": 50,
                "holding_usd_per_t_yr": draw(st.integers(0, 100)),
            }
        ]
    countries = [
        *copy.deepcopy(BASE["countries"]),
        {"iso3": "BRA", "name": "Brazil", "groups": "", "capex_factor": 1.2, **PROV},
    ]
    return {
        "countries": countries,
        "stages": stage_rows(),
        "capacity": cap,
        "capex": capex,
        "opex": opex,
        "lead_times": lead,
        "yields": yields,
        "third_party": shares,
        "reserves": reserves,
        "demand": demand,
        "stockpiles": stock,
    }


def scenario(path: Path, budget: float | None, **fields: Any) -> Scenario:
    return Scenario.from_data(
        {
            "dataset": str(path),
            "coalition": ["USA"],
            "start_year": 2026,
            "end_year": 2029,
            "budget_usd": budget,
            **fields,
        }
    )


def exposure(result: Any) -> float:
    return result.summary.objective["exposure_share_years"]


@PROPERTY_SETTINGS
@given(world=worlds(), budget=st.floats(0, 400_000))
def test_reported_numbers_respect_capacity_and_mass_balance(world: dict, budget: float) -> None:
    with TemporaryDirectory() as tmp:
        path = write_dataset(Path(tmp) / "w", **world)
        sc = scenario(path, budget)
        result = solve(sc)
        assert result.status == "optimal"
        inputs = build_inputs(resolve_scenario(sc))
        assert_capacity_holds(result, inputs, TOL)
        assert_mass_balance_holds(result, inputs, TOL)
        assert result.summary.cost_breakdown_usd["capex"] <= budget * (1 + 1e-7) + 1e-3


@PROPERTY_SETTINGS
@given(world=worlds(), budget=st.floats(0, 300_000), extra=st.floats(1, 300_000))
def test_more_budget_never_raises_exposure(world: dict, budget: float, extra: float) -> None:
    with TemporaryDirectory() as tmp:
        path = write_dataset(Path(tmp) / "w", **world)
        assert exposure(solve(scenario(path, budget + extra))) <= exposure(solve(scenario(path, budget))) + 1e-6


@PROPERTY_SETTINGS
@given(world=worlds(), budget=st.floats(0, 300_000), stage=st.sampled_from(STAGES), size=st.integers(1, 100))
def test_an_added_supplier_never_raises_exposure(world: dict, budget: float, stage: str, size: int) -> None:
    with TemporaryDirectory() as tmp:
        before = exposure(solve(scenario(write_dataset(Path(tmp) / "a", **world), budget)))
        richer = copy.deepcopy(world)
        richer["capacity"] = [c for c in richer["capacity"] if not (c["country"] == "USA" and c["stage"] == stage)]
        richer["capacity"].append(
            {
                "country": "USA",
                "stage": stage,
                "material": "NdPr",
                "capacity_t_per_yr": size,
                "unit": "t/yr",
                "year": 2024,
                "low": "",
                "high": "",
            }
        )
        after = exposure(solve(scenario(write_dataset(Path(tmp) / "b", **richer), budget)))
        assert after <= before + 1e-6


@PROPERTY_SETTINGS
@given(world=worlds(), budget=st.floats(0, 300_000), k=st.sampled_from([0.5, 2.0, 10.0]))
def test_scaling_every_cost_by_k_scales_the_cost_by_k(world: dict, budget: float, k: float) -> None:
    scaled = copy.deepcopy(world)
    for row in scaled["capex"]:
        row["capex_usd_per_t_yr"] *= k
    for row in scaled["opex"]:
        row["opex_usd_per_t"] *= k
    for row in scaled["stages"]:
        row["transport_usd_per_t"] *= k
        row["price_usd_per_t"] *= k
    for row in scaled["stockpiles"]:
        row["holding_usd_per_t_yr"] *= k
    with TemporaryDirectory() as tmp:
        base = solve(scenario(write_dataset(Path(tmp) / "a", **world), budget))
        big = solve(scenario(write_dataset(Path(tmp) / "b", **scaled), budget * k))
        assert exposure(big) == pytest.approx(exposure(base), rel=1e-6, abs=1e-6)
        assert big.summary.total_cost_usd == pytest.approx(k * base.summary.total_cost_usd, rel=1e-4, abs=1e-2)


@PROPERTY_SETTINGS
@given(
    world=worlds(), budget=st.floats(0, 300_000), year=st.integers(2026, 2029), share=st.sampled_from([0.0, 0.2, 0.6])
)
def test_infeasible_exactly_when_the_hard_model_is_infeasible(
    world: dict, budget: float, year: int, share: float
) -> None:
    import pyomo.environ as pyo

    with TemporaryDirectory() as tmp:
        path = write_dataset(Path(tmp) / "w", **world)
        sc = scenario(path, budget, targets=[{"from_year": year, "max_exposed_share": share}])
        result = solve(sc)
        # The same model with the target slacks forced to zero, solved by HiGHS directly.
        prepared = prepare(sc)
        slacks = list(prepared.model.target_slack.values())
        for var in slacks:
            var.setub(0.0)
        prepared.solver.update_variables(slacks)
        status, _ = prepared.solver._run(None)
        hard_feasible = status == "optimal"
        assert (result.status == "infeasible") == (not hard_feasible), (result.status, status)
        assert bool(result.summary.violations) == (result.status == "infeasible")
        assert pyo.value(prepared.model.budget_usd) == budget

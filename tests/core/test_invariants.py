"""Properties any correct solution has, checked on real solutions of the default scenario."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from optimizer import Result, default_scenario, solve
from optimizer.model import build_inputs
from optimizer.scenario import resolve_scenario

from core.checks import assert_capacity_holds, assert_mass_balance_holds

TOL = 1e-3  # t; HiGHS tolerances times the size of flows


def variant(**changes: object) -> dict:
    return {**default_scenario().model_dump(mode="json"), **changes}


@pytest.fixture(scope="module")
def default_result() -> Result:
    return solve(default_scenario())


def exposure(result: Result) -> float:
    return result.summary.objective["exposure_share_years"]


def test_default_scenario_is_optimal_with_exposure_by_year(default_result: Result) -> None:
    summary = default_result.to_dict()
    assert summary["status"] == "optimal"
    years = {row["year"] for row in summary["exposure_share_by_year"]}
    assert years == set(range(2026, 2041))
    assert all(0.0 <= row["exposed_share"] <= 1.0 + 1e-9 for row in summary["exposure_share_by_year"])


def test_capacity_holds_in_reported_numbers(default_result: Result) -> None:
    assert_capacity_holds(default_result, build_inputs(resolve_scenario(default_scenario())), TOL)


def test_mass_balance_holds_in_reported_numbers(default_result: Result) -> None:
    assert_mass_balance_holds(default_result, build_inputs(resolve_scenario(default_scenario())), TOL)


def test_adversaries_make_only_exposed_output(default_result: Result) -> None:
    production = default_result.tables["production"]
    assert set(production[production.country == "CHN"]["grade"]) == {"exposed"}


def test_heavy_controls_hold(default_result: Result) -> None:
    # the default scenario bans DyTb from 2025, re-exports included
    exposure_by_year = default_result.exposure_by_year
    assert exposure_by_year[exposure_by_year.material == "DyTb"]["exposed_t"].max() < TOL


def test_zero_budget_builds_nothing() -> None:
    result = solve(variant(budget_usd=0))
    assert result.status == "optimal"
    assert result.builds.empty


def test_more_budget_never_raises_exposure() -> None:
    exposures = [exposure(solve(variant(budget_usd=b))) for b in (0, 2e9, 8e9, 30e9)]
    for low, high in itertools.pairwise(exposures):
        assert high <= low + 1e-6
    assert exposures[-1] < exposures[0]


def test_total_ban_leaves_no_exposed_deliveries_after_it() -> None:
    ban = [{"from_year": 2030, "max_share": 0.0}]
    result = solve(variant(export_controls=ban))
    exposed = result.exposure_by_year.groupby("year")["exposed_t"].sum()
    assert exposed[exposed.index >= 2030].max() < TOL
    assert exposed[exposed.index < 2030].sum() >= 0.0


def test_longer_lead_times_never_lower_exposure(default_result: Result) -> None:
    longer = [{"table": "lead_times", "scale": {"lead_time_years": 1.5}}]
    slower = solve(variant(overrides=longer))
    assert slower.status == "optimal"
    assert exposure(slower) >= exposure(default_result) - 1e-6


def test_member_with_capacity_but_no_demand_never_raises_exposure() -> None:
    base = solve(variant(coalition=["USA", "JPN"]))
    with_aus = solve(
        variant(
            coalition=["USA", "JPN", "AUS"],
            overrides=[
                {"table": "demand", "where": {"country": "AUS"}, "set": {"demand_t_per_yr": 0, "low": 0, "high": 0}}
            ],
        )
    )
    assert exposure(with_aus) <= exposure(base) + 1e-6


def test_result_to_dict_is_json_serialisable(default_result: Result) -> None:
    import json

    payload = json.loads(json.dumps(default_result.to_dict()))
    assert payload["model"]["solver_version"]
    assert payload["scenario_hash"] == default_scenario().content_hash()
    assert isinstance(pd.DataFrame(payload["builds"]), pd.DataFrame)

"""A member-parametric model switches coalition members by parameters alone, warm."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer import Scenario, ScenarioError, solve
from optimizer.run import prepare, set_members, solve_prepared

from factory import BASE, row, write_dataset


@pytest.fixture
def two_members(tmp_path: Path) -> Path:
    """USA and AUS both with demand; JPN-like capacity in AUS."""
    demand = [
        BASE["demand"][0],
        row("demand", country="AUS", material="NdPr", base_year=2026, demand_t_per_yr=40, unit="t/yr", growth_rate=0),
    ]
    return write_dataset(tmp_path / "d", demand=demand)


def base(dataset: Path, **fields: object) -> Scenario:
    return Scenario.from_data(
        {"dataset": str(dataset), "start_year": 2026, "end_year": 2028, "budget_usd": 150_000, **fields}
    )


def key_numbers(result) -> tuple[float, float]:
    return (result.summary.objective["exposure_share_years"], result.summary.total_cost_usd)


def test_all_members_active_equals_the_ordinary_model(two_members: Path) -> None:
    scenario = base(two_members, coalition=["USA", "AUS"])
    ordinary = solve(scenario)
    parametric = solve_prepared(prepare(scenario, parametric_members=True))
    assert key_numbers(parametric) == pytest.approx(key_numbers(ordinary), rel=1e-6)


@pytest.mark.parametrize("members", [["USA"], ["AUS"]])
def test_a_subset_equals_solving_that_coalition_afresh(two_members: Path, members: list[str]) -> None:
    prepared = prepare(base(two_members, coalition=["USA", "AUS"]), parametric_members=True)
    set_members(prepared, members)
    switched = solve_prepared(prepared)
    fresh = solve(base(two_members, coalition=members))
    assert switched.summary.coalition == members
    assert switched.summary.scenario["coalition"] == members
    assert key_numbers(switched) == pytest.approx(key_numbers(fresh), rel=1e-6, abs=1e-6)
    assert set(switched.tables["deliveries"]["country"]) == set(members)


def test_switching_back_and_forth_gives_the_same_answers(two_members: Path) -> None:
    prepared = prepare(base(two_members, coalition=["USA", "AUS"]), parametric_members=True)
    first = {}
    for members in (["USA"], ["AUS"], ["USA", "AUS"], ["USA"], ["USA", "AUS"], ["AUS"]):
        set_members(prepared, members)
        numbers = key_numbers(solve_prepared(prepared))
        first.setdefault(tuple(members), numbers)
        assert numbers == pytest.approx(first[tuple(members)], rel=1e-7, abs=1e-7)


def test_members_outside_the_prepared_coalition_are_refused(two_members: Path) -> None:
    prepared = prepare(base(two_members, coalition=["USA", "AUS"]), parametric_members=True)
    with pytest.raises(ScenarioError, match="not in the prepared coalition"):
        set_members(prepared, ["CHN"])


def test_an_ordinary_model_cannot_switch_members(two_members: Path) -> None:
    prepared = prepare(base(two_members, coalition=["USA", "AUS"]))
    with pytest.raises(ScenarioError, match="member-parametric"):
        set_members(prepared, ["USA"])


def test_switched_off_members_are_outsiders_for_controls_and_lanes(tmp_path: Path) -> None:
    # AUS makes magnets from Chinese ore and ships them to the USA on a lane; a total ban
    # with re-exports must stop them once AUS is no longer a member.
    capacity = [
        *BASE["capacity"],
        row("capacity", country="AUS", stage="magnet", material="NdPr", capacity_t_per_yr=80, unit="t/yr", year=2024),
    ]
    lanes = [row("lanes", origin="AUS", destination="USA", stage="magnet", transport_usd_per_t=1, tariff_rate=0)]
    data = write_dataset(tmp_path / "d", capacity=capacity, lanes=lanes)
    ban = [{"from_year": 2027, "max_share": 0.0}]
    prepared = prepare(base(data, coalition=["USA", "AUS"], export_controls=ban), parametric_members=True)
    for members in (["USA"], ["USA", "AUS"], ["USA"]):
        set_members(prepared, members)
        switched = solve_prepared(prepared)
        fresh = solve(base(data, coalition=members, export_controls=ban))
        assert key_numbers(switched) == pytest.approx(key_numbers(fresh), rel=1e-6, abs=1e-6), members

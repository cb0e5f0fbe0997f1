"""Hand-solvable LPs with exact optimal values.

The base world (tests/factory.py): USA (coalition, demand 100 t/yr, no capacity),
AUS (third party, mine 10 t/yr), CHN (adversary, mine and magnet 1000 t/yr).
Capex 1000 USD per t/yr of mine, 2000 per t/yr of magnet; lead times 1 yr; yields 1.
Horizon 2026-2027, so a build started in 2026 serves 2027 only. Exposure weight is
|T| / total demand = 2 / 200 = 0.01 per tonne, so objective = exposed t / 100.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer import Scenario, solve

from core.registry import covers
from factory import BASE, row, write_dataset


def scenario(dataset: Path, **fields: object) -> Scenario:
    base = {"dataset": str(dataset), "coalition": ["USA"], "start_year": 2026, "end_year": 2027}
    return Scenario.from_data({**base, **fields})


def exposure(result) -> float:
    return result.summary.objective["exposure_share_years"]


@covers("capacity", "output_balance", "input_balance", "pool_balance", "demand", "budget")
def test_zero_budget_builds_nothing_and_everything_is_exposed(tiny: Path) -> None:
    result = solve(scenario(tiny, budget_usd=0))
    assert result.status == "optimal"
    assert result.builds.empty
    assert exposure(result) == pytest.approx(2.0, abs=1e-6)
    assert result.exposure_by_year["exposed_share"].tolist() == pytest.approx([1.0, 1.0])


@covers("budget", "capacity")
def test_binding_budget_buys_the_cheapest_free_tonnes_first(tiny: Path) -> None:
    # 10 t of AUS ore need only a magnet plant (2000 USD/t); every further tonne needs a
    # mine too (3000 USD/t). With 100,000 USD: 10 + 80000/3000 = 36.67 t free in 2027.
    result = solve(scenario(tiny, budget_usd=100_000))
    assert result.status == "optimal"
    assert exposure(result) == pytest.approx((100 + 100 - 36.6667) / 100, abs=1e-5)
    assert result.summary.cost_breakdown_usd["capex"] == pytest.approx(100_000, rel=1e-6)
    assert result.builds["online_year"].eq(2027).all()
    budget = result.summary.shadow_prices["budget"]
    # one more USD buys 1/3000 t free in 2027 = 1/300000 share-years
    assert budget["exposure_reduction_per_busd"] == pytest.approx(1e9 / 300_000, rel=1e-4)


def test_unlimited_budget_reaches_zero_exposure_at_least_cost(tiny: Path) -> None:
    result = solve(scenario(tiny, budget_usd=None))
    assert exposure(result) == pytest.approx(1.0, abs=1e-5)  # 2026 cannot be helped
    # cheapest free supply for 2027: 90 t of new mine + 100 t of new magnet capacity
    assert result.summary.total_cost_usd == pytest.approx(90 * 1000 + 100 * 2000, rel=1e-5)


def test_lead_time_beyond_horizon_builds_nothing(tmp_path: Path) -> None:
    lead = [row("lead_times", stage=s, lead_time_years=2) for s in ("mine", "magnet")]
    result = solve(scenario(write_dataset(tmp_path / "d", lead_times=lead), budget_usd=None))
    assert result.builds.empty
    assert exposure(result) == pytest.approx(2.0, abs=1e-6)


@covers("export_control")
def test_total_ban_leaves_demand_unmet_when_nothing_else_exists(tiny: Path) -> None:
    ban = [{"from_year": 2027, "max_share": 0.0}]
    result = solve(scenario(tiny, budget_usd=0, export_controls=ban))
    by_year = result.exposure_by_year.set_index("year")
    assert by_year.at[2027, "exposed_t"] == pytest.approx(0.0, abs=1e-6)
    assert by_year.at[2027, "unmet_t"] == pytest.approx(100.0, abs=1e-6)
    # 100 t exposed in 2026, 100 t unmet at penalty 10 in 2027
    assert exposure(result) == pytest.approx((100 + 10 * 100) / 100, abs=1e-5)


@covers("export_control")
def test_quota_caps_adversary_supply_at_a_share_of_demand(tiny: Path) -> None:
    quota = [{"from_year": 2026, "max_share": 0.3}]
    result = solve(scenario(tiny, budget_usd=0, export_controls=quota))
    assert result.exposure_by_year["exposed_t"].tolist() == pytest.approx([30.0, 30.0], abs=1e-4)
    assert result.exposure_by_year["unmet_t"].tolist() == pytest.approx([70.0, 70.0], abs=1e-4)


@covers("third_party")
def test_third_party_sells_at_most_its_share_of_capacity(tmp_path: Path) -> None:
    share = [row("third_party", country="AUS", max_share_to_coalition=0.5, new_build_offtake_share=1)]
    data = write_dataset(tmp_path / "d", third_party=share)
    # Only 5 t of AUS ore may go to the USA: 5 t at 2000, then (100000 - 10000) / 3000 = 30 t.
    result = solve(scenario(data, budget_usd=100_000, build_hosts="coalition"))
    assert exposure(result) == pytest.approx((200 - 35) / 100, abs=1e-5)


@covers("third_party")
def test_no_builds_where_the_coalition_cannot_count_on_the_output(tmp_path: Path) -> None:
    share = [row("third_party", country="AUS", max_share_to_coalition=1, new_build_offtake_share=0)]
    result = solve(scenario(write_dataset(tmp_path / "d", third_party=share), budget_usd=100_000))
    assert "AUS" not in set(result.builds["country"])
    # AUS ore still reaches a new US magnet plant: the same optimum as before
    assert exposure(result) == pytest.approx((200 - 36.6667) / 100, abs=1e-5)


def test_adversary_ore_processed_by_a_third_party_stays_exposed(tmp_path: Path) -> None:
    cap = [
        *BASE["capacity"],
        row("capacity", country="AUS", stage="magnet", material="NdPr", capacity_t_per_yr=100, unit="t/yr", year=2024),
    ]
    data = write_dataset(tmp_path / "d", capacity=cap)
    result = solve(scenario(data, budget_usd=0))
    # AUS magnets use its own 10 t of ore (free) and 90 t of Chinese ore (exposed)
    assert result.exposure_by_year["exposed_t"].tolist() == pytest.approx([90.0, 90.0], abs=1e-4)
    assert result.exposure_by_year["free_t"].tolist() == pytest.approx([10.0, 10.0], abs=1e-4)


@covers("stockpile")
def test_stockpile_bought_before_a_ban_covers_the_gap(tmp_path: Path) -> None:
    stock = [
        row("stockpiles", country="USA", material="NdPr", initial_stock_t=50, capacity_t=100, holding_usd_per_t_yr=0)
    ]
    data = write_dataset(tmp_path / "d", stockpiles=stock)
    ban = [{"from_year": 2027, "max_share": 0.0}]
    result = solve(scenario(data, budget_usd=0, export_controls=ban))
    # buy 50 t (exposed) in 2026 to fill the stock to 100 t, release all 100 t in 2027
    assert exposure(result) == pytest.approx(150 / 100, abs=1e-5)
    stock_table = result.tables["stockpile"].set_index("year")
    assert stock_table.at[2026, "stock_t"] == pytest.approx(100.0, abs=1e-4)
    assert stock_table.at[2027, "release_t"] == pytest.approx(100.0, abs=1e-4)
    assert result.exposure_by_year["unmet_t"].sum() == pytest.approx(0.0, abs=1e-4)


@covers("reserves")
def test_reserves_limit_new_mines(tmp_path: Path) -> None:
    # 20 yr mine life: 400 t REO of reserves allow 20 t/yr of new mine capacity
    reserves = [row("reserves", country="USA", reserves_t=400, unit="t REO")]
    data = write_dataset(tmp_path / "d", reserves=reserves)
    result = solve(scenario(data, budget_usd=None))
    mines = result.builds[result.builds["stage"] == "mine"]
    assert mines["capacity_t_per_yr"].sum() == pytest.approx(20.0, abs=1e-4)
    # 2027 free = 10 (AUS) + 20 (new US mine)
    assert exposure(result) == pytest.approx((100 + 70) / 100, abs=1e-5)


@covers("financing", "member_budget")
def test_member_budgets_cap_each_contribution(tiny: Path) -> None:
    result = solve(
        scenario(tiny, coalition=["USA", "AUS"], budget_usd=1e6, member_budgets_usd={"USA": 60_000, "AUS": 40_000})
    )
    # together they have 100,000 USD: the same optimum as a 100,000 USD budget
    assert exposure(result) == pytest.approx((200 - 36.6667) / 100, abs=1e-5)
    paid = result.tables["cost_by_payer"].set_index("payer")["amount_usd"]
    assert paid["USA"] <= 60_000 + 1e-3 and paid["AUS"] <= 40_000 + 1e-3
    assert paid.sum() == pytest.approx(result.summary.cost_breakdown_usd["capex"], rel=1e-6)


@covers("target")
def test_target_impossible_in_time_is_infeasible_with_explanation(tiny: Path) -> None:
    target = [{"from_year": 2026, "max_exposed_share": 0.0}]
    result = solve(scenario(tiny, budget_usd=None, targets=target))
    assert result.status == "infeasible"
    missed = [v for v in result.summary.violations if v.kind == "target"]
    assert [(v.material, v.year) for v in missed] == [("NdPr", 2026)]
    assert missed[0].amount == pytest.approx(100.0, abs=1e-4)
    assert "Even with unlimited money" in missed[0].explanation


@covers("target", "budget")
def test_target_short_of_money_says_how_much_is_needed(tiny: Path) -> None:
    target = [{"from_year": 2027, "max_exposed_share": 0.0}]
    result = solve(scenario(tiny, budget_usd=100_000, targets=target))
    assert result.status == "infeasible"
    budget = [v for v in result.summary.violations if v.kind == "budget"]
    assert budget and budget[0].amount == pytest.approx(190_000, rel=1e-4)
    assert "More money would close this gap" in result.summary.violations[0].explanation


def test_feasible_target_is_met(tiny: Path) -> None:
    target = [{"from_year": 2027, "max_exposed_share": 0.5}]
    result = solve(scenario(tiny, budget_usd=None, targets=target))
    assert result.status == "optimal"
    share_2027 = result.exposure_by_year.set_index("year").at[2027, "exposed_share"]
    assert share_2027 <= 0.5 + 1e-6


def test_weighted_mode_with_costly_money_builds_nothing(tiny: Path) -> None:
    objective = {"mode": "weighted", "cost_weight_per_musd": 1e5}
    result = solve(scenario(tiny, budget_usd=None, objective=objective))
    assert result.status == "optimal"
    assert result.builds.empty
    assert result.summary.model.solves == 1


def test_time_limit_without_a_feasible_point_returns_no_allocation() -> None:
    from optimizer import default_scenario

    scenario = default_scenario()
    limited = scenario.model_copy(update={"options": scenario.options.model_copy(update={"time_limit_s": 0.001})})
    result = solve(limited)
    assert result.status == "time_limit"
    assert result.summary.builds == [] and result.summary.exposure_share_by_year == []
    assert "time limit" in result.summary.message
    assert result.summary.model.nonzeros > 0


def test_exposure_mode_is_one_solve_with_the_lexicographic_exposure(tiny: Path) -> None:
    lexicographic = solve(scenario(tiny, budget_usd=100_000))
    only = solve(scenario(tiny, budget_usd=100_000, objective={"mode": "exposure"}))
    assert only.summary.model.solves == 1
    assert exposure(only) == pytest.approx(exposure(lexicographic), abs=1e-6)


@covers("export_control")
def test_a_supplier_cut_off_from_a_year(tmp_path: Path) -> None:
    # AUS sells its 10 t of ore to a US magnet plant; cut AUS off from 2027
    cut = [{"from_year": 2027, "origins": ["AUS"], "max_share": 0.0}]
    data = write_dataset(tmp_path / "d")
    open_ = solve(scenario(data, budget_usd=20_000, build_hosts="coalition"))
    closed = solve(scenario(data, budget_usd=20_000, build_hosts="coalition", export_controls=cut))
    assert exposure(open_) == pytest.approx((200 - 10) / 100, abs=1e-5)
    # without AUS ore, 20,000 USD buy only 20000 / 3000 t of US mine + magnet
    assert exposure(closed) == pytest.approx((200 - 20000 / 3000) / 100, abs=1e-5)


def test_an_override_can_delete_rows(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "d")
    gone = [{"table": "capacity", "where": {"country": "AUS"}, "delete": True}]
    result = solve(scenario(data, budget_usd=20_000, build_hosts="coalition", overrides=gone))
    assert exposure(result) == pytest.approx((200 - 20000 / 3000) / 100, abs=1e-5)


def test_budget_set_on_a_model_built_without_one(tiny: Path) -> None:
    from optimizer.run import prepare, set_budget, solve_prepared

    prepared = prepare(scenario(tiny, budget_usd=None))
    assert exposure(solve_prepared(prepared)) == pytest.approx(1.0, abs=1e-5)
    set_budget(prepared, 100_000)
    assert exposure(solve_prepared(prepared)) == pytest.approx((200 - 36.6667) / 100, abs=1e-5)
    set_budget(prepared, None)
    assert exposure(solve_prepared(prepared)) == pytest.approx(1.0, abs=1e-5)

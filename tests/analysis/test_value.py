"""Member value: Shapley values of hand-built games, efficiency, symmetry, bad input."""

from __future__ import annotations

import math

import pytest

from optimizer import ScenarioError
from optimizer.analysis import member_value
from optimizer.analysis.value import marginals, sample_orders, shapley_exact

from .conftest import scenario

TOL = 1e-6


def test_shapley_exact_on_a_known_game():
    # Glove game: player 0 has a left glove, players 1 and 2 right gloves; a pair is worth 1.
    # Known answer: phi = (2/3, 1/6, 1/6).
    v = {0: 0.0, 1: 0.0, 2: 0.0, 4: 0.0, 3: 1.0, 5: 1.0, 6: 0.0, 7: 1.0}
    phi = shapley_exact(3, v)
    assert phi == pytest.approx([2 / 3, 1 / 6, 1 / 6], abs=1e-15)
    assert math.fsum(phi) == pytest.approx(v[7], abs=1e-15)


def test_sampled_marginals_add_up_per_order():
    v = {m: float(bin(m).count("1") ** 2) for m in range(16)}  # a convex game
    orders = sample_orders(4, 50, seed=3)
    contrib = marginals(orders, v)
    assert contrib.sum(axis=1) == pytest.approx([v[15]] * 50, abs=1e-12)
    assert sample_orders(4, 50, seed=3) == orders
    assert sample_orders(4, 50, seed=4) != orders


def test_trio_game_by_hand(trio):
    result = member_value(scenario=scenario(trio, "trio"), workers=1)
    by = {m.member: m for m in result.members}
    assert result.method == "exact"
    assert result.subsets_solved == 8
    assert result.exposure_without_members == pytest.approx(5.0, abs=TOL)
    assert result.exposure_grand == pytest.approx(0.0, abs=TOL)
    assert result.grand_value == pytest.approx(5.0, abs=TOL)
    # v({USA}) = v({CAN}) = 3: 60 of 100 t/yr free for 5 years.
    assert by["USA"].standalone == pytest.approx(3.0, abs=TOL)
    assert by["USA"].leave_one_out == pytest.approx(2.0, abs=TOL)
    assert by["USA"].shapley == pytest.approx(2.5, abs=TOL)
    # symmetry: USA and CAN bring the same assets
    assert by["CAN"].shapley == pytest.approx(by["USA"].shapley, abs=1e-9)
    # null player: GBR has no assets
    assert by["GBR"].shapley == pytest.approx(0.0, abs=1e-9)
    # efficiency, exactly (up to float rounding)
    assert sum(m.shapley for m in result.members) == pytest.approx(result.grand_value, abs=1e-12)
    assert result.shapley_sum == pytest.approx(result.grand_value, abs=1e-12)
    # burden sharing proportional to phi
    assert [m.share for m in result.members] == pytest.approx([0.5, 0.5, 0.0], abs=1e-6)
    assert sum(m.share for m in result.members) == pytest.approx(1.0)
    empty = next(s for s in result.subsets if s["members"] == [])
    assert empty["value"] == 0.0


def test_complements_share_equally(chain):
    result = member_value(scenario=scenario(chain, "pair"), workers=1)
    by = {m.member: m for m in result.members}
    assert by["USA"].standalone == pytest.approx(0.0, abs=TOL)
    assert by["CAN"].standalone == pytest.approx(0.0, abs=TOL)
    assert result.grand_value == pytest.approx(5.0, abs=TOL)
    assert by["USA"].shapley == pytest.approx(2.5, abs=TOL)
    assert by["CAN"].shapley == pytest.approx(by["USA"].shapley, abs=1e-9)
    assert by["USA"].shapley + by["CAN"].shapley == pytest.approx(result.grand_value, abs=1e-12)


def test_sampled_method_is_efficient_reproducible_and_covers_the_exact_values(trio):
    args = {"scenario": scenario(trio, "trio"), "method": "sampled", "permutations": 40, "workers": 1}
    first = member_value(seed=11, **args)
    again = member_value(seed=11, **args)
    assert first.method == "sampled" and first.permutations == 40
    assert [m.shapley for m in first.members] == [m.shapley for m in again.members]
    assert sum(m.shapley for m in first.members) == pytest.approx(first.grand_value, abs=1e-9)
    exact = {"USA": 2.5, "CAN": 2.5, "GBR": 0.0}
    for m in first.members:
        assert m.ci_low is not None and m.ci_high is not None
        assert m.ci_low - TOL <= exact[m.member] <= m.ci_high + TOL


def test_money_counts_when_members_have_budgets(tmp_path):
    # Nothing exists; USA may build (lead 1 year) but only CAN has money: neither alone
    # avoids anything, together they free 4 of 5 years: phi = (2, 2).
    from .conftest import CHINA, country, demand, r
    from factory import write_dataset

    path = write_dataset(
        tmp_path / "money",
        countries=[country(c) for c in ("USA", "CAN", "CHN")],
        capacity=CHINA,
        demand=[demand("USA", 100)],
        reserves=[r(country="USA", reserves_t=1e6, unit="t REO")],
    )
    sc = scenario(path, ["USA", "CAN"], budget_usd=1e9, member_budgets_usd={"USA": 0.0, "CAN": 1e9})
    result = member_value(scenario=sc, workers=1)
    by = {m.member: m for m in result.members}
    assert result.grand_value == pytest.approx(4.0, abs=TOL)
    assert by["USA"].standalone == pytest.approx(0.0, abs=TOL)
    assert by["CAN"].standalone == pytest.approx(0.0, abs=TOL)
    assert by["USA"].shapley == pytest.approx(2.0, abs=TOL)
    assert by["CAN"].shapley == pytest.approx(2.0, abs=TOL)
    assert result.grand_capex_usd == pytest.approx(300_000, rel=1e-6)  # 100 t/yr mine + magnet
    assert by["USA"].suggested_capex_usd == pytest.approx(150_000, rel=1e-6)


def test_too_many_members_for_exact_suggests_sampling(crowd):
    with pytest.raises(ScenarioError) as err:
        member_value(scenario=scenario(crowd, "crowd"), workers=1)
    assert err.value.issues[0].location == "method"
    assert "sampled" in str(err.value) and "13 members" in str(err.value)


def test_adversary_in_the_coalition_is_refused(trio):
    with pytest.raises(ScenarioError) as err:
        member_value(scenario=scenario(trio, "trio"), coalition=["USA", "CHN"], workers=1)
    assert err.value.issues[0].location == "coalition"
    assert "adversary CHN" in str(err.value)


def test_switching_assets_off_equals_removing_them_from_the_data(tmp_path):
    # Every kind of asset: existing plants (USA mine, CAN magnets), reserves and build sites
    # (USA), a stockpile (JPN), member budgets (USA, JPN; CAN uncapped), a third party (AUS).
    from optimizer import solve
    from optimizer.analysis.common import base_dataset, with_changes
    from optimizer.analysis.overrides import remove_assets

    from .conftest import CHINA, cap, country, demand, r
    from factory import write_dataset

    path = write_dataset(
        tmp_path / "rich",
        countries=[country(c) for c in ("USA", "CAN", "JPN", "AUS", "CHN")],
        capacity=[*CHINA, cap("USA", "mine", 20), cap("CAN", "magnet", 30), cap("AUS", "mine", 10)],
        reserves=[r(country="USA", reserves_t=1e6, unit="t REO")],
        stockpiles=[r(country="JPN", material="NdPr", initial_stock_t=50, capacity_t=100, holding_usd_per_t_yr=1)],
        demand=[demand("USA", 60), demand("JPN", 40)],
    )
    members = ["USA", "CAN", "JPN"]
    sc = scenario(path, members, budget_usd=100_000, member_budgets_usd={"USA": 50_000, "JPN": 20_000})
    result = member_value(scenario=sc, workers=1)
    assert result.grand_value > 0
    ds = base_dataset(sc, True)
    weighted = {"mode": "weighted", "cost_weight_per_musd": 0.0}
    for subset in result.subsets:
        outside = [m for m in members if m not in subset["members"]]
        overrides = [o for m in outside for o in remove_assets(ds, m, "test")]
        budgets = {**sc.member_budgets_usd, **dict.fromkeys(outside, 0.0)}
        direct = solve(with_changes(sc, overrides=overrides, member_budgets_usd=budgets, objective=weighted))
        assert direct.summary.objective["exposure_share_years"] == pytest.approx(
            subset["exposure_share_years"], abs=1e-7
        ), subset["members"]
    values = sorted(s["value"] for s in result.subsets)
    assert len(set(round(v, 6) for v in values)) > 3  # a game with some texture

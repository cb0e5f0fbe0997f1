"""A few analyses on the shipped rare_earths dataset (slow: each solve takes seconds)."""

from __future__ import annotations

import itertools

import pytest

from optimizer.analysis import compare, frontier, member_value, stress
from optimizer.analysis.common import base_dataset
from optimizer.analysis.uncertainty import _overrides, ranged_values
from optimizer.data.registry import list_datasets
from optimizer.run import default_scenario
from optimizer.schemas import MAX_LIST

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif("rare_earths" not in list_datasets(), reason="the rare_earths dataset is not shipped"),
]


def test_compare_presets():
    result = compare(coalitions=["five_eyes", "five_eyes_japan"], workers=2)
    assert [c.status for c in result.cells] == ["ok", "ok"]
    assert sorted(result.ranking["default"]) == ["five_eyes", "five_eyes_japan"]
    for c in result.cells:
        assert len(c.exposed_share_by_year) == 15 * 2  # 2026-2040, NdPr and DyTb
        assert c.capex_usd <= 20e9 * (1 + 1e-6)


def test_frontier_is_monotone():
    result = frontier(points=3, workers=2)
    exposures = [p.exposure_share_years for p in result.points]
    assert all(p.status == "ok" for p in result.points)
    assert all(b <= a + 1e-6 * max(1.0, a) for a, b in itertools.pairwise(exposures))
    assert exposures[-1] == pytest.approx(result.unlimited.exposure_share_years, rel=1e-5)


def test_value_of_a_pair_is_efficient():
    result = member_value(coalition=["USA", "JPN"], workers=2)
    assert sum(m.shapley for m in result.members) == pytest.approx(result.grand_value, abs=1e-9)
    assert all(m.shapley >= -1e-6 for m in result.members)


def test_cost_game_of_a_pair_is_efficient_and_monotone():
    result = member_value(coalition=["USA", "JPN"], game="cost", workers=2)
    assert result.unit == "USD" and result.subsets_solved == 4
    assert result.shapley_sum == pytest.approx(result.grand_value, rel=1e-12)
    tol = 1e-6 * max(1.0, abs(result.grand_value))
    value = {frozenset(s["members"]): s["value"] for s in result.subsets}
    for small, big in itertools.permutations(value, 2):
        if small < big:
            assert value[small] <= value[big] + tol, (sorted(small), sorted(big))
    assert all(m.shapley >= -tol for m in result.members)
    assert all(s["exposure_share_years"] <= result.exposure_cap * (1 + 1e-6) for s in result.subsets)


def test_dytb_ban_and_monte_carlo_overrides_fit():
    result = stress(stresses=["adversary_ban_ndpr"], workers=2)
    assert result.stresses[0].status == "ok"
    assert result.stresses[0].unmet_t_delta >= -1e-6
    ds = base_dataset(default_scenario(), True)
    rows = ranged_values(ds)
    assert rows
    assert len(_overrides(ds, {r: r.high for r in rows})) <= MAX_LIST

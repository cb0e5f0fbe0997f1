"""Frontier: monotone, ends at the unlimited-budget plan, knee marked, bad input refused."""

from __future__ import annotations

import itertools

import pytest

from optimizer import ScenarioError, solve
from optimizer.analysis import frontier, run_analysis
from optimizer.analysis.frontier import knee_index

from .conftest import scenario


def test_frontier_by_hand(tiny):
    # Base tiny world: 100 t/yr demand; a free tonne needs a mine (1,000 USD per t/yr; AUS
    # already mines 10) and a magnet plant (2,000), online after a year. Budget 0 -> every
    # year exposed (E = 5); unlimited -> only 2026 exposed (E = 1) for 90 x 1,000 + 100 x 2,000.
    result = frontier(scenario=scenario(tiny, ["USA"]), points=6, workers=1)
    assert len(result.points) == 6
    budgets = [p.budget_usd for p in result.points]
    assert budgets[0] == 0.0
    assert budgets == sorted(budgets)
    assert result.unlimited.budget_usd is None
    assert result.unlimited.exposure_share_years == pytest.approx(1.0, rel=1e-6)
    assert result.unlimited.capex_usd == pytest.approx(290_000, rel=1e-6)
    assert result.points[0].exposure_share_years == pytest.approx(5.0, rel=1e-6)
    exposures = [p.exposure_share_years for p in result.points]
    assert all(p.status == "ok" for p in result.points)
    # more budget never raises exposure
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(exposures))
    # the last point is the unlimited-budget plan
    assert exposures[-1] == pytest.approx(result.unlimited.exposure_share_years, rel=1e-6)
    assert budgets[-1] == pytest.approx(result.unlimited.capex_usd, rel=1e-6)
    # every point spends at most its budget
    assert all(p.capex_usd <= p.budget_usd * (1 + 1e-7) + 1e-3 for p in result.points)
    assert result.knee_index is not None and result.points[result.knee_index].knee
    assert sum(p.knee for p in result.points) == 1
    assert result.meta.solves == 1 + 6


def test_each_point_matches_a_cold_solve(tiny):
    result = frontier(scenario=scenario(tiny, ["USA"]), points=3, workers=1)
    for point in result.points:
        cold = solve(scenario(tiny, ["USA"], budget_usd=point.budget_usd))
        assert point.exposure_share_years == pytest.approx(cold.summary.objective["exposure_share_years"], rel=1e-6)


def test_budget_beyond_need_is_dominated(tiny):
    result = frontier(scenario=scenario(tiny, ["USA"]), points=3, budget_max_usd=1e6, workers=1)
    last = result.points[-1]
    assert last.budget_usd == pytest.approx(1e6)
    assert last.exposure_share_years == pytest.approx(1.0, rel=1e-6)
    assert last.dominated


def test_frontier_on_two_workers_matches_one(tiny):
    one = frontier(scenario=scenario(tiny, ["USA"]), points=4, workers=1)
    two = frontier(scenario=scenario(tiny, ["USA"]), points=4, workers=2)
    assert [p.exposure_share_years for p in two.points] == pytest.approx(
        [p.exposure_share_years for p in one.points], rel=1e-7
    )


@pytest.mark.parametrize("points", [0, 1])
def test_frontier_of_zero_or_one_point_is_refused(tiny, points):
    payload = {"scenario": scenario(tiny, ["USA"]).model_dump(mode="json"), "points": points}
    with pytest.raises(ScenarioError) as err:
        run_analysis("frontier", payload)
    assert err.value.issues[0].location == "points"
    assert "greater than or equal to 2" in str(err.value)


def test_knee_index():
    assert knee_index([0, 1, 2, 3, 4], [10, 4, 3, 2.5, 2]) == 1
    assert knee_index([0, 1, 2], [1, 1, 1]) is None  # flat: no knee
    assert knee_index([0, 1], [2, 1]) is None

"""The lexicographic cost phase: from scratch (default) or warm from the exposure optimum."""

from __future__ import annotations

import pytest

from optimizer.run import default_scenario, prepare, solve_prepared


@pytest.mark.parametrize("start", ["cold", "warm"])
def test_cost_phase_start_gives_the_same_plan(start: str) -> None:
    reference = solve_prepared(prepare(default_scenario()))
    scenario = default_scenario()
    scenario.options.cost_phase_start = start
    prepared = prepare(scenario)
    result = solve_prepared(prepared)
    assert result.status == reference.status == "optimal"
    got, want = result.summary.objective, reference.summary.objective
    assert got["exposure_share_years"] == pytest.approx(want["exposure_share_years"], rel=1e-9)
    assert got["cost_usd"] == pytest.approx(want["cost_usd"], rel=1e-7)
    # Warm continues from the exposure basis by primal simplex (it starts primal feasible);
    # cold runs dual simplex after presolve.
    _status, strategy = prepared.solver.highs.getOptionValue("simplex_strategy")
    assert strategy == (4 if start == "warm" else 1)
    assert prepared.solver.highs.getOptionValue("solver")[1] == "simplex"

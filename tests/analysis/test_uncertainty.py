"""Monte Carlo and tornado: reproducible by seed, values inside their ranges, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer import Scenario, ScenarioError
from optimizer.analysis import uncertainty
from optimizer.analysis.uncertainty import _overrides, inverse_cdf, ranged_values
from optimizer.data.registry import get_dataset
from optimizer.scenario import resolve_scenario

from .conftest import scenario


def _numbers(result):
    data = result.model_dump(mode="json")
    data.pop("meta")
    return data


def test_inverse_cdf():
    assert inverse_cdf(0.0, 1, 2, 5, "triangular") == pytest.approx(1)
    assert inverse_cdf(1.0, 1, 2, 5, "triangular") == pytest.approx(5)
    assert inverse_cdf(0.25, 1, 2, 5, "triangular") == pytest.approx(2)  # F(mode) = (2-1)/(5-1)
    assert inverse_cdf(0.5, 1, 2, 5, "uniform") == pytest.approx(3)
    u = np.random.default_rng(0).random(200_000)
    assert inverse_cdf(u, 1, 2, 6, "triangular").mean() == pytest.approx(3.0, abs=0.02)  # (l+m+h)/3


def test_ranged_values_found(ranged):
    rows = ranged_values(get_dataset(str(ranged)))
    assert sorted({r.group for r in rows}) == ["capex", "demand", "demand_growth", "lead_times"]
    lead = next(r for r in rows if r.group == "lead_times")
    assert lead.integer and (lead.low, lead.value, lead.high) == (1, 1, 3)


def test_default_row_override_keeps_country_rows(ranged):
    ds = get_dataset(str(ranged))
    lead = next(r for r in ranged_values(ds) if r.group == "lead_times")
    overrides = _overrides(ds, {lead: 3})
    table = resolve_scenario(Scenario(dataset=str(ranged), coalition=["USA"], overrides=overrides)).dataset[
        "lead_times"
    ]
    years = {(row.stage, row.country): row.lead_time_years for row in table.itertuples()}
    assert years == {("mine", None): 3, ("mine", "USA"): 2, ("magnet", None): 1}


def test_same_seed_same_answer_other_seed_differs(ranged):
    sc = scenario(ranged, ["USA"], budget_usd=200_000, end_year=2032)
    first = uncertainty(scenario=sc, draws=12, seed=5, workers=1, tornado=False)
    again = uncertainty(scenario=sc, draws=12, seed=5, workers=1, tornado=False)
    other = uncertainty(scenario=sc, draws=12, seed=6, workers=1, tornado=False)
    assert _numbers(first) == _numbers(again)
    assert [s.exposure_share_years for s in first.samples] != [s.exposure_share_years for s in other.samples]
    assert first.draws_ok == 12 and first.draws_failed == 0
    p = first.exposure_share_years
    assert p.min <= p.p5 <= p.p50 <= p.p95 <= p.max
    assert set(first.samples[0].quantiles) == {"capex", "demand", "demand_growth", "lead_times"}


def test_tornado_orders_groups_by_swing(ranged):
    sc = scenario(ranged, ["USA"], budget_usd=200_000, end_year=2032)
    result = uncertainty(scenario=sc, draws=2, seed=0, workers=1, parameters=["capex", "demand"])
    assert [b.group for b in result.tornado] == ["capex", "demand"]
    capex = result.tornado[0]
    # cheaper capacity buys more free supply with the same budget
    assert capex.exposure_low < result.base.exposure_share_years < capex.exposure_high
    swings = [b.exposure_swing for b in result.tornado]
    assert swings == sorted(swings, reverse=True)
    assert result.groups == {"capex": 2, "demand": 1}


def test_independent_uniform_draws_stay_in_range(ranged):
    sc = scenario(ranged, ["USA"], budget_usd=200_000)
    result = uncertainty(
        scenario=sc, draws=5, seed=1, workers=1, tornado=False, distribution="uniform", correlation="independent"
    )
    assert result.draws_ok == 5
    assert result.samples[0].quantiles == {}


def test_no_ranges_to_sample(tiny):
    with pytest.raises(ScenarioError) as err:
        uncertainty(scenario=scenario(tiny, ["USA"]), draws=10, workers=1)
    assert err.value.issues[0].location == "scenario.dataset"
    assert "no low-high ranges" in str(err.value)


def test_unknown_parameter_group(ranged):
    with pytest.raises(ScenarioError) as err:
        uncertainty(scenario=scenario(ranged, ["USA"]), draws=10, workers=1, parameters=["capex", "weather"])
    assert err.value.issues[0].location == "parameters.1"
    assert "weather" in str(err.value)

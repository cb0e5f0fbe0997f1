"""Compare: the side-by-side cells agree with direct solves, the ranking, bad input."""

from __future__ import annotations

import pytest

from optimizer import ScenarioError, solve
from optimizer.analysis import compare

from .conftest import scenario

COALITIONS = ["trio", ["USA", "GBR"], ["GBR"]]


@pytest.fixture(scope="module")
def result(trio):
    doubled = scenario(trio, "trio", name="doubled", overrides=[{"table": "demand", "scale": {"demand_t_per_yr": 2.0}}])
    return compare(scenarios=[scenario(trio, "trio", name="base"), doubled], coalitions=COALITIONS, workers=1)


def cell(result, coalition, scenario_name):
    return next(c for c in result.cells if c.coalition == coalition and c.scenario == scenario_name)


def test_cells_by_hand(result):
    assert result.coalitions == ["trio", "USA+GBR", "GBR"]
    assert result.scenarios == ["base", "doubled"]
    assert len(result.cells) == 6
    # base: trio is self-sufficient (120 t/yr for 100), USA+GBR short 15 of 75, GBR has nothing;
    # doubled demand: trio short 80 of 200, USA+GBR 90 of 150
    expected = {
        ("trio", "base"): 0.0,
        ("USA+GBR", "base"): 1.0,
        ("GBR", "base"): 5.0,
        ("trio", "doubled"): 2.0,
        ("USA+GBR", "doubled"): 3.0,
        ("GBR", "doubled"): 5.0,
    }
    for (c, s), e in expected.items():
        assert cell(result, c, s).exposure_share_years == pytest.approx(e, abs=1e-6), (c, s)
    usa_gbr = cell(result, "USA+GBR", "base")
    assert usa_gbr.members == ["USA", "GBR"]
    assert usa_gbr.mean_exposed_share == pytest.approx(0.2, abs=1e-6)
    assert usa_gbr.final_exposed_share == pytest.approx(0.2, abs=1e-6)
    assert [r["year"] for r in usa_gbr.exposed_share_by_year] == [2026, 2027, 2028, 2029, 2030]
    assert usa_gbr.exposed_t == pytest.approx(75.0, abs=1e-4)
    assert usa_gbr.unmet_t == pytest.approx(0.0, abs=1e-6)


def test_ranking(result):
    assert result.ranking == {"base": ["trio", "USA+GBR", "GBR"], "doubled": ["trio", "USA+GBR", "GBR"]}
    assert [cell(result, c, "base").rank for c in ("trio", "USA+GBR", "GBR")] == [1, 2, 3]


def test_a_cell_equals_a_direct_solve(result, trio):
    direct = solve(scenario(trio, ["USA", "GBR"], name="base"))
    assert cell(result, "USA+GBR", "base").exposure_share_years == pytest.approx(
        direct.summary.objective["exposure_share_years"], rel=1e-9
    )


def test_builds_and_payers_are_reported(tiny):
    sc = scenario(tiny, ["USA"], budget_usd=None, build_hosts="coalition")
    result = compare(scenario=sc, coalitions=[["USA"]], workers=1)
    c = result.cells[0]
    assert c.capacity_by_stage == pytest.approx({"mine": 90.0, "magnet": 100.0}, rel=1e-6)
    assert {b["country"] for b in c.builds_by_host} == {"USA"}
    assert sum(c.paid_by.values()) == pytest.approx(c.capex_usd, rel=1e-9)
    assert c.capex_usd == pytest.approx(290_000, rel=1e-6)


def test_adversary_member_empty_and_unknown_coalitions(trio):
    base = scenario(trio, "trio")
    with pytest.raises(ScenarioError) as err:
        compare(scenario=base, coalitions=["trio", ["USA", "CHN"]], workers=1)
    assert err.value.issues[0].location == "coalitions.1"
    assert "adversary CHN" in str(err.value)
    with pytest.raises(ScenarioError) as err:
        compare(scenario=base, coalitions=[[]], workers=1)
    assert err.value.issues[0].location == "coalitions.0"
    assert "empty" in str(err.value)
    with pytest.raises(ScenarioError) as err:
        compare(scenario=base, coalitions=["nato"], workers=1)
    assert err.value.issues[0].location == "coalitions.0"
    assert "unknown coalition preset 'nato'" in str(err.value)


def test_a_bad_scenario_is_named_by_its_index(trio):
    bad = scenario(trio, "trio", export_controls=[{"from_year": 2027, "materials": ["Unobtainium"]}])
    with pytest.raises(ScenarioError) as err:
        compare(scenarios=[scenario(trio, "trio"), bad], coalitions=["trio"], workers=1)
    assert err.value.issues[0].location == "scenarios.1.export_controls.0.materials"

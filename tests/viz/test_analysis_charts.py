"""Analysis charts: drawn from plain tables, and from the analyses' real results."""

from __future__ import annotations

import pandas as pd
import pytest

from optimizer.analysis import compare, frontier, member_value, uncertainty
from optimizer.viz import analysis as va
from optimizer.viz import charts, palette

from .conftest import world_scenario


def test_frontier_chart_from_a_table():
    points = pd.DataFrame(
        {
            "budget_usd": [0.0, 1e9, 2e9, 4e9],
            "exposure": [10.0, 4.0, 3.0, 2.9],
            "cost_usd": [5e9, 5.5e9, 6e9, 7e9],
            "is_knee": [False, True, False, False],
        }
    )
    fig = charts.frontier_chart(points)
    line = next(t for t in fig.data if t.meta["kind"] == "frontier")
    assert list(line.x) == [0.0, 1.0, 2.0, 4.0]
    assert list(line.y) == [10.0, 4.0, 3.0, 2.9]
    knee = next(t for t in fig.data if t.meta["kind"] == "knee")
    assert (knee.x[0], knee.y[0]) == (1.0, 4.0)
    assert knee.marker.color == palette.KNEE
    assert "USD bn" in fig.layout.xaxis.title.text


def test_frontier_chart_from_the_analysis(world):
    result = frontier(scenario=world_scenario(world, budget_usd=None), points=3, workers=1)
    table = va.frontier_points(result)
    solved = [p for p in result.points if p.status == "ok"]
    assert len(table) >= len(solved)
    assert list(table["exposure"][: len(solved)]) == pytest.approx([p.exposure_share_years for p in solved])
    assert table["is_knee"].sum() == sum(p.knee for p in solved)
    fig = charts.frontier_chart(table)
    line = next(t for t in fig.data if t.meta["kind"] == "frontier")
    assert list(line.y) == pytest.approx(list(table.sort_values("budget_usd")["exposure"]))
    # the JSON dict (as `coalition frontier --json` prints it) gives the same table
    pd.testing.assert_frame_equal(va.frontier_points(result.model_dump(mode="json")), table)


def test_shapley_chart_from_the_analysis(world):
    result = member_value(scenario=world_scenario(world), workers=1)
    table = va.shapley_values(result)
    assert set(table["member"]) == {"USA", "CAN"}
    fig = charts.shapley_chart(table, names={"USA": "United States", "CAN": "Canada"})
    bar = next(t for t in fig.data if t.meta["kind"] == "shapley")
    got = dict(zip(bar.y, bar.x, strict=True))
    for m in result.members:
        assert got[{"USA": "United States", "CAN": "Canada"}[m.member]] == pytest.approx(m.shapley)
    assert sum(bar.x) == pytest.approx(result.grand_value, abs=1e-6)
    assert any(t.meta["kind"] == "leave_one_out" for t in fig.data)


def test_shapley_chart_draws_intervals():
    table = pd.DataFrame(
        {"member": ["A", "B"], "shapley": [2.0, 1.0], "ci_low": [1.5, 0.5], "ci_high": [2.5, 1.2], "share": [0.6, 0.4]}
    )
    bar = charts.shapley_chart(table).data[0]
    assert list(bar.x) == [1.0, 2.0]  # smallest first: largest on top
    assert list(bar.error_x.array) == pytest.approx([0.2, 0.5])
    assert list(bar.error_x.arrayminus) == pytest.approx([0.5, 0.5])


def test_fan_and_tornado_from_the_analysis(world):
    result = uncertainty(scenario=world_scenario(world), draws=4, seed=1, workers=1)
    fan = va.fan_percentiles(result)
    assert list(fan.columns) == ["year", "p5", "p50", "p95"]
    fig = charts.fan_chart(fan)
    median = next(t for t in fig.data if t.meta["kind"] == "median")
    assert list(median.y) == pytest.approx([r["p50"] for r in result.exposed_share_by_year])
    band = next(t for t in fig.data if t.meta["kind"] == "band")
    assert list(band.y) == pytest.approx([r["p5"] for r in result.exposed_share_by_year])
    bars, base = va.tornado_bars(result)
    assert base == pytest.approx(result.base.exposure_share_years)
    assert set(bars["parameter"]) == {b.group for b in result.tornado}
    tfig = charts.tornado_chart(bars, base=base)
    low = next(t for t in tfig.data if t.meta["kind"] == "low")
    assert [b + x for b, x in zip([base] * len(low.x), low.x, strict=True)] == pytest.approx(list(low.customdata))
    charts_ = va.analysis_charts(result)
    assert [c.key for c in charts_] == ["fan", "tornado"]


def test_fan_chart_nested_bands():
    table = pd.DataFrame(
        {
            "year": [2026, 2027],
            "p5": [0.1, 0.0],
            "p25": [0.2, 0.1],
            "p50": [0.3, 0.2],
            "p75": [0.4, 0.3],
            "p95": [0.5, 0.4],
        }
    )
    fig = charts.fan_chart(table, base=pd.DataFrame({"year": [2026, 2027], "value": [0.3, 0.25]}))
    bands = [t.meta["q"] for t in fig.data if t.meta["kind"] == "band"]
    assert bands == [(5, 95), (25, 75)]  # outermost first
    assert any(t.meta["kind"] == "base" for t in fig.data)


def test_tornado_sorted_by_swing():
    bars = pd.DataFrame({"parameter": ["capex", "demand", "lead"], "low": [1.0, 0.5, 1.9], "high": [3.0, 4.0, 2.1]})
    fig = charts.tornado_chart(bars, base=2.0)
    assert list(fig.data[0].y) == ["lead", "capex", "demand"]  # largest swing last = on top


def test_compare_feeds_the_exposure_chart(world):
    result = compare(scenario=world_scenario(world), coalitions=["pair", ["USA"]], workers=1)
    table = va.compare_exposure(result)
    assert set(table["label"]) == {c.coalition for c in result.cells}
    fig = charts.exposure_chart(table)
    lines = [t for t in fig.data if t.meta["kind"] == "exposed"]
    assert len(lines) == 2
    for line in lines:
        cell = next(c for c in result.cells if c.coalition == line.meta["label"])
        expected = sorted((r["year"], r["exposed_share"]) for r in cell.exposed_share_by_year)
        assert list(line.y) == pytest.approx([v for _, v in expected])
    # The report of a comparison draws the page's four charts (optimizer/viz/compare.py).
    keys = [c.key for c in va.analysis_charts(result)]
    assert keys == ["exposure_by_year", "cost_capex", "exposed_unmet", "capacity_by_stage"]


def test_load_analysis_rejects_other_json(tmp_path):
    from optimizer.errors import CoalitionError

    path = tmp_path / "x.json"
    path.write_text('{"kind": "nope"}')
    with pytest.raises(CoalitionError, match="not an analysis result"):
        va.load_analysis(path)
    with pytest.raises(CoalitionError, match="no such file"):
        va.load_analysis(tmp_path / "missing.json")

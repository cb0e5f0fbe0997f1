"""Each chart builds from a real result and draws exactly the result's numbers."""

from __future__ import annotations

import json

import pandas as pd
import plotly.graph_objects as go
import pytest

from optimizer.viz import charts, palette
from optimizer.viz.data import (
    as_result,
    capacity_online_table,
    exposure_table,
    flow_table,
    load_result,
    tables_from_summary,
)

from .conftest import world_scenario


def traces(fig: go.Figure, kind: str) -> list:
    return [t for t in fig.data if (t.meta or {}).get("kind") == kind]


def test_exposure_chart_y_equals_exposed_shares(world_result):
    fig = charts.exposure_chart(world_result)
    assert isinstance(fig, go.Figure)
    exposed = traces(fig, "exposed")
    table = world_result.exposure_by_year
    assert len(exposed) == table["material"].nunique()
    for trace in exposed:
        part = table[table["material"] == trace.meta["material"]].sort_values("year")
        assert list(trace.x) == list(part["year"])
        assert list(trace.y) == pytest.approx(list(part["exposed_share"]))
        assert trace.line.color == palette.ADVERSARY
    assert fig.layout.yaxis.tickformat == ".0%"
    assert "share of coalition demand (%)" in fig.layout.yaxis.title.text


def test_exposure_chart_one_line_per_result(world, world_result):
    from optimizer import solve

    richer = solve(world_scenario(world, budget_usd=1e6, name="richer"))
    fig = charts.exposure_chart({"USD 0.1 m": world_result, "USD 1 m": richer})
    exposed = traces(fig, "exposed")
    assert [t.meta["label"] for t in exposed] == ["USD 0.1 m", "USD 1 m"]
    assert exposed[0].line.color != exposed[1].line.color
    assert list(exposed[1].y) == pytest.approx(list(richer.exposure_by_year.sort_values("year")["exposed_share"]))
    # a list of results is labelled by scenario name
    labels = {t.meta["label"] for t in traces(charts.exposure_chart([world_result, richer]), "exposed")}
    assert labels == {"viz_world (pair)", "richer (pair)"}


def test_exposure_chart_shows_targets_and_unmet(world):
    from optimizer import solve

    result = solve(world_scenario(world, targets=[{"from_year": 2028, "max_exposed_share": 0.5}], budget_usd=0))
    fig = charts.exposure_chart(result)
    target = traces(fig, "target")
    assert len(target) == 1
    assert list(target[0].x) == [2028, 2029] and list(target[0].y) == [0.5, 0.5]


def test_exposure_chart_accepts_a_table(world_result):
    table = exposure_table(world_result)
    fig = charts.exposure_chart(table)
    assert list(traces(fig, "exposed")[0].y) == pytest.approx(list(table["exposed_share"]))


def test_result_json_round_trip_draws_the_same(world_result, tmp_path):
    world_result.write(tmp_path / "out")
    loaded = load_result(tmp_path / "out" / "result.json")
    assert loaded.summary.status == "optimal"
    pd.testing.assert_frame_equal(flow_table(loaded), flow_table(world_result), check_dtype=False)
    from_dir = load_result(tmp_path / "out")
    a = traces(charts.exposure_chart(from_dir), "exposed")[0]
    b = traces(charts.exposure_chart(world_result.to_dict()), "exposed")[0]
    assert list(a.y) == pytest.approx(list(b.y))
    assert json.loads(fig_json := charts.exposure_chart(loaded).to_json())  # serialisable
    assert fig_json


def test_capacity_chart_stacks_builds_online(world_result):
    fig = charts.capacity_chart(world_result)
    builds = world_result.builds
    online = capacity_online_table(world_result)
    assert len(online)
    last = max(online["year"])
    by_stage: dict[str, float] = {}
    for trace in fig.data:
        y = dict(zip(trace.x, trace.y, strict=True))
        by_stage[trace.meta["stage"]] = by_stage.get(trace.meta["stage"], 0.0) + y[last]
    expected = builds[builds["online_year"] <= last].groupby("stage")["capacity_t_per_yr"].sum()
    for stage, value in expected.items():
        assert by_stage[stage] == pytest.approx(value)
    assert fig.layout.barmode == "stack"
    assert "t/yr" in fig.layout.yaxis.title.text
    assert "AUS" in {t.name for t in fig.data}  # codes unless names are given
    named = charts.capacity_chart(world_result, names={"AUS": "Australia"})
    assert "Australia" in {t.name for t in named.data}


def test_capex_chart_adds_up_to_capex(world_result):
    fig = charts.capex_by_host_chart(world_result)
    total = sum(sum(t.x) for t in fig.data)
    assert total == pytest.approx(world_result.summary.cost_breakdown_usd["capex"] / 1e9, rel=1e-6)
    assert any("(member)" in tick for t in fig.data for tick in t.y)
    assert "USD bn" in fig.layout.xaxis.title.text


def test_adversary_share_chart(world_result):
    fig = charts.adversary_share_chart(world_result)
    table = world_result.tables["adversary_share_by_stage"]
    for trace in fig.data:
        part = table[(table["stage"] == trace.meta["stage"]) & (table["material"] == trace.meta["material"])]
        assert list(trace.y) == pytest.approx(list(part.sort_values("year")["adversary_share"]))


def test_flow_table_allocates_pools_by_origin(world_result):
    flows = flow_table(world_result)
    ships = world_result.tables["shipments"]
    # every buyer gets exactly what it imported, split over the pool's sellers
    pooled = flows[flows["route"].str.startswith("pool:")]
    bought = pooled.groupby(["destination", "stage", "year", "grade"])["quantity_t"].sum()
    imports = ships[ships["kind"] == "import"].groupby(["destination", "stage", "year", "grade"])["quantity_t"].sum()
    pd.testing.assert_series_equal(bought.sort_index(), imports.sort_index(), check_names=False)
    # every seller's exports are handed out in full (pools clear)
    sold = pooled.groupby(["origin", "stage", "year", "grade"])["quantity_t"].sum()
    exports = ships[ships["kind"] == "export"].groupby(["origin", "stage", "year", "grade"])["quantity_t"].sum()
    pd.testing.assert_series_equal(sold.sort_index(), exports.sort_index(), check_names=False, rtol=1e-6)
    # the lane and the stockpile release are exact
    lane = flows[flows["route"] == "lane"]
    assert set(zip(lane["origin"], lane["destination"], strict=True)) == {("CAN", "USA")}
    stock = flows[flows["route"] == "stockpile"]
    assert stock["quantity_t"].sum() == pytest.approx(12.0)
    assert set(flows["stage_to"]) == {"magnet", "demand"}


def test_sankey_delivers_what_members_receive(world_result):
    deliveries = world_result.tables["deliveries"]
    for year in (2026, 2028):
        fig = charts.sankey_chart(world_result, year=year)
        assert len(fig.data) == 1 and isinstance(fig.data[0], go.Sankey)
        trace = fig.data[0]
        node_hover = list(trace.node.customdata)
        link = trace.link
        hover = list(link.customdata)
        into = {}
        for target, value, text in zip(link.target, link.value, hover, strict=True):
            about = node_hover[target]  # e.g. "USA: demand receives, 60 t"
            if "demand receives" in about and "stockpile" not in text:
                member = about.split(":")[0]
                into[member] = into.get(member, 0.0) + value
        d = deliveries[deliveries["year"] == year].set_index("country")
        for member in ("USA", "CAN"):
            expected = d.at[member, "free_t"] + d.at[member, "exposed_t"]
            assert into.get(member, 0.0) == pytest.approx(expected, rel=1e-6)
        # exposed links are drawn in the adversary colour
        assert any(c == palette.with_alpha(palette.ADVERSARY, 0.45) for c in link.color)
        assert any("proportional" in a.text for a in fig.layout.annotations)


def test_sankey_slider_has_one_step_per_year(world_result):
    fig = charts.sankey_chart(world_result, names={"USA": "United States"})
    years = [t.meta["year"] for t in fig.data]
    assert years == [2026, 2027, 2028, 2029]
    assert [t.visible for t in fig.data] == [False, False, False, True]
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == ["2026", "2027", "2028", "2029"]
    assert steps[0].args[0]["visible"] == [True, False, False, False]
    assert any("United States" in label for label in fig.data[0].node.label)


def test_empty_result_gives_a_message_not_an_error(world_result):
    summary = world_result.summary.model_copy(
        update={"status": "error", "exposure_share_by_year": [], "builds": [], "shipments": []}
    )
    empty = as_result(summary)
    assert tables_from_summary(summary)["builds"].empty
    for fig in (charts.exposure_chart(empty), charts.capacity_chart(empty), charts.sankey_chart(empty, year=2026)):
        assert isinstance(fig, go.Figure)
        assert fig.layout.annotations and not fig.data


def test_palette_is_okabe_ito():
    assert set(palette.OKABE_ITO) == {
        "#E69F00",
        "#56B4E9",
        "#009E73",
        "#F0E442",
        "#0072B2",
        "#D55E00",
        "#CC79A7",
        "#000000",
    }
    assert set(palette.CATEGORICAL) == set(palette.OKABE_ITO)
    assert palette.colour_map(["a", "Other", "b"], other="Other") == {
        "a": palette.CATEGORICAL[0],
        "Other": palette.GREY,
        "b": palette.CATEGORICAL[1],
    }
    assert palette.with_alpha("#0072B2", 0.5) == "rgba(0,114,178,0.5)"

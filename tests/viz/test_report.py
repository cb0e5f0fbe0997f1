"""The HTML report: self-contained, the right numbers, CSV downloads that carry the chart data."""

from __future__ import annotations

import base64
import io
import re

import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from optimizer import get_dataset, solve
from optimizer.viz import report as vr
from optimizer.viz.data import exposure_table, flow_table

from .conftest import world_scenario

PLOTLY_JS = get_plotlyjs()


def outside_plotly_js(document: str) -> str:
    """The document without the embedded plotly.js library (which names URLs in its own code)."""
    assert document.count(PLOTLY_JS) == 1
    return document.replace(PLOTLY_JS, "")


def csv_downloads(document: str) -> dict[str, pd.DataFrame]:
    """Every CSV download link of the page: file name -> table."""
    found = {}
    for name, payload in re.findall(
        r'download="([^"]+\.csv)" href="data:text/csv;charset=utf-8;base64,([^"]+)"', document
    ):
        found[name] = pd.read_csv(io.StringIO(base64.b64decode(payload).decode("utf-8")))
    return found


def assert_self_contained(document: str) -> None:
    rest = outside_plotly_js(document)
    assert document.count("plotly.js v") == 1  # the library's banner: embedded once, not per chart
    assert not re.search(r"<script[^>]+src=", rest)
    assert not re.search(r"<link[^>]+href=", rest)
    assert "@import" not in rest and "url(" not in rest
    assert not re.search(r"(src|href)=\"(https?:)?//", rest)
    assert "http://" not in rest and "https://" not in rest  # no external address at all


@pytest.fixture(scope="module")
def world_report(world_result):
    return vr.build_report(world_result)


def test_report_is_self_contained(world_report):
    document, built = world_report
    assert document.startswith("<!DOCTYPE html>")
    assert_self_contained(document)
    for chart in built:  # every chart is on the page, drawn by inline script
        assert f'id="chart-{chart.key}"' in document
    assert document.count("Plotly.newPlot") == len(built)


def test_report_headline_numbers(world_result, world_report):
    document, _ = world_report
    heads = vr.headlines(world_result)
    assert len(heads) == 1
    h = heads[0]
    shares = world_result.exposure_by_year.sort_values("year")["exposed_share"].tolist()
    assert (h.first_share, h.last_share) == pytest.approx((shares[0], shares[-1]))
    assert f"{shares[0]:.0%}" in document and f"{shares[-1]:.0%}" in document
    assert h.below[0.5] == 2027 and h.below[0.1] is None
    assert "below 50% from <b>2027</b>" in document and "stays above 10% through 2029" in document
    capex = world_result.summary.cost_breakdown_usd["capex"]
    assert vr._bn(capex) in document and vr._bn(capex).startswith("USD ")
    assert vr._bn(world_result.summary.total_cost_usd) in document


def test_money_in_words():
    assert vr._bn(20e9) == "USD 20.00 bn"
    assert vr._bn(45.6e6) == "USD 45.6 m"
    assert vr._bn(100_000) == "USD 100,000"
    assert vr._bn(None) == "-"


def test_year_below():
    shares = pd.Series([0.8, 0.4, 0.6, 0.3, 0.05], index=[2026, 2027, 2028, 2029, 2030])
    assert vr.year_below(shares, 0.5) == 2029  # the dip in 2027 does not last
    assert vr.year_below(shares, 0.1) == 2030
    assert vr.year_below(shares, 0.01) is None
    assert vr.year_below(shares, 0.9) == 2026


def test_csv_downloads_carry_the_chart_data(world_result, world_report):
    document, built = world_report
    downloads = csv_downloads(document)
    assert {f"{c.key}.csv" for c in built} <= set(downloads)
    exposure = downloads["exposure.csv"]
    expected = exposure_table(world_result)
    assert list(exposure["exposed_share"]) == pytest.approx(list(expected["exposed_share"]))
    assert list(exposure["year"]) == list(expected["year"])
    flows = downloads["flows_NdPr.csv"]
    assert flows["quantity_t"].sum() == pytest.approx(flow_table(world_result)["quantity_t"].sum())
    members = downloads["members.csv"]
    assert set(members["member"]) == {"USA", "CAN"}
    sources = downloads["sources.csv"]
    assert list(sources["source"]) == ["test fixture"]


def test_report_sections(world_report):
    document, _ = world_report
    for anchor in ("headline", "bottlenecks", "allies", "assumptions", "sources"):
        assert f'id="{anchor}"' in document
    assert "Canada" in document  # names from the dataset
    assert "USD 100,000 for new capacity over the horizon" in document
    assert "none: trade with the adversary is open" in document
    assert "Download the data of this chart (CSV" in document
    assert 'id="infeasible"' not in document


def test_infeasible_report_explains(world):
    result = solve(world_scenario(world, budget_usd=0, targets=[{"from_year": 2026, "max_exposed_share": 0.0}]))
    assert result.status == "infeasible"
    document, _ = vr.build_report(result)
    assert 'id="infeasible"' in document
    assert "The scenario cannot be met as asked" in document
    assert document.index('id="infeasible"') < document.index('id="headline"')  # the bad news first
    for v in result.summary.violations:
        assert vr._e(v.explanation) in document
    assert "From 2026: at most 0% of each material&#x27;s demand exposed or unmet." in document


def test_report_without_allocation(world_result):
    summary = world_result.summary.model_copy(
        update={
            "status": "error",
            "message": "no allocation: solver status error",
            "exposure_share_by_year": [],
            "builds": [],
            "shipments": [],
            "production": [],
            "adversary_share_by_stage": [],
            "shadow_prices": {},
        }
    )
    document, built = vr.build_report(summary)
    assert built == []
    assert PLOTLY_JS not in document  # nothing to draw, no library
    assert "The solve failed" in document and "no allocation" in document


def test_default_dataset_report(default_result, tmp_path):
    files = vr.write_report(default_result, tmp_path / "report.html", csv_dir=tmp_path / "csv")
    document = files.html.read_text(encoding="utf-8")
    assert_self_contained(document)
    ds = get_dataset("rare_earths")
    sources = vr.source_table(ds)
    rows = int(sources["rows"].sum())
    estimated = int(sources["estimate"].sum())
    assert f"{rows:,} rows in {len(ds.tables)} tables, citing {len(sources):,} distinct sources" in document
    assert f"{estimated:,} rows ({estimated / rows:.0%}) are estimates" in document
    assert "USGS" in document  # the dataset card's main sources
    assert "China bans exports of DyTb (every stage) to the coalition" in document
    assert "Japan" in document and "Bottlenecks" in document
    written = {p.name for p in files.csv}
    assert {"exposure.csv", "flows_NdPr.csv", "flows_DyTb.csv", "capacity_NdPr.csv", "capex_by_host.csv"} <= written
    csv = pd.read_csv(tmp_path / "csv" / "exposure.csv")
    assert list(csv["exposed_share"]) == pytest.approx(list(exposure_table(default_result)["exposed_share"]))
    assert files.html.stat().st_size < 12e6


def test_png_export_or_a_clear_reason(world_result, tmp_path, monkeypatch):
    problem = vr.png_export_problem()
    if problem is None:
        _, built = vr.build_report(world_result)
        paths = vr.write_pngs(built[:1], tmp_path / "png")
        assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.setattr(vr, "png_export_problem", lambda: "PNG export needs the kaleido package and Chromium")
    files = vr.write_report(world_result, tmp_path / "r.html", png_dir=tmp_path / "none")
    assert files.png == [] and "kaleido" in (files.png_skipped or "")
    assert files.html.is_file()


def test_report_with_uncertainty_and_stress(world, world_result):
    from optimizer.analysis import stress, uncertainty

    unc = uncertainty(scenario=world_scenario(world), draws=3, seed=2, workers=1)
    shock = stress(scenario=world_scenario(world), stresses=[{"kind": "demand_surge", "factor": 1.5}], workers=1)
    document, built = vr.build_report(world_result, analyses=[unc, shock.model_dump(mode="json")])
    fan = next(c for c in built if c.key == "fan")
    base = next(t for t in fan.figure.data if t.meta["kind"] == "base")
    mean = world_result.exposure_by_year.groupby("year")["exposed_share"].mean()
    assert list(base.y) == pytest.approx(list(mean))
    assert any(c.key == "tornado" for c in built)
    assert 'id="analyses"' in document and "Stress tests" in document
    assert "stress.csv" in csv_downloads(document)
    assert_self_contained(document)

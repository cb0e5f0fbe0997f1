"""The charts of a comparison (`optimizer.viz.compare`): from a real comparison, as the page's JSON,
as a self-contained HTML file, and from `coalition chart compare`."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from optimizer.analysis import compare
from optimizer.cli import app
from optimizer.viz import charts as vc
from optimizer.viz.compare import compare_charts, compare_figures, load_compare, write_compare_report

from .conftest import world_scenario
from .test_offline import BROWSER, browse

KEYS = ["exposure_by_year", "cost_capex", "exposed_unmet", "capacity_by_stage"]


@pytest.fixture(scope="module")
def traded(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny world with a transport cost, so that a plan's total cost is more than its capex."""
    path = shutil.copytree(world, tmp_path_factory.mktemp("compare") / "traded")
    stages = pd.read_csv(path / "stages.csv")
    stages["transport_usd_per_t"] = 20.0
    stages.to_csv(path / "stages.csv", index=False)
    return path


@pytest.fixture(scope="module")
def compared(traded: Path) -> dict[str, Any]:
    """pair (USA+CAN) and USA alone: both solve, with numbers that differ, so a mix-up would show."""
    result = compare(scenario=world_scenario(traded), coalitions=["pair", ["USA"]], workers=1)
    data = result.model_dump(mode="json")
    assert [c["status"] for c in data["cells"]] == ["ok", "ok"]
    pair, usa = data["cells"]
    for column in ("cost_usd", "capex_usd", "exposed_t"):
        assert pair[column] != pytest.approx(usa[column]) and min(pair[column], usa[column]) > 0, column
    assert pair["cost_usd"] > pair["capex_usd"] * 1.01 and usa["cost_usd"] > usa["capex_usd"] * 1.01
    return data


def values(array: Any) -> list[Any]:
    """A plotly JSON array as a list: plotly writes numeric arrays as base64 ('bdata')."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"])).tolist()
    return list(array)


def cells_of(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["coalition"]: c for c in result["cells"]}


def check_traces(result: dict[str, Any], traces: dict[str, list[dict[str, Any]]]) -> None:
    """Each chart's traces (plotly JSON, by chart key) draw the comparison's own numbers."""
    cells = cells_of(result)
    lines = [t for t in traces["exposure_by_year"] if (t.get("meta") or {}).get("kind") == "exposed"]
    assert sorted(t["meta"]["label"] for t in lines) == sorted(cells)
    for line in lines:
        rows = sorted(cells[line["meta"]["label"]]["exposed_share_by_year"], key=lambda r: r["year"])
        assert values(line["x"]) == [r["year"] for r in rows]
        assert values(line["y"]) == pytest.approx([r["exposed_share"] for r in rows])
    colour = {t["meta"]["label"]: t["line"]["color"] for t in lines}
    assert len(set(colour.values())) == len(cells)

    pairs = (("cost_capex", ("cost_usd", "capex_usd"), 1e9), ("exposed_unmet", ("exposed_t", "unmet_t"), 1.0))
    for key, columns, scale in pairs:
        bars = traces[key]
        assert [b["type"] for b in bars] == ["bar", "bar"]
        for bar, column in zip(bars, columns, strict=True):
            assert values(bar["x"]) == list(cells)
            assert values(bar["y"]) == pytest.approx([cells[c][column] / scale for c in cells])
            assert bar["marker"]["color"] == [colour[c] for c in cells]  # a coalition's colour in every chart

    grouped = traces["capacity_by_stage"]
    assert sorted(t["name"] for t in grouped) == sorted(cells)
    for trace in grouped:
        built = cells[trace["name"]]["capacity_by_stage"]
        drawn = dict(zip(values(trace["x"]), values(trace["y"]), strict=True))
        assert drawn == pytest.approx({vc.stage_label(s): built.get(s, 0.0) for s in vc.STAGE_LABELS})
        assert trace["marker"]["color"] == colour[trace["name"]]


def test_figures_draw_the_comparisons_numbers(compared):
    figures = compare_figures(compared)
    assert [f["key"] for f in figures] == KEYS
    check_traces(compared, {f["key"]: f["figure"]["data"] for f in figures})
    cells = cells_of(compared)
    assert sum(sum(c["capacity_by_stage"].values()) for c in cells.values()) > 0  # the capacity chart has bars

    # each CSV holds exactly the comparison's numbers
    tables = {f["key"]: pd.read_csv(io.StringIO(f["csv"])) for f in figures}
    for f in figures:
        assert f["filename"] == f"{f['key']}.csv" and f["rows"] == len(tables[f["key"]])
    money = tables["cost_capex"].set_index("coalition")
    tonnes = tables["exposed_unmet"].set_index("coalition")
    for name, cell in cells.items():
        assert money.at[name, "cost_usd"] == pytest.approx(cell["cost_usd"])
        assert money.at[name, "capex_usd"] == pytest.approx(cell["capex_usd"])
        assert tonnes.at[name, "exposed_t"] == pytest.approx(cell["exposed_t"])
        assert tonnes.at[name, "unmet_t"] == pytest.approx(cell["unmet_t"])
        built = tables["capacity_by_stage"][tables["capacity_by_stage"]["coalition"] == name]
        assert dict(zip(built["stage"], built["capacity_t_per_yr"], strict=True)) == pytest.approx(
            {s: cell["capacity_by_stage"].get(s, 0.0) for s in vc.STAGE_LABELS}
        )
        shares = tables["exposure_by_year"][tables["exposure_by_year"]["coalition"] == name].sort_values("year")
        assert list(shares["exposed_share"]) == pytest.approx(
            [r["exposed_share"] for r in sorted(cell["exposed_share_by_year"], key=lambda r: r["year"])]
        )


def test_the_model_and_its_json_give_the_same_charts(traded, compared):
    model = compare(scenario=world_scenario(traded), coalitions=["pair", ["USA"]], workers=1)
    from_model = compare_charts(model)
    assert [c.key for c in from_model] == KEYS
    assert [json.loads(c.figure.to_json())["data"] for c in from_model] == [
        f["figure"]["data"] for f in compare_figures(compared)
    ]


def test_labels_name_the_scenario_when_there_are_several(traded):
    scenarios = [world_scenario(traded), world_scenario(traded, name="no_budget", budget_usd=0)]
    result = compare(scenario=scenarios[0], scenarios=scenarios, coalitions=["pair"], workers=1)
    figures = {f["key"]: f for f in compare_figures(result)}
    capex = figures["cost_capex"]["figure"]["data"][1]
    assert values(capex["x"]) == ["pair / viz_world", "pair / no_budget"]
    capex_of = {c.scenario: c.capex_usd for c in result.cells}
    assert capex_of["viz_world"] > 0 and capex_of["no_budget"] == pytest.approx(0, abs=1e-3)
    assert values(capex["y"]) == pytest.approx([capex_of["viz_world"] / 1e9, capex_of["no_budget"] / 1e9])


# --- the HTML file -------------------------------------------------------------------------------


def html_traces(document: str) -> dict[str, list[dict[str, Any]]]:
    """The traces each chart of the HTML file draws, by chart key (the JSON passed to Plotly.newPlot)."""
    found = {}
    for match in re.finditer(r'Plotly\.newPlot\(\s*"chart-([\w-]+)",\s*', document):
        found[match.group(1)], _ = json.JSONDecoder().raw_decode(document, match.end())
    return found


def html_csvs(document: str) -> dict[str, pd.DataFrame]:
    """The CSV download links of the HTML file, decoded, by chart key."""
    link = r'download="([\w-]+)\.csv" href="data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)"'
    links = re.findall(link, document)
    return {key: pd.read_csv(io.BytesIO(base64.b64decode(payload))) for key, payload in links}


def check_document(document: str, result: dict[str, Any]) -> None:
    """A self-contained page with the four charts, drawing the comparison's numbers, and their CSVs."""
    assert document.startswith("<!DOCTYPE html>")
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"https?:", document)  # nothing from the network
    assert "Plotly.newPlot" in document and len(document) > 1_000_000  # plotly.js itself is inside
    traces = html_traces(document)
    assert list(traces) == KEYS
    check_traces(result, traces)
    csvs = html_csvs(document)
    assert list(csvs) == KEYS
    for figure in compare_figures(result):
        pd.testing.assert_frame_equal(csvs[figure["key"]], pd.read_csv(io.StringIO(figure["csv"])))


def test_write_compare_report(compared, tmp_path):
    files = write_compare_report(compared, tmp_path / "out" / "compare.html", csv_dir=tmp_path / "csv")
    document = files.html.read_text(encoding="utf-8")
    check_document(document, compared)
    assert sorted(p.name for p in files.csv) == sorted(f"{k}.csv" for k in KEYS)
    ranking = compared["ranking"]["viz_world"]
    assert f"1. {ranking[0]} · 2. {ranking[1]}" in document


def test_unsolved_cells_are_listed_with_their_message(compared, tmp_path):
    broken = {**compared["cells"][1], "coalition": "broken", "status": "error", "message": "solver <error>"}
    broken |= {k: None for k in ("exposure_share_years", "exposed_t", "unmet_t", "cost_usd", "capex_usd")}
    result = {**compared, "cells": [*compared["cells"], broken]}
    document = write_compare_report(result, tmp_path / "c.html").html.read_text(encoding="utf-8")
    assert "<b>broken</b>: error: solver &lt;error&gt;" in document  # escaped
    assert "broken" not in json.dumps(html_traces(document)["cost_capex"])  # no numbers, no bar


# --- the command ---------------------------------------------------------------------------------


def test_cli_charts_what_coalition_compare_prints(traded, tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(world_scenario(traded).model_dump(mode="json")), encoding="utf-8")
    coalition = [sys.executable, "-m", "optimizer"]
    ran = subprocess.run(
        [*coalition, "compare", "pair", "USA,AUS", "--scenario", str(scenario), "--workers", "1", "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    (tmp_path / "cmp.json").write_text(ran.stdout, encoding="utf-8")
    out = tmp_path / "html" / "cmp.html"
    done = subprocess.run(
        [*coalition, "chart", "compare", str(tmp_path / "cmp.json"), "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stdout.replace("\n", "") and "no network needed" in done.stdout
    check_document(out.read_text(encoding="utf-8"), json.loads(ran.stdout))


def test_cli_reads_the_apis_job_result(compared, tmp_path):
    envelope = {"job_id": "abc", "kind": "compare", "input": {}, "result": compared}  # GET /v1/jobs/{id}/result
    (tmp_path / "job.json").write_text(json.dumps(envelope), encoding="utf-8")
    done = CliRunner().invoke(app, ["chart", "compare", str(tmp_path / "job.json"), "-o", str(tmp_path / "c.html")])
    assert done.exit_code == 0, done.output
    check_document((tmp_path / "c.html").read_text(encoding="utf-8"), compared)
    assert load_compare(tmp_path / "job.json") == compared


def test_cli_errors_are_friendly(tmp_path):
    runner = CliRunner()
    (tmp_path / "frontier.json").write_text('{"kind": "frontier", "points": []}', encoding="utf-8")
    (tmp_path / "broken.json").write_text('{"kind": "compare"', encoding="utf-8")
    for name, message in (
        ("frontier.json", "is not a comparison"),
        ("broken.json", "is not valid JSON"),
        ("missing.json", "no such file"),
    ):
        done = runner.invoke(app, ["chart", "compare", str(tmp_path / name), "--out", str(tmp_path / "x.html")])
        assert done.exit_code == 2, (name, done.output)
        assert message in done.output and "Traceback" not in done.output
    assert not (tmp_path / "x.html").exists()


@pytest.mark.skipif(BROWSER is None, reason="needs Chromium (apt-get install chromium)")
def test_compare_report_renders_offline(compared, tmp_path):
    files = write_compare_report(compared, tmp_path / "compare.html")
    done = browse(tmp_path, "--virtual-time-budget=20000", "--dump-dom", files.html.resolve().as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.findall(r'id="chart-([\w-]+)"', done.stdout) == KEYS
    # plotly.js ran from the file itself (the network is cut off): each chart holds plotly's SVG
    assert done.stdout.count('class="main-svg"') >= len(KEYS)

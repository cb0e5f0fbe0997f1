"""`coalition report`, run as a user runs it: from a scenario, from a result.json, with options."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

from optimizer import solve
from optimizer.cli import app
from optimizer.viz import report as vr

from .conftest import world_scenario

COALITION = [sys.executable, "-m", "optimizer"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COALITION, *args], capture_output=True, text=True, timeout=300)


def scenario_file(world: Path, path: Path) -> Path:
    path.write_text(yaml.safe_dump(world_scenario(world).model_dump(mode="json")), encoding="utf-8")
    return path


def test_report_from_a_scenario_file(world, tmp_path):
    scenario = scenario_file(world, tmp_path / "s.yaml")
    done = cli("report", str(scenario), "--out", str(tmp_path / "r.html"), "--csv", str(tmp_path / "csv"))
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and "no network needed" in done.stdout
    document = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "viz_world" in document and "Plotly.newPlot" in document
    assert (tmp_path / "csv" / "exposure.csv").is_file()
    assert (tmp_path / "csv" / "flows_NdPr.csv").is_file()


def test_report_from_a_result_json(world, tmp_path):
    scenario = scenario_file(world, tmp_path / "s.yaml")
    solved = cli("solve", str(scenario), "--out", str(tmp_path / "out"))
    assert solved.returncode == 0, solved.stderr
    done = cli("report", str(tmp_path / "out" / "result.json"), "--out", str(tmp_path / "from_json.html"))
    assert done.returncode == 0, done.stderr
    assert "solving" not in done.stderr  # read, not solved again
    from_dir = cli("report", str(tmp_path / "out"), "--out", str(tmp_path / "from_dir.html"), "--year", "2027")
    assert from_dir.returncode == 0, from_dir.stderr
    document = (tmp_path / "from_json.html").read_text(encoding="utf-8")
    exposure = json.loads((tmp_path / "out" / "result.json").read_text())["exposure_share_by_year"]
    assert f"{exposure[0]['exposed_share']:.0%}" in document
    one_year = (tmp_path / "from_dir.html").read_text(encoding="utf-8")
    assert "coalition demand (t\\u002fyr), 2027" in one_year  # plotly escapes "/" in its JSON
    assert one_year.count('"type":"sankey"') == 1  # one year, no slider
    assert (tmp_path / "from_json.html").read_text(encoding="utf-8").count('"type":"sankey"') == 4  # 2026-2029


def test_report_errors_are_friendly(world, tmp_path):
    missing = cli("report", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "r.html"))
    assert missing.returncode == 2
    assert "error:" in missing.stderr and "Traceback" not in missing.stderr
    result = solve(world_scenario(world))
    result.write(tmp_path / "out")
    runner = CliRunner()
    outside = runner.invoke(app, ["report", str(tmp_path / "out"), "--out", str(tmp_path / "r.html"), "--year", "1999"])
    assert outside.exit_code == 2
    assert "outside the scenario's horizon" in outside.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "frontier"')
    broken = runner.invoke(app, ["report", str(tmp_path / "out"), "--analysis", str(bad)])
    assert broken.exit_code == 2 and "not valid JSON" in broken.output


def test_png_skipped_with_a_reason(world, tmp_path, monkeypatch):
    solve(world_scenario(world)).write(tmp_path / "out")
    monkeypatch.setattr(vr, "png_export_problem", lambda: "PNG export needs the kaleido package and Chromium.")
    result = CliRunner().invoke(
        app, ["report", str(tmp_path / "out"), "--out", str(tmp_path / "r.html"), "--png", str(tmp_path / "png")]
    )
    assert result.exit_code == 0, result.output
    assert "PNG export skipped" in result.output and "kaleido" in result.output
    assert (tmp_path / "r.html").is_file()


def test_report_with_analyses(world, tmp_path):
    from optimizer.analysis import frontier, member_value

    scenario = world_scenario(world)
    solve(scenario).write(tmp_path / "out")
    (tmp_path / "frontier.json").write_text(
        json.dumps(frontier(scenario=scenario, points=3, workers=1).model_dump(mode="json"))
    )
    (tmp_path / "value.json").write_text(json.dumps(member_value(scenario=scenario, workers=1).model_dump(mode="json")))
    result = CliRunner().invoke(
        app,
        [
            "report",
            str(tmp_path / "out"),
            "--out",
            str(tmp_path / "r.html"),
            "--analysis",
            str(tmp_path / "frontier.json"),
            "--analysis",
            str(tmp_path / "value.json"),
            "--csv",
            str(tmp_path / "csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    document = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="chart-frontier"' in document and 'id="chart-shapley"' in document
    assert (tmp_path / "csv" / "frontier.csv").is_file() and (tmp_path / "csv" / "shapley.csv").is_file()

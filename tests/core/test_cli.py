"""The `coalition` command line, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

import optimizer

COALITION = [sys.executable, "-m", "optimizer"]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COALITION, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def write_scenario(path: Path, **fields: object) -> Path:
    path.write_text(yaml.safe_dump(fields), encoding="utf-8")
    return path


def test_solve_json_matches_the_python_call(tiny: Path, tmp_path: Path) -> None:
    fields = {"dataset": str(tiny), "coalition": ["USA"], "start_year": 2026, "end_year": 2027, "budget_usd": 100000}
    scenario = write_scenario(tmp_path / "s.yaml", **fields)
    done = cli("solve", str(scenario), "--json")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    direct = optimizer.solve(fields).to_dict()
    assert printed["status"] == direct["status"] == "optimal"
    assert printed["objective"]["exposure_share_years"] == direct["objective"]["exposure_share_years"]
    assert printed["exposure_share_by_year"] == direct["exposure_share_by_year"]
    assert printed["builds"] == direct["builds"]
    for key in (
        "status",
        "objective",
        "exposure_share_by_year",
        "total_cost_usd",
        "builds",
        "unmet_demand",
        "shadow_prices",
        "model",
    ):
        assert key in printed
    assert printed["model"]["solver"] == "highs" and printed["model"]["variables"] > 0


def test_solve_human_summary_and_out_dir(tiny: Path, tmp_path: Path) -> None:
    scenario = write_scenario(
        tmp_path / "s.yaml", dataset=str(tiny), coalition=["USA"], start_year=2026, end_year=2027, budget_usd=100000
    )
    done = cli("solve", str(scenario), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "Exposed share of coalition demand" in done.stdout
    assert "New capacity" in done.stdout
    assert (tmp_path / "out" / "result.json").is_file()
    builds = pd.read_csv(tmp_path / "out" / "builds.csv")
    # US and Australian magnet plants cost the same: either host is optimal
    magnets = builds[builds.stage == "magnet"]
    assert magnets["capacity_t_per_yr"].sum() == pytest.approx(36.6667, abs=1e-3)
    assert set(magnets["online_year"]) == {2027}


def test_bad_scenario_exits_2_without_traceback(tiny: Path, tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path / "s.yaml", dataset=str(tiny), coalition=["USA", "ZZZ"])
    done = cli("solve", str(scenario))
    assert done.returncode == 2
    assert "scenario.coalition" in done.stderr and "ZZZ" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_malformed_yaml_exits_2_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("coalition: [USA\n  budget: {", encoding="utf-8")
    done = cli("solve", str(path))
    assert done.returncode == 2 and "not valid YAML" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_scenario_name(tmp_path: Path) -> None:
    done = cli("solve", "no_such_scenario")
    assert done.returncode == 2 and "neither a scenario file nor a shipped scenario" in done.stderr


def test_dataset_validate_lists_problems(tmp_path: Path) -> None:
    from factory import BASE, write_dataset

    bad = write_dataset(tmp_path / "bad", capacity=[dict(BASE["capacity"][0], country="XYZ")])
    done = cli("dataset", "validate", str(bad))
    assert done.returncode == 2
    assert "capacity.csv, row 2, column 'country'" in done.stderr


def test_export_writes_an_mps_that_highs_solves_to_the_same_exposure(tiny: Path, tmp_path: Path) -> None:
    import highspy

    fields = {"dataset": str(tiny), "coalition": ["USA"], "start_year": 2026, "end_year": 2027, "budget_usd": 100000}
    scenario = write_scenario(tmp_path / "s.yaml", **fields)
    mps = tmp_path / "m.mps"
    done = cli("export", str(scenario), "--mps", str(mps))
    assert done.returncode == 0, done.stderr
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(mps))
    h.run()
    # the exported LP is the exposure phase: its optimum is the library's exposure
    library = optimizer.solve(fields).summary.objective["exposure_share_years"]
    assert abs(h.getInfo().objective_function_value - library) < 1e-5
    assert abs(library - (200 - 36.6667) / 100) < 1e-5

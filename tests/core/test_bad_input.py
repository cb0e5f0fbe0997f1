"""Bad scenarios and datasets are refused before any model is built, naming the field."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from optimizer import DatasetError, Scenario, ScenarioError, solve
from optimizer.data.loader import load_dataset_dir

from factory import BASE, row, write_dataset


def run(tiny: Path, **fields: object) -> None:
    solve({"dataset": str(tiny), "coalition": ["USA"], "start_year": 2026, "end_year": 2027, **fields})


@pytest.mark.parametrize(
    ("fields", "location", "words"),
    [
        ({"coalition": "no_such_preset"}, "scenario.coalition", "unknown coalition preset"),
        ({"coalition": ["USA", "XYZ"]}, "scenario.coalition", "unknown country codes"),
        ({"coalition": ["usa"]}, "scenario.coalition", "ISO 3166"),
        ({"coalition": []}, "scenario.coalition", "empty"),
        ({"adversaries": ["USA"]}, "scenario.adversaries", "both an adversary and a coalition member"),
        ({"start_year": 2030, "end_year": 2026}, "scenario", "start_year 2030 is after end_year 2026"),
        ({"budget_usd": -1}, "scenario.budget_usd", "greater than or equal to 0"),
        ({"budget_usd": math.nan}, "scenario.budget_usd", "finite number"),
        ({"budget_usd": math.inf}, "scenario.budget_usd", "finite number"),
        ({"member_budgets_usd": {"JPN": 1e9}}, "scenario.member_budgets_usd.JPN", "not a coalition member"),
        (
            {"export_controls": [{"from_year": 2026, "stages": ["smelting"]}]},
            "scenario.export_controls.0.stages",
            "unknown",
        ),
        (
            {"export_controls": [{"from_year": 2026, "materials": ["Li"]}]},
            "scenario.export_controls.0.materials",
            "unknown",
        ),
        (
            {"targets": [{"from_year": 2050, "max_exposed_share": 0.2}]},
            "scenario.targets.0.from_year",
            "outside the horizon",
        ),
        (
            {"overrides": [{"table": "capex", "where": {"stage": "smelting"}, "set": {"capex_usd_per_t_yr": 1}}]},
            "scenario.overrides.0.where",
            "matches no row",
        ),
        ({"overrides": [{"table": "nope", "set": {"x": 1}}]}, "scenario.overrides.0.table", "unknown table"),
        ({"overrides": [{"table": "capex", "set": {"price": 1}}]}, "scenario.overrides.0.set.price", "no column"),
        (
            {"overrides": [{"table": "capex", "where": {"stage": "mine"}, "set": {"capex_usd_per_t_yr": -5}}]},
            "scenario.overrides",
            "below the minimum",
        ),
        (
            {"overrides": [{"table": "capex", "where": {"stage": "mine"}, "set": {"material": "Li"}}]},
            "scenario.overrides",
            "not in materials.csv",
        ),
        ({"dataset": "/no/such/dir"}, "scenario.dataset", "does not exist"),
        ({"unknown_field": 1}, "scenario.unknown_field", "unknown field"),
        ({"options": {"time_limit_s": 0}}, "scenario.options.time_limit_s", "greater than 0"),
    ],
)
def test_bad_scenario_names_the_field(tiny: Path, fields: dict, location: str, words: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        run(tiny, **fields)
    text = str(caught.value)
    assert location in text and words in text, text


def test_dataset_name_cannot_escape_the_datasets_directory() -> None:
    with pytest.raises(ScenarioError) as caught:
        solve({"dataset": "../../etc"}, allow_paths=False)
    assert "scenario.dataset" in str(caught.value)


def test_scenario_file_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="does not exist"):
        Scenario.from_file(tmp_path / "missing.yaml")


def _refused(path: Path) -> str:
    with pytest.raises(DatasetError) as caught:
        load_dataset_dir(path)
    return str(caught.value)


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "d")
    frame = pd.read_csv(path / "capacity.csv").drop(columns=["unit"])
    frame.to_csv(path / "capacity.csv", index=False)
    assert "capacity.csv, column 'unit': missing column" in _refused(path)


def test_unit_mismatch_is_named(tmp_path: Path) -> None:
    cap = [dict(BASE["capacity"][0], unit="kt/yr")]
    text = _refused(write_dataset(tmp_path / "d", capacity=cap))
    assert "capacity.csv, row 2, column 'unit'" in text and "kt/yr" in text


def test_negative_capacity_is_named(tmp_path: Path) -> None:
    cap = [dict(BASE["capacity"][0], capacity_t_per_yr=-5)]
    assert "capacity.csv, row 2, column 'capacity_t_per_yr': -5.0 is below the minimum" in _refused(
        write_dataset(tmp_path / "d", capacity=cap)
    )


def test_unknown_country_is_named(tmp_path: Path) -> None:
    cap = [*BASE["capacity"], dict(BASE["capacity"][0], country="XYZ")]
    assert "capacity.csv, row 5, column 'country': 'XYZ' is not in countries.csv" in _refused(
        write_dataset(tmp_path / "d", capacity=cap)
    )


def test_duplicate_key_is_named(tmp_path: Path) -> None:
    cap = [*BASE["capacity"], BASE["capacity"][0]]
    assert "capacity.csv, row 5, column 'country': duplicate key" in _refused(
        write_dataset(tmp_path / "d", capacity=cap)
    )


def test_broken_stage_chain_is_refused(tmp_path: Path) -> None:
    stages = [BASE["stages"][0], dict(BASE["stages"][1], order=3)]
    assert "break the chain" in _refused(write_dataset(tmp_path / "d", stages=stages))


def test_estimate_without_range_is_refused(tmp_path: Path) -> None:
    capex = [dict(BASE["capex"][0], reliability="estimate"), BASE["capex"][1]]
    assert "capex.csv, row 2, column 'low': an estimate needs both low and high" in _refused(
        write_dataset(tmp_path / "d", capex=capex)
    )


def test_nan_and_text_in_numbers_are_refused(tmp_path: Path) -> None:
    cap = [dict(BASE["capacity"][0], capacity_t_per_yr="nan"), dict(BASE["capacity"][1], capacity_t_per_yr="lots")]
    text = _refused(write_dataset(tmp_path / "d", capacity=cap))
    assert "row 2, column 'capacity_t_per_yr': 'nan' is not a finite number" in text
    assert "row 3, column 'capacity_t_per_yr': 'lots' is not a number" in text


def test_missing_table_is_named(tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "d")
    (path / "yields.csv").unlink()
    assert "yields.csv: file is missing" in _refused(path)


def test_missing_yield_for_a_stage_is_refused(tmp_path: Path) -> None:
    assert "no yield for stage 'magnet'" in _refused(write_dataset(tmp_path / "d", yields=[]))


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    cap = [dict(BASE["capacity"][0], capacity_t_per_yr=-1), dict(BASE["capacity"][1], year="soon")]
    text = _refused(write_dataset(tmp_path / "d", capacity=cap))
    assert "row 2" in text and "row 3" in text


def test_row_helper_builds_valid_rows(tmp_path: Path) -> None:
    reserves = [row("reserves", country="AUS", reserves_t=10, unit="t REO")]
    assert load_dataset_dir(write_dataset(tmp_path / "d", reserves=reserves))["reserves"]["country"].tolist() == ["AUS"]

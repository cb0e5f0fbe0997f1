"""The benchmark generator writes valid datasets, and the benchmark script runs end to end."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.data.loader import load_dataset_dir
from optimizer.scenario import resolve_scenario
from optimizer.schemas import Scenario

ROOT = Path(__file__).resolve().parents[2]


def _load_synthetic():
    # By path: tests/ is on sys.path (conftest), where `benchmarks` is this test package.
    spec = importlib.util.spec_from_file_location("bench_synthetic", ROOT / "benchmarks" / "synthetic.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


synthetic = _load_synthetic()
ADVERSARY, SIZES, country_codes, write_synthetic = (
    synthetic.ADVERSARY,
    synthetic.SIZES,
    synthetic.country_codes,
    synthetic.write_synthetic,
)


def test_country_codes_look_like_iso3() -> None:
    codes = country_codes(60)
    assert codes[0] == ADVERSARY
    assert len(set(codes)) == 60
    assert all(len(c) == 3 and c.isalpha() and c.isupper() for c in codes)


@pytest.mark.parametrize("size", sorted(SIZES))
def test_synthetic_dataset_is_valid(tmp_path: Path, size: str) -> None:
    scenario_file = write_synthetic(tmp_path / size, size, seed=1)
    dataset = load_dataset_dir(tmp_path / size)  # raises DatasetError on any invalid cell
    shape = SIZES[size]
    assert len(dataset.countries) == shape.countries
    assert len(dataset.materials) == shape.materials
    scenario = Scenario.from_file(scenario_file)
    assert scenario.end_year - scenario.start_year + 1 == shape.years
    resolved = resolve_scenario(scenario)
    assert resolved.adversaries == [ADVERSARY]
    assert abs(len(resolved.coalition) - shape.countries / 3) <= 1
    assert not dataset["stockpiles"].empty and not dataset["lanes"].empty and not dataset["projects"].empty
    # The adversary holds most of every stage's capacity.
    capacity = dataset["capacity"]
    for (_stage, _material), rows in capacity.groupby(["stage", "material"]):
        share = rows.loc[rows["country"] == ADVERSARY, "capacity_t_per_yr"].sum() / rows["capacity_t_per_yr"].sum()
        assert share > 0.5


def test_generator_is_seeded(tmp_path: Path) -> None:
    write_synthetic(tmp_path / "a", "small", seed=3)
    write_synthetic(tmp_path / "b", "small", seed=3)
    for name in ("capacity.csv", "demand.csv", "lanes.csv"):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()


def test_benchmark_script_runs_on_small(tmp_path: Path) -> None:
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "run.py"),
        "--sizes",
        "small",
        "--repeat",
        "1",
        "--quick",
        "--out",
        str(tmp_path),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=110, check=False)
    assert done.returncode == 0, done.stderr
    assert "| small |" in done.stdout
    report = json.loads((tmp_path / "quick.json").read_text())
    size = report["sections"]["sizes"]["small"]
    pipeline, alone = size["pipeline"][0], size["highs"][0]
    assert pipeline["status"] == "optimal"
    # HiGHS alone solved the very same two phases to the same objectives.
    for ours, theirs in zip(pipeline["runs"], alone["runs"], strict=True):
        assert ours["objective"] == pytest.approx(theirs["objective"], rel=1e-6)
    sweep = report["sections"]["sweeps"]["small"]
    assert [p["status"] for p in sweep["warm"]["points"]] == ["optimal"] * 5

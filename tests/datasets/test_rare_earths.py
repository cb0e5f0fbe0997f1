"""The default dataset reproduces the published picture and carries its sources."""

from __future__ import annotations

import subprocess
import sys

import pytest

from optimizer import Scenario, get_dataset
from optimizer.data.calibration import calibration_report, stage_shares
from optimizer.data.registry import datasets_root

DATASET = "rare_earths"


@pytest.fixture(scope="module")
def dataset():
    return get_dataset(DATASET)


@pytest.mark.parametrize(
    ("stage", "published", "tolerance"),
    [("mine", 69.0, 1.0), ("separation", 90.0, 3.0), ("magnet", 90.0, 4.0)],
)
def test_china_share_matches_published_figures(dataset, stage: str, published: float, tolerance: float) -> None:
    shares = stage_shares(dataset, "NdPr")
    china = shares[(shares.stage == stage) & (shares.country == "CHN")]["share_pct"].iloc[0]
    assert abs(china - published) <= tolerance, f"{stage}: CHN {china:.1f}% vs published {published}%"


def test_calibration_report_passes(dataset) -> None:
    report = calibration_report(dataset)
    assert report["within_tolerance"].all(), report


def test_every_row_carries_its_source(dataset) -> None:
    for name, table in dataset.tables.items():
        assert table["source"].map(bool).all(), name
        assert table["source_year"].between(1990, 2030).all(), name
        assert set(table["reliability"]) <= {"primary", "secondary", "estimate"}, name


def test_coverage(dataset) -> None:
    required = {
        "USA",
        "CAN",
        "GBR",
        "AUS",
        "NZL",
        "JPN",
        "KOR",
        "FRA",
        "DEU",
        "EST",
        "IND",
        "VNM",
        "MYS",
        "MMR",
        "LAO",
        "BRA",
        "GRL",
        "ZAF",
        "TZA",
        "NGA",
        "THA",
        "MDG",
        "RUS",
        "CHN",
        "ROW",
    }
    assert required <= set(dataset.countries)
    presets = dataset.coalition_presets()
    for name in ("five_eyes", "five_eyes_japan", "quad", "g7", "eu", "msp", "broad_allied"):
        assert name in presets and "CHN" not in presets[name]
    assert {"NdPr", "DyTb"} <= set(dataset.materials)
    assert dataset.stages == ["mine", "separation", "metal_alloy", "magnet"]


@pytest.mark.parametrize("name", ["baseline", "status_quo_2030", "heavy_controls_2025", "total_ban_2026", "default"])
def test_named_scenarios_parse(name: str) -> None:
    scenario = Scenario.from_file(datasets_root() / DATASET / "scenarios" / f"{name}.yaml")
    assert scenario.dataset == DATASET


def test_report_command_prints_calibration() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "optimizer", "dataset", "report", DATASET], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "Calibration against published figures" in done.stdout
    assert "USGS" in done.stdout

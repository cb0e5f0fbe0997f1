"""Small worlds and their solved results for the chart and report tests.

`world`: USA and CAN (coalition "pair"), AUS a third party, CHN the adversary; two stages
(mine -> magnet), one material. AUS and CAN mine a little, USA makes some magnets, a lane
carries CAN ore to the USA, the USA holds a small stockpile, and a USD 100k budget buys some
new capacity, so the result has builds, pooled trade, a lane, stock releases, exposed and
free supply. 2026-2029.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from optimizer import Scenario, solve
from optimizer.run import Result

from factory import PROV, write_dataset


def r(**values: Any) -> dict[str, Any]:
    return {**PROV, **values}


def cap(code: str, stage: str, t: float, low: Any = "", high: Any = "") -> dict[str, Any]:
    return r(
        country=code, stage=stage, material="NdPr", capacity_t_per_yr=t, unit="t/yr", year=2024, low=low, high=high
    )


def demand(code: str, t: float) -> dict[str, Any]:
    return r(
        country=code,
        material="NdPr",
        base_year=2026,
        demand_t_per_yr=t,
        unit="t/yr",
        growth_rate=0,
        growth_low="",
        growth_high="",
        low="",
        high="",
    )


def country(code: str, name: str) -> dict[str, Any]:
    return r(iso3=code, name=name, groups="", capex_factor=1)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(
        tmp_path_factory.mktemp("vizworld"),
        countries=[
            country("USA", "United States"),
            country("CAN", "Canada"),
            country("AUS", "Australia"),
            country("CHN", "China"),
        ],
        coalitions=[r(name="pair", members="USA;CAN", description="two members")],
        capacity=[
            cap("CHN", "mine", 1000),
            cap("CHN", "magnet", 1000),
            cap("AUS", "mine", 20),
            cap("CAN", "mine", 15),
            cap("USA", "magnet", 40),
        ],
        capex=[
            r(stage="mine", material="NdPr", capex_usd_per_t_yr=1000, low=500, high=3000),
            r(stage="magnet", material="NdPr", capex_usd_per_t_yr=2000, low=1000, high=4000),
        ],
        lanes=[
            r(origin="CAN", destination="USA", stage="mine", material="", transport_usd_per_t=0, tariff_rate=0),
        ],
        stockpiles=[r(country="USA", material="NdPr", initial_stock_t=12, capacity_t=20, holding_usd_per_t_yr=1)],
        demand=[demand("USA", 60), demand("CAN", 40)],
        reserves=[r(country="USA", reserves_t=1e6, unit="t REO"), r(country="CAN", reserves_t=1e6, unit="t REO")],
    )


def world_scenario(path: Path, **changes: Any) -> Scenario:
    data = {
        "name": "viz_world",
        "description": "A tiny world for the chart tests.",
        "dataset": str(path),
        "coalition": "pair",
        "start_year": 2026,
        "end_year": 2029,
        "budget_usd": 100_000,
    }
    return Scenario.from_data({**data, **changes})


@pytest.fixture(scope="session")
def world_result(world: Path) -> Result:
    result = solve(world_scenario(world))
    assert result.status == "optimal", result.summary.message
    return result


@pytest.fixture(scope="session")
def default_result() -> Result:
    """The default scenario of the default dataset (one solve, ~5 s)."""
    result = solve()
    assert result.status == "optimal"
    return result


def chromium() -> str | None:
    """A headless-capable Chromium on this machine, if any."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None

"""Tiny worlds whose analysis answers are known by hand.

Every world has yields of 1, no opex or transport cost, one material (NdPr), two stages
(mine -> magnet), China (CHN) as the adversary with ample capacity, and a 5-year horizon
2026-2030 unless a test says otherwise. Exposure E is in share-years: with constant demand D,
one year fully exposed is 1, so exposing x t/yr for 5 years costs 5x/D.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from optimizer import Scenario

from factory import PROV, write_dataset


def r(**values: Any) -> dict[str, Any]:
    """A row with provenance."""
    return {**PROV, **values}


def country(code: str) -> dict[str, Any]:
    return r(iso3=code, name=code, groups="", capex_factor=1)


def cap(code: str, stage: str, t: float, low: Any = "", high: Any = "") -> dict[str, Any]:
    return r(
        country=code, stage=stage, material="NdPr", capacity_t_per_yr=t, unit="t/yr", year=2024, low=low, high=high
    )


def demand(code: str, t: float, growth: float = 0.0, **extra: Any) -> dict[str, Any]:
    values = {"growth_low": "", "growth_high": "", "low": "", "high": "", **extra}
    return r(
        country=code, material="NdPr", base_year=2026, demand_t_per_yr=t, unit="t/yr", growth_rate=growth, **values
    )


CHINA = [cap("CHN", "mine", 1000), cap("CHN", "magnet", 1000)]


def scenario(path: Path, coalition: Any, **changes: Any) -> Scenario:
    """A 2026-2030 scenario on a tiny world, no budget unless given."""
    data = {"dataset": str(path), "coalition": coalition, "start_year": 2026, "end_year": 2030, "budget_usd": 0}
    return Scenario.from_data({**data, **changes})


@pytest.fixture(scope="session")
def trio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """USA and CAN each mine and make 60 t/yr of magnets; GBR has nothing; demand 50/25/25.
    Third parties sell the coalition nothing (a non-member's plants do not help).

    With budget 0: v({USA}) = v({CAN}) = 5 x 60/100 = 3, v({USA, CAN}) = 5, GBR is a null player,
    so phi = (2.5, 2.5, 0) and v(N) = 5.
    """
    return write_dataset(
        tmp_path_factory.mktemp("trio"),
        countries=[country(c) for c in ("USA", "CAN", "GBR", "AUS", "CHN")],
        coalitions=[r(name="trio", members="USA;CAN;GBR", description="three members")],
        capacity=[
            *CHINA,
            cap("USA", "mine", 60),
            cap("USA", "magnet", 60),
            cap("CAN", "mine", 60),
            cap("CAN", "magnet", 60),
        ],
        demand=[demand("USA", 50), demand("CAN", 25), demand("GBR", 25)],
        reserves=[],
        parameters=[
            r(name="default_third_party_share", value=0, unit="fraction", low="", high=""),
            r(name="unmet_penalty", value=10, unit="ratio", low="", high=""),
        ],
    )


@pytest.fixture(scope="session")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """USA mines 100 t/yr, CAN makes 100 t/yr of magnets; only together is supply free.

    v({USA}) = v({CAN}) = 0 (a CHN mine or magnet plant taints the product), v(N) = 5: phi = (2.5, 2.5).
    """
    return write_dataset(
        tmp_path_factory.mktemp("chain"),
        countries=[country(c) for c in ("USA", "CAN", "CHN")],
        coalitions=[r(name="pair", members="USA;CAN", description="miner and magnet maker")],
        capacity=[*CHINA, cap("USA", "mine", 100), cap("CAN", "magnet", 100)],
        demand=[demand("USA", 60), demand("CAN", 40)],
        reserves=[],
    )


@pytest.fixture(scope="session")
def supplier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """USA makes magnets (100 t/yr) from ore; AUS (third party) mines 10 t/yr; a project adds
    20 t/yr of USA mining from 2028. Demand 100 t/yr, budget 0.

    Free supply: 10 t/yr in 2026-27, 30 t/yr in 2028-30 -> E = 2 x 0.9 + 3 x 0.7 = 3.9.
    """
    return write_dataset(
        tmp_path_factory.mktemp("supplier"),
        countries=[country(c) for c in ("USA", "AUS", "CHN")],
        capacity=[*CHINA, cap("USA", "magnet", 100), cap("AUS", "mine", 10)],
        projects=[
            r(
                project="Mountain Pass II",
                country="USA",
                stage="mine",
                material="NdPr",
                capacity_t_per_yr=20,
                unit="t/yr",
                online_year=2028,
                status="committed",
                low="",
                high="",
            )
        ],
        demand=[demand("USA", 100)],
        reserves=[],
    )


@pytest.fixture(scope="session")
def ranged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The base tiny world with low-high ranges on capex, a default lead time and demand."""
    return write_dataset(
        tmp_path_factory.mktemp("ranged"),
        capex=[
            r(stage="mine", material="NdPr", capex_usd_per_t_yr=1000, low=500, high=3000),
            r(stage="magnet", material="NdPr", capex_usd_per_t_yr=2000, low=1000, high=4000),
        ],
        lead_times=[
            r(stage="mine", country="", lead_time_years=1, low=1, high=3),
            r(stage="mine", country="USA", lead_time_years=2, low="", high=""),
            r(stage="magnet", country="", lead_time_years=1, low="", high=""),
        ],
        demand=[demand("USA", 100, growth=0.05, growth_low=0.0, growth_high=0.1, low=80, high=120)],
    )


@pytest.fixture(scope="session")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Thirteen members (too many for the exact Shapley method); only USA has assets."""
    codes = ["USA", *(f"X{chr(65 + i)}{chr(65 + i)}" for i in range(12))]
    return write_dataset(
        tmp_path_factory.mktemp("crowd"),
        countries=[*(country(c) for c in codes), country("CHN")],
        coalitions=[r(name="crowd", members=";".join(codes), description="thirteen")],
        capacity=[*CHINA, cap("USA", "mine", 50), cap("USA", "magnet", 50)],
        demand=[demand(c, 10) for c in codes],
        reserves=[],
    )


def stage(name: str, order: int, product: str, price: float) -> dict[str, Any]:
    return r(
        stage=name,
        order=order,
        product=product,
        max_utilisation=1,
        ramp_up="",
        transport_usd_per_t=0,
        price_usd_per_t=price,
    )


@pytest.fixture(scope="session")
def tariffed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cost game by hand. CHN magnets pay a 10% tariff on a USD 1,000/t price (USD 100/t);
    ore, plants and transport cost nothing. USA mines and makes 60 t/yr of magnets (free supply);
    CAN makes 40 t/yr of magnets from CHN ore (exposed, but untariffed). Demand: USA 100 t/yr,
    5 years (500 t; 1 share-year = 100 t). Third parties sell nothing, budget 0, unmet penalty 10.

    Exposure game: E(empty) = E({CAN}) = 5, E({USA}) = E(N) = 2, so CAN is a null player.
    Cost game, exposure <= 5 share-years, i.e. exposed t + 10 x unmet t <= 500 (USD):
    C(empty) = 500 t x 100 = 50,000; C({CAN}) = 300 t x 100 = 30,000 (everything is exposed: no
    room to leave demand unmet); C({USA}): 300 t free, the other 200 t exposed (X) or unmet (U),
    X + 10 U <= 500 gives U = 33.33, X = 166.67, so 16,666.67; C(N) = 0 (60 free + 40 CAN).
    v = (USA 33,333.33, CAN 20,000, N 50,000): phi_USA = (33,333.33 + 30,000) / 2 = 31,666.67,
    phi_CAN = (20,000 + 16,666.67) / 2 = 18,333.33.
    """
    return write_dataset(
        tmp_path_factory.mktemp("tariffed"),
        countries=[country(c) for c in ("USA", "CAN", "CHN")],
        coalitions=[r(name="duo", members="USA;CAN", description="a miner-maker and a magnet maker")],
        stages=[stage("mine", 1, "ore", 0), stage("magnet", 2, "magnets", 1000)],
        tariffs=[
            r(importer="USA", origin="CHN", stage="magnet", tariff_rate=0.1),
            r(importer="CAN", origin="CHN", stage="magnet", tariff_rate=0.1),
        ],
        capacity=[*CHINA, cap("USA", "mine", 60), cap("USA", "magnet", 60), cap("CAN", "magnet", 40)],
        demand=[demand("USA", 100)],
        reserves=[],
        parameters=[
            r(name="default_third_party_share", value=0, unit="fraction", low="", high=""),
            r(name="unmet_penalty", value=10, unit="ratio", low="", high=""),
        ],
    )

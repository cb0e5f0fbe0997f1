"""Tiny hand-solvable datasets written to a temporary directory.

The base world: three countries (USA in the coalition, AUS a third party, CHN the
adversary), two stages (mine -> magnet), one material, yields of 1, no opex, no
transport cost. Tests change single tables to make LPs whose optimum is known by hand.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.data.dictionary import load_dictionary

PROV = {"source": "test fixture", "source_year": 2025, "reliability": "primary", "notes": ""}


def _rows(*rows: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**row, **PROV} for row in rows]


BASE: dict[str, list[dict[str, Any]]] = {
    "countries": _rows(
        {"iso3": "USA", "name": "United States", "groups": "five_eyes", "capex_factor": 1},
        {"iso3": "AUS", "name": "Australia", "groups": "five_eyes", "capex_factor": 1},
        {"iso3": "CHN", "name": "China", "groups": "", "capex_factor": 1},
    ),
    "coalitions": _rows({"name": "usa_only", "members": "USA", "description": "just the US"}),
    "stages": _rows(
        {
            "stage": "mine",
            "order": 1,
            "product": "ore",
            "max_utilisation": 1,
            "ramp_up": "",
            "transport_usd_per_t": 0,
            "price_usd_per_t": 0,
        },
        {
            "stage": "magnet",
            "order": 2,
            "product": "magnets",
            "max_utilisation": 1,
            "ramp_up": "",
            "transport_usd_per_t": 0,
            "price_usd_per_t": 0,
        },
    ),
    "materials": _rows(
        {"material": "NdPr", "description": "light", "ore_share": 1, "ore_share_low": "", "ore_share_high": ""}
    ),
    "yields": _rows({"stage": "magnet", "material": "NdPr", "yield_t_per_t": 1, "low": "", "high": ""}),
    "capacity": _rows(
        {
            "country": "CHN",
            "stage": "mine",
            "material": "NdPr",
            "capacity_t_per_yr": 1000,
            "unit": "t/yr",
            "year": 2024,
            "low": "",
            "high": "",
        },
        {
            "country": "CHN",
            "stage": "magnet",
            "material": "NdPr",
            "capacity_t_per_yr": 1000,
            "unit": "t/yr",
            "year": 2024,
            "low": "",
            "high": "",
        },
        {
            "country": "AUS",
            "stage": "mine",
            "material": "NdPr",
            "capacity_t_per_yr": 10,
            "unit": "t/yr",
            "year": 2024,
            "low": "",
            "high": "",
        },
    ),
    "projects": [],
    "capex": _rows(
        {"stage": "mine", "material": "NdPr", "capex_usd_per_t_yr": 1000, "low": "", "high": ""},
        {"stage": "magnet", "material": "NdPr", "capex_usd_per_t_yr": 2000, "low": "", "high": ""},
    ),
    "opex": [],
    "lead_times": _rows(
        {"stage": "mine", "country": "", "lead_time_years": 1, "low": "", "high": ""},
        {"stage": "magnet", "country": "", "lead_time_years": 1, "low": "", "high": ""},
    ),
    "build_limits": [],
    "reserves": _rows({"country": "USA", "reserves_t": 1e6, "unit": "t REO"}),
    "demand": _rows(
        {
            "country": "USA",
            "material": "NdPr",
            "base_year": 2026,
            "demand_t_per_yr": 100,
            "unit": "t/yr",
            "growth_rate": 0,
            "growth_low": "",
            "growth_high": "",
            "low": "",
            "high": "",
        }
    ),
    "lanes": [],
    "tariffs": [],
    "third_party": [],
    "stockpiles": [],
    "parameters": _rows(
        {"name": "mine_life_years", "value": 20, "unit": "yr", "low": "", "high": ""},
        {"name": "default_third_party_share", "value": 1, "unit": "fraction", "low": "", "high": ""},
        {"name": "unmet_penalty", "value": 10, "unit": "ratio", "low": "", "high": ""},
    ),
}


def write_dataset(path: Path, **tables: list[dict[str, Any]]) -> Path:
    """Write the base world with some tables replaced (rows get provenance added)."""
    path.mkdir(parents=True, exist_ok=True)
    specs = load_dictionary()
    data = copy.deepcopy(BASE)
    for name, rows in tables.items():
        data[name] = [{**PROV, **row} for row in rows]
    for name, spec in specs.items():
        frame = pd.DataFrame(data[name], columns=list(spec.columns))
        frame.to_csv(path / f"{name}.csv", index=False)
    return path


def row(table: str, **values: Any) -> dict[str, Any]:
    """A row for `table` with every column present (blank unless given)."""
    spec = load_dictionary()[table]
    return {col: values.get(col, PROV.get(col, "")) for col in spec.columns}

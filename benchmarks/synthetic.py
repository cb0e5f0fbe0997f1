"""Seeded synthetic datasets for the benchmarks, shaped like the rare-earth dataset.

One adversary (CHN) holds most of the capacity at every stage; about a third of the
countries form the coalition and have demand; the rest are third parties. There are
announced projects, reserves for some countries, a few explicit lanes per country, a few
tariffs, third-party terms and stockpiles for some members. The scenario bans the
adversary's exports of the last material from the first year (with re-exports, as the
default scenario does) and gives a capital budget that binds.

    python benchmarks/synthetic.py medium /tmp/medium     # writes the CSVs + scenario.yaml
"""

from __future__ import annotations

import argparse
import itertools
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from optimizer.data.dictionary import load_dictionary

ADVERSARY = "CHN"
COALITION_PRESET = "bench"
START_YEAR = 2026
STAGES = ("mine", "separation", "metal_alloy", "magnet")
STAGE_TRANSPORT = (800.0, 200.0, 150.0, 100.0)  # USD/t through the market pool
STAGE_PRICE = (20_000.0, 56_000.0, 80_000.0, 100_000.0)  # USD/t, values ad-valorem tariffs
STAGE_LEAD = (8, 4, 2, 3)  # years
STAGE_CAPEX = (150_000.0, 180_000.0, 30_000.0, 240_000.0)  # USD per t/yr for the first material
STAGE_OPEX = (14_000.0, 26_000.0, 6_000.0, 42_000.0)  # USD/t for the first material
STAGE_BUILD_LIMIT = (0.25, 0.15, 0.12, 0.10)  # share of the coalition's base demand per year
PROVENANCE = {"source": "synthetic benchmark generator", "source_year": 2025, "reliability": "secondary", "notes": ""}


@dataclass(frozen=True)
class Size:
    """Dimensions of one synthetic dataset."""

    countries: int
    materials: int
    years: int


SIZES: dict[str, Size] = {
    "small": Size(countries=10, materials=1, years=10),
    "medium": Size(countries=30, materials=3, years=15),
    "large": Size(countries=60, materials=5, years=25),
}


def country_codes(n: int) -> list[str]:
    """The adversary CHN followed by n-1 fake ISO3-like codes AAA, AAB, ... (never CHN)."""
    fake = ("".join(t) for t in itertools.product(string.ascii_uppercase, repeat=3))
    return [ADVERSARY, *itertools.islice((c for c in fake if c != ADVERSARY), n - 1)]


def material_names(n: int) -> list[str]:
    """Material stream names (valid against the dictionary's pattern)."""
    return ["NdPr", "DyTb", "SmCo", "Ga", "Ge", *[f"M{i}" for i in range(6, n + 1)]][:n]


def _build_tables(size: Size, seed: int) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Rows of every table (provenance added later) and the scenario mapping."""
    rng = np.random.default_rng(seed)
    codes = country_codes(size.countries)
    others = codes[1:]
    members = others[: max(1, round(size.countries / 3))]
    third = [c for c in others if c not in members]
    materials = material_names(size.materials)
    # Material m is rarer and dearer than the one before (like DyTb against NdPr).
    scale = {m: 10.0 ** -(i % 3) for i, m in enumerate(materials)}  # coalition demand size
    price_factor = {m: 1.0 + 3.0 * (i % 3) for i, m in enumerate(materials)}
    base_demand = {m: 20_000.0 * scale[m] * size.countries / 30 for m in materials}  # coalition, t/yr
    end_year = START_YEAR + size.years - 1

    t: dict[str, list[dict[str, Any]]] = {name: [] for name in load_dictionary()}
    t["countries"] = [
        {
            "iso3": c,
            "name": f"Country {c}",
            "groups": COALITION_PRESET if c in members else "",
            "capex_factor": round(float(rng.uniform(0.7, 1.4)), 3),
        }
        for c in codes
    ]
    t["coalitions"] = [{"name": COALITION_PRESET, "members": ";".join(members), "description": "Synthetic coalition"}]
    t["stages"] = [
        {
            "stage": s,
            "order": i + 1,
            "product": f"{s} product",
            "max_utilisation": 0.85,
            "ramp_up": "0.3;0.7;1",
            "transport_usd_per_t": STAGE_TRANSPORT[i],
            "price_usd_per_t": STAGE_PRICE[i],
        }
        for i, s in enumerate(STAGES)
    ]
    t["materials"] = [
        {"material": m, "description": f"synthetic stream {m}", "ore_share": round(0.2 / price_factor[m] ** 2, 4)}
        for m in materials
    ]
    t["yields"] = [
        {"stage": s, "material": m, "yield_t_per_t": round(float(rng.uniform(0.9, 0.98)), 3)}
        for s in STAGES[1:]
        for m in materials
    ]
    for i, s in enumerate(STAGES):
        for m in materials:
            # The adversary: about 85-90% of the capacity of every stage.
            t["capacity"].append(_capacity(ADVERSARY, s, m, 2.5 * base_demand[m] * float(rng.uniform(0.9, 1.1))))
            for c in others:
                if rng.random() < 0.25:
                    t["capacity"].append(_capacity(c, s, m, base_demand[m] * float(rng.uniform(0.02, 0.12))))
            t["capex"].append({"stage": s, "material": m, "capex_usd_per_t_yr": STAGE_CAPEX[i] * price_factor[m] ** 2})
            t["opex"].append({"stage": s, "material": m, "opex_usd_per_t": STAGE_OPEX[i] * price_factor[m]})
            t["build_limits"].append(
                {"stage": s, "material": m, "max_build_t_per_yr": round(STAGE_BUILD_LIMIT[i] * base_demand[m], 3)}
            )
    for k, c in enumerate(others):
        if k % 3 == 0:
            s, m = STAGES[int(rng.integers(len(STAGES)))], materials[int(rng.integers(len(materials)))]
            t["projects"].append(
                {
                    "project": f"Project {c}-{k}",
                    "country": c,
                    "stage": s,
                    "material": m,
                    "capacity_t_per_yr": round(base_demand[m] * float(rng.uniform(0.05, 0.2)), 3),
                    "unit": "t/yr",
                    "online_year": int(rng.integers(START_YEAR, START_YEAR + 7)),
                    "status": ["operating_ramp", "under_construction", "committed", "announced"][k % 4],
                }
            )
    t["lead_times"] = [{"stage": s, "country": "", "lead_time_years": STAGE_LEAD[i]} for i, s in enumerate(STAGES)]
    t["lead_times"] += [{"stage": "mine", "country": c, "lead_time_years": 12} for c in third[::7]]
    t["reserves"] = [{"country": ADVERSARY, "reserves_t": 44e6, "unit": "t REO"}]
    t["reserves"] += [
        {"country": c, "reserves_t": round(float(rng.uniform(0.3e6, 20e6))), "unit": "t REO"}
        for c in others
        if rng.random() < 0.4
    ]
    shares = rng.dirichlet(np.ones(len(members)))
    t["demand"] = [
        {
            "country": q,
            "material": m,
            "base_year": START_YEAR - 1,
            "demand_t_per_yr": round(base_demand[m] * float(shares[j]), 3),
            "unit": "t/yr",
            "growth_rate": round(float(rng.uniform(0.03, 0.09)), 4),
        }
        for j, q in enumerate(members)
        for m in materials
    ]
    lanes: dict[tuple[str, str, str], dict[str, Any]] = {}
    for c in codes:
        for _ in range(3 if c != ADVERSARY else 2):
            destination = members[int(rng.integers(len(members)))]
            stage = STAGES[int(rng.integers(len(STAGES)))]
            if destination != c:
                lanes[(c, destination, stage)] = {
                    "origin": c,
                    "destination": destination,
                    "stage": stage,
                    "material": "",
                    "transport_usd_per_t": round(STAGE_TRANSPORT[STAGES.index(stage)] * 0.6, 1),
                    "tariff_rate": 0.0,
                }
    t["lanes"] = list(lanes.values())
    t["tariffs"] = [{"importer": q, "origin": ADVERSARY, "stage": "magnet", "tariff_rate": 0.25} for q in members]
    t["third_party"] = [
        {
            "country": c,
            "max_share_to_coalition": round(float(rng.uniform(0.2, 0.8)), 3),
            "new_build_offtake_share": 0.0 if k % 5 == 4 else 1.0,
        }
        for k, c in enumerate(third)
        if k % 2 == 0
    ]
    t["stockpiles"] = [
        {
            "country": q,
            "material": m,
            "initial_stock_t": round(0.02 * base_demand[m], 3),
            "capacity_t": round(0.05 * base_demand[m], 3),
            "holding_usd_per_t_yr": 2000.0 * price_factor[m],
        }
        for q in members[::2]
        for m in materials
    ]
    t["parameters"] = [
        {"name": "mine_life_years", "value": 20, "unit": "yr"},
        {"name": "default_third_party_share", "value": 0.4, "unit": "fraction"},
        {"name": "default_new_build_offtake", "value": 1, "unit": "fraction"},
        {"name": "unmet_penalty", "value": 10, "unit": "ratio"},
    ]
    # A budget that binds: about a third of what replacing the adversary's supply of the
    # coalition's base-year demand at every stage would cost.
    replace = sum(base_demand[m] / 0.85 * STAGE_CAPEX[i] * price_factor[m] ** 2 for i in range(4) for m in materials)
    scenario = {
        "name": f"synthetic-{size.countries}c-{size.materials}m-{size.years}y",
        "description": f"Synthetic benchmark (seed {seed}): {size}",
        "coalition": COALITION_PRESET,
        "adversaries": [ADVERSARY],
        "start_year": START_YEAR,
        "end_year": end_year,
        "budget_usd": float(round(replace / 3, -6)),
        "build_hosts": "coalition_and_third_parties",
        "export_controls": [
            {
                "from_year": START_YEAR if len(materials) > 1 else START_YEAR + 2,
                "materials": [materials[-1]],
                "max_share": 0.0 if len(materials) > 1 else 0.3,
                "include_reexports": True,
            }
        ],
        "objective": {"mode": "lexicographic"},
    }
    return t, scenario


def _capacity(country: str, stage: str, material: str, value: float) -> dict[str, Any]:
    return {
        "country": country,
        "stage": stage,
        "material": material,
        "capacity_t_per_yr": round(value, 3),
        "unit": "t/yr",
        "year": 2024,
    }


def write_synthetic(path: Path, size: Size | str, seed: int = 0) -> Path:
    """Write a synthetic dataset into `path` (CSVs + scenarios/default.yaml); return the scenario file."""
    size = SIZES[size] if isinstance(size, str) else size
    path = Path(path).resolve()
    path.mkdir(parents=True, exist_ok=True)
    tables, scenario = _build_tables(size, seed)
    for name, spec in load_dictionary().items():
        rows = [{**PROVENANCE, **row} for row in tables[name]]
        pd.DataFrame(rows, columns=list(spec.columns)).to_csv(path / f"{name}.csv", index=False)
    scenario_file = path / "scenarios" / "default.yaml"
    scenario_file.parent.mkdir(exist_ok=True)
    scenario_file.write_text(yaml.safe_dump({**scenario, "dataset": str(path)}, sort_keys=False), encoding="utf-8")
    return scenario_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("size", choices=sorted(SIZES))
    parser.add_argument("directory", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(write_synthetic(args.directory, args.size, args.seed))


if __name__ == "__main__":
    main()

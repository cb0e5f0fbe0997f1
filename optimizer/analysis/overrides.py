"""Scenario overrides the analyses generate.

They remove a member's assets, cut a country off, or set single rows to drawn values.

Everything an analysis changes in the data travels as ordinary scenario `overrides`, so a
sweep item stays a plain scenario that any worker can rebuild.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from optimizer.data.dictionary import load_dictionary
from optimizer.data.loader import Dataset
from optimizer.errors import ScenarioError
from optimizer.schemas import MAX_LIST

Cell = str | int | float | None
OverrideDict = dict[str, Any]


def provenance(note: str) -> dict[str, Cell]:
    """Provenance columns for a row an analysis adds."""
    return {"source": "analysis", "source_year": 2025, "reliability": "primary", "notes": note}


def _cell(value: Any) -> Cell:
    """A typed table cell as an override value (numpy scalars to Python, NaN to None)."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float | str):
        return value
    return str(value)


def _key_where(table: pd.DataFrame, key: tuple[str, ...], index: Any) -> dict[str, Cell]:
    where = {}
    for col in key:
        value = _cell(table.at[index, col])
        if value is not None:
            where[col] = value
    return where


def _matches(table: pd.DataFrame, where: dict[str, Cell]) -> list[Any]:
    mask = pd.Series(True, index=table.index)
    for col, value in where.items():
        mask &= table[col].map(_cell).astype(str) == str(value)
    return list(table.index[mask])


def row_overrides(dataset: Dataset, table_name: str, updates: dict[Any, dict[str, Cell]]) -> list[OverrideDict]:
    """Overrides that set the given cells of single rows (row index -> column -> value).

    A row is chosen by its key columns. A key with a blank part (e.g. the every-country
    default row of lead_times) also matches the more specific rows, so those are written
    after it, each back to its own (possibly also updated) value: general rows first.
    """
    if not updates:
        return []
    table = dataset[table_name]
    key = load_dictionary()[table_name].key
    final: dict[Any, dict[str, Cell]] = {i: dict(cells) for i, cells in updates.items()}
    for i, cells in updates.items():
        for j in _matches(table, _key_where(table, key, i)):
            if j == i:
                continue
            restore = final.setdefault(j, {})
            for col in cells:
                restore.setdefault(col, _cell(table.at[j, col]))

    def blanks(i: Any) -> int:
        return sum(1 for col in key if _cell(table.at[i, col]) is None)

    order = sorted(final, key=lambda i: (-blanks(i), list(table.index).index(i)))
    return [{"table": table_name, "where": _key_where(table, key, i), "set": final[i]} for i in order]


def _rows_of(dataset: Dataset, table: str, column: str, value: str) -> bool:
    frame = dataset[table]
    return bool((frame[column] == value).any())


def no_build_sites(dataset: Dataset, country: str, note: str) -> list[OverrideDict]:
    """Forbid new capacity of every stage and material in `country` (build limit 0)."""
    limits = dataset["build_limits"]
    overrides: list[OverrideDict] = []
    have = set()
    if (limits["country"] == country).any():
        overrides.append(
            {
                "table": "build_limits",
                "where": {"country": country},
                "scale": {"max_build_t_per_yr": 0.0, "low": 0.0, "high": 0.0},
            }
        )
        have = {(r.stage, r.material) for r in limits.itertuples() if r.country == country}
    rows = [
        {
            "stage": s,
            "material": m,
            "country": country,
            "max_build_t_per_yr": 0.0,
            "low": None,
            "high": None,
            **provenance(note),
        }
        for s in dataset.stages
        for m in dataset.materials
        if (s, m) not in have
    ]
    if rows:
        overrides.append({"table": "build_limits", "add_rows": rows})
    return overrides


def remove_assets(dataset: Dataset, country: str, note: str) -> list[OverrideDict]:
    """Take away a country's plants, projects, reserves, stockpile and build sites.

    Its demand (if a member) stays: the coalition still has to supply it.
    """
    overrides: list[OverrideDict] = []
    zero_range = {"low": 0.0, "high": 0.0}
    for table, scale in (
        ("capacity", {"capacity_t_per_yr": 0.0, **zero_range}),
        ("projects", {"capacity_t_per_yr": 0.0, **zero_range}),
        ("reserves", {"reserves_t": 0.0}),
        ("stockpiles", {"initial_stock_t": 0.0, "capacity_t": 0.0}),
    ):
        if _rows_of(dataset, table, "country", country):
            overrides.append({"table": table, "where": {"country": country}, "scale": scale})
    overrides += no_build_sites(dataset, country, note)
    return overrides


def third_party_cutoff(dataset: Dataset, country: str, note: str) -> list[OverrideDict]:
    """A third party sells nothing to the coalition and hosts no coalition build."""
    columns = load_dictionary()["third_party"].columns
    zero = {"max_share_to_coalition": 0.0}
    if "new_build_offtake_share" in columns:  # the coalition cannot count on new plants there
        zero["new_build_offtake_share"] = 0.0
    overrides: list[OverrideDict] = []
    if _rows_of(dataset, "third_party", "country", country):
        overrides.append(
            {"table": "third_party", "where": {"country": country}, "scale": {**zero, "low": 0.0, "high": 0.0}}
        )
    else:
        row = {"country": country, **zero, "low": None, "high": None, **provenance(note)}
        overrides.append({"table": "third_party", "add_rows": [row]})
    return overrides + no_build_sites(dataset, country, note)


def check_count(existing: int, added: list[OverrideDict], location: str) -> None:
    """Refuse when the scenario would carry more overrides than a scenario allows."""
    if existing + len(added) > MAX_LIST:
        raise ScenarioError(
            f"this needs {len(added)} dataset overrides on top of the scenario's {existing};"
            f" a scenario holds at most {MAX_LIST}: vary fewer parameter groups",
            location=location,
        )

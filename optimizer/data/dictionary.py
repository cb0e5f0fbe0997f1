"""The data dictionary: which tables a dataset has, their columns, types and units."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SCHEMA_PATH = Path(__file__).with_name("schema.yaml")


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a table as the dictionary declares it."""

    name: str
    type: str
    required: bool = True
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple[str, ...] | None = None
    pattern: str | None = None
    references: str | None = None
    range_of: bool = False
    description: str = ""


@dataclass(frozen=True)
class TableSpec:
    """One table: its columns, its key and whether provenance columns are required."""

    name: str
    description: str
    key: tuple[str, ...]
    columns: dict[str, ColumnSpec]
    provenance: bool
    min_rows: int = 0
    value_column: str | None = field(default=None)

    @property
    def low_high(self) -> tuple[str, str] | None:
        """Columns that must bracket the value column on estimated rows."""
        if self.value_column is None:
            return None
        if self.value_column == "ore_share":
            return ("ore_share_low", "ore_share_high")
        return ("low", "high")


def _column(name: str, raw: dict[str, Any]) -> ColumnSpec:
    enum = raw.get("enum")
    return ColumnSpec(
        name=name,
        type=raw.get("type", "str"),
        required=raw.get("required", True),
        unit=raw.get("unit"),
        minimum=raw.get("min"),
        maximum=raw.get("max"),
        enum=tuple(str(value) for value in enum) if enum else None,
        pattern=raw.get("pattern"),
        references=raw.get("references"),
        range_of=bool(raw.get("range_of", False)),
        description=raw.get("description", ""),
    )


@cache
def load_dictionary(path: Path = SCHEMA_PATH) -> dict[str, TableSpec]:
    """Read schema.yaml into TableSpecs (cached: the dictionary ships with the package)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser: 30x faster
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # a safe loader either way
    provenance = {name: _column(name, spec) for name, spec in raw["provenance_columns"].items()}
    tables: dict[str, TableSpec] = {}
    for name, spec in raw["tables"].items():
        columns = {col: _column(col, col_spec) for col, col_spec in spec["columns"].items()}
        if spec.get("provenance", False):
            columns.update(provenance)
        value_column = next((c.name for c in columns.values() if c.range_of), None)
        tables[name] = TableSpec(
            name=name,
            description=spec.get("description", ""),
            key=tuple(spec["key"]),
            columns=columns,
            provenance=spec.get("provenance", False),
            min_rows=spec.get("min_rows", 0),
            value_column=value_column,
        )
    return tables

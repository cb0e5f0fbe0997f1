"""Load a dataset directory and validate every cell against the data dictionary.

Load -> validate (per cell, per table) -> cross-table checks. Nothing is dropped silently:
every problem is collected with its file, row and column, and reported together.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.data.dictionary import ColumnSpec, TableSpec, load_dictionary
from optimizer.errors import DatasetError, DatasetIssue

HEADER_ROWS = 1  # CSV row numbers count the header as row 1


@dataclass
class Dataset:
    """A validated dataset: one typed DataFrame per table, plus where it came from."""

    name: str
    path: Path
    tables: dict[str, pd.DataFrame]
    overridden: list[str] = field(default_factory=list)

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]

    @property
    def countries(self) -> list[str]:
        """ISO3 codes in file order."""
        return list(self.tables["countries"]["iso3"])

    @property
    def stages(self) -> list[str]:
        """Stage names in chain order."""
        return list(self.tables["stages"].sort_values("order")["stage"])

    @property
    def materials(self) -> list[str]:
        """Material names in file order."""
        return list(self.tables["materials"]["material"])

    def parameter(self, name: str, default: float) -> float:
        """A scalar from the parameters table, or the default when absent."""
        params = self.tables["parameters"]
        hit = params.loc[params["name"] == name, "value"]
        return float(hit.iloc[0]) if len(hit) else default

    def coalition_presets(self) -> dict[str, list[str]]:
        """Preset name -> member ISO3 codes."""
        presets = self.tables["coalitions"]
        return {row.name: list(row.members) for row in presets.itertuples(index=False)}

    def copy(self) -> Dataset:
        """A deep copy whose tables can be changed without touching this one."""
        return Dataset(
            self.name,
            self.path,
            {name: df.copy(deep=True) for name, df in self.tables.items()},
            list(self.overridden),
        )


def is_blank(value: Any) -> bool:
    """True for None, NaN and empty or whitespace-only text."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def coerce_cell(value: Any, spec: ColumnSpec) -> tuple[Any, str | None]:
    """Convert one raw cell to the column's type; return (value, problem or None)."""
    if is_blank(value):
        if spec.required:
            return None, "is empty but required"
        return ([] if spec.type == "list" else None), None
    text = str(value).strip()
    converted: Any
    if spec.type == "int":
        try:
            number = float(text)
        except ValueError:
            return None, f"'{text}' is not a whole number"
        if not math.isfinite(number) or number != int(number):
            return None, f"'{text}' is not a whole number"
        converted = int(number)
    elif spec.type == "float":
        try:
            converted = float(text)
        except ValueError:
            return None, f"'{text}' is not a number"
        if not math.isfinite(converted):
            return None, f"'{text}' is not a finite number"
    elif spec.type == "list":
        items = value if isinstance(value, list) else [part.strip() for part in text.split(";")]
        converted = [str(item) for item in items if str(item).strip()]
    else:
        converted = text
    for item in converted if spec.type == "list" else [converted]:
        problem = _check_bounds(item, spec)
        if problem:
            return None, problem
    return converted, None


def _check_bounds(item: Any, spec: ColumnSpec) -> str | None:
    if spec.minimum is not None and isinstance(item, int | float) and item < spec.minimum:
        return f"{item} is below the minimum {spec.minimum}" + (f" {spec.unit}" if spec.unit else "")
    if spec.maximum is not None and isinstance(item, int | float) and item > spec.maximum:
        return f"{item} is above the maximum {spec.maximum}" + (f" {spec.unit}" if spec.unit else "")
    if spec.enum is not None and str(item) not in spec.enum:
        return f"'{item}' is not one of {list(spec.enum)}"
    if spec.pattern is not None and not re.fullmatch(spec.pattern, str(item)):
        return f"'{item}' does not match the pattern {spec.pattern}"
    return None


def validate_table(raw: pd.DataFrame, spec: TableSpec, file: str) -> tuple[pd.DataFrame, list[DatasetIssue]]:
    """Check one table's columns and cells; return the typed table and the problems found."""
    issues: list[DatasetIssue] = []
    present = list(raw.columns)
    unknown = [col for col in present if col not in spec.columns]
    for col in unknown:
        issues.append(DatasetIssue(file, f"unknown column (allowed: {sorted(spec.columns)})", None, col))
    missing = [name for name in spec.columns if name not in present]
    for col in missing:
        unit = spec.columns[col].unit
        hint = f" ({spec.columns[col].type}{', ' + unit if unit else ''})"
        issues.append(DatasetIssue(file, f"missing column{hint}", None, col))
    if missing or unknown:
        return pd.DataFrame(columns=list(spec.columns)), issues
    if len(raw) < spec.min_rows:
        issues.append(DatasetIssue(file, f"needs at least {spec.min_rows} data rows, has {len(raw)}"))

    typed: dict[str, list[Any]] = {name: [] for name in spec.columns}
    for index, record in enumerate(raw.to_dict(orient="records")):
        row_number = index + 1 + HEADER_ROWS
        for name, col_spec in spec.columns.items():
            value, problem = coerce_cell(record.get(name), col_spec)
            if problem:
                issues.append(DatasetIssue(file, problem, row_number, name))
            typed[name].append(value)
    table = _frame(typed, spec)
    if issues:
        return table, issues
    issues.extend(_check_key(table, spec, file))
    issues.extend(_check_estimates(table, spec, file))
    return table, issues


def _frame(typed: dict[str, list[Any]], spec: TableSpec) -> pd.DataFrame:
    """Build the typed table from validated cells.

    Text stays `object` (an empty cell is None, not NaN, whatever pandas' string inference
    would do); complete numeric columns become numeric dtypes.
    """
    table = pd.DataFrame(typed, columns=list(spec.columns), dtype=object)
    for name, col in spec.columns.items():
        values = typed[name]
        if col.type == "float" and all(v is not None for v in values):
            table[name] = pd.Series(values, dtype="float64")
        elif col.type == "int" and all(v is not None for v in values):
            table[name] = pd.Series(values, dtype="int64")
    return table


def _check_key(table: pd.DataFrame, spec: TableSpec, file: str) -> Iterable[DatasetIssue]:
    key = list(spec.key)
    as_key = table[key].astype(str)
    duplicated = as_key.duplicated(keep="first")
    for index in table.index[duplicated]:
        values = ", ".join(f"{k}={table.at[index, k]}" for k in key)
        yield DatasetIssue(file, f"duplicate key ({values})", int(index) + 1 + HEADER_ROWS, key[0])


def _check_estimates(table: pd.DataFrame, spec: TableSpec, file: str) -> Iterable[DatasetIssue]:
    bounds = spec.low_high
    if bounds is None or "reliability" not in table:
        return
    low_col, high_col = bounds
    value_col = spec.value_column
    for index, row in table.iterrows():
        row_number = int(index) + 1 + HEADER_ROWS
        low, high, value = row[low_col], row[high_col], row[value_col]
        if row["reliability"] == "estimate" and (low is None or high is None):
            yield DatasetIssue(file, f"an estimate needs both {low_col} and {high_col}", row_number, low_col)
            continue
        if low is not None and value is not None and low > value:
            yield DatasetIssue(file, f"{low_col} {low} is above the value {value}", row_number, low_col)
        if high is not None and value is not None and high < value:
            yield DatasetIssue(file, f"{high_col} {high} is below the value {value}", row_number, high_col)


def _check_references(tables: dict[str, pd.DataFrame], specs: dict[str, TableSpec]) -> list[DatasetIssue]:
    issues = []
    for name, spec in specs.items():
        table = tables[name]
        for col in spec.columns.values():
            if not col.references:
                continue
            ref_table, ref_col = col.references.split(".")
            allowed = set(tables[ref_table][ref_col])
            for index, value in table[col.name].items():
                values = value if isinstance(value, list) else [value]
                for item in values:
                    if item is not None and item not in allowed:
                        issues.append(
                            DatasetIssue(
                                f"{name}.csv",
                                f"'{item}' is not in {ref_table}.csv ({ref_col})",
                                int(index) + 1 + HEADER_ROWS,
                                col.name,
                            )
                        )
    return issues


def read_tables(path: Path) -> tuple[dict[str, pd.DataFrame], list[DatasetIssue]]:
    """Read every dictionary table from `path` as raw strings."""
    specs = load_dictionary()
    raw_tables: dict[str, pd.DataFrame] = {}
    issues: list[DatasetIssue] = []
    for name in specs:
        file = path / f"{name}.csv"
        if not file.is_file():
            issues.append(DatasetIssue(f"{name}.csv", f"file is missing from {path}"))
            continue
        try:
            raw_tables[name] = pd.read_csv(
                file, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8"
            )
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            issues.append(DatasetIssue(f"{name}.csv", f"cannot be parsed as UTF-8 CSV: {exc}"))
    return raw_tables, issues


def validate_tables(
    raw_tables: dict[str, pd.DataFrame], valid_tables: dict[str, pd.DataFrame] | None = None
) -> dict[str, pd.DataFrame]:
    """Validate raw tables (cells, keys, estimates, references, chain); raise DatasetError.

    `valid_tables` are typed tables already validated (an override's untouched tables):
    their cells are not checked again, but references and cross-table checks include them.
    """
    from optimizer.data.checks import run_checks

    specs = load_dictionary()
    typed: dict[str, pd.DataFrame] = dict(valid_tables or {})
    issues: list[DatasetIssue] = []
    for name, spec in specs.items():
        if name in typed and name not in raw_tables:
            continue
        if name not in raw_tables:
            issues.append(DatasetIssue(f"{name}.csv", "table is missing"))
            continue
        table, table_issues = validate_table(raw_tables[name], spec, f"{name}.csv")
        typed[name] = table
        issues.extend(table_issues)
    if issues:
        raise DatasetError(issues)
    issues.extend(_check_references(typed, specs))
    if issues:
        raise DatasetError(issues)
    issues.extend(run_checks(typed))
    if issues:
        raise DatasetError(issues)
    return typed


def load_dataset_dir(path: Path, name: str | None = None) -> Dataset:
    """Load and validate the dataset in directory `path`."""
    raw_tables, issues = read_tables(path)
    if issues:
        raise DatasetError(issues)
    return Dataset(name or path.name, path, validate_tables(raw_tables))


def to_raw(table: pd.DataFrame) -> pd.DataFrame:
    """A typed table back to cells the validator accepts (lists re-joined with ';')."""
    return pd.DataFrame(
        {
            col: pd.Series([";".join(v) if isinstance(v, list) else v for v in table[col]], dtype=object)
            for col in table
        },
        columns=list(table.columns),
    )

"""Load a dataset directory and validate every cell against the data dictionary.

Load -> validate (per cell, per table) -> cross-table checks. Nothing is dropped silently:
every problem is collected with its file, row and column, and reported together.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.data.dictionary import ColumnSpec, TableSpec, load_dictionary
from optimizer.errors import DatasetError, DatasetIssue

HEADER_ROWS = 1  # CSV row numbers count the header as row 1
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


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
        return self.tables["countries"]["iso3"].tolist()

    @property
    def stages(self) -> list[str]:
        """Stage names in chain order."""
        table = self.tables["stages"]
        return [stage for _order, stage in sorted(zip(table["order"].tolist(), table["stage"].tolist(), strict=True))]

    @property
    def materials(self) -> list[str]:
        """Material names in file order."""
        return self.tables["materials"]["material"].tolist()

    def parameter(self, name: str, default: float) -> float:
        """A scalar from the parameters table, or the default when absent."""
        params = self.tables["parameters"]
        # The first matching row, as a boolean .loc would find it, without building a mask.
        for key, value in zip(params["name"].tolist(), params["value"].tolist(), strict=True):
            if key == name:
                return float(value)
        return default

    def coalition_presets(self) -> dict[str, list[str]]:
        """Preset name -> member ISO3 codes."""
        presets = self.tables["coalitions"]
        return {
            name: list(members)
            for name, members in zip(presets["name"].tolist(), presets["members"].tolist(), strict=True)
        }

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


# Cells that raw.to_dict(orient="records") passes through unchanged (it only boxes numpy and
# pandas scalars), so a column's tolist() gives the very cells a record would.
_NATIVE_CELLS = (str, float, int, list, type(None))


def _raw_columns(raw: pd.DataFrame) -> dict[str, list[Any]]:
    """Each column's cells, exactly as `raw.to_dict(orient="records")` would give them.

    A column at a time: building one dict per row was most of a small table's validation time.
    """
    columns: dict[str, list[Any]] = {}
    for name, series in raw.items():
        values = series.tolist()
        if not all(type(value) in _NATIVE_CELLS for value in values):
            # A numpy or pandas scalar somewhere (an override's added rows): let pandas box it.
            records = raw.to_dict(orient="records")
            return {col: [record[col] for record in records] for col in dict.fromkeys(raw.columns)}
        columns[name] = values  # a repeated name keeps its last column, as a record dict would
    return columns


def _coerce_text_column(texts: list[str], spec: ColumnSpec) -> list[Any] | None:
    """A column of text cells converted as `coerce_cell` would, or None if any cell has a problem.

    The loop is coerce_cell's own logic specialised per type for cells known to be `str`;
    anything unusual returns None so that the per-cell path reports it word for word.
    """
    required, kind = spec.required, spec.type
    pattern = re.compile(spec.pattern) if spec.pattern is not None else None
    enum = spec.enum
    if kind in ("int", "float"):
        if enum is not None or pattern is not None:
            return None  # not in the dictionary today; leave such columns to the per-cell path
        low, high = spec.minimum, spec.maximum
        numbers: list[Any] = []
        for cell in texts:
            text = cell.strip()
            if not text:
                if required:
                    return None
                numbers.append(None)
                continue
            try:
                number = float(text)
            except ValueError:
                return None
            if not math.isfinite(number):
                return None
            if kind == "int":
                if number != int(number):
                    return None
                number = int(number)
            if (low is not None and number < low) or (high is not None and number > high):
                return None
            numbers.append(number)
        return numbers
    converted: list[Any] = []
    for cell in texts:
        text = cell.strip()
        if not text:
            if required:
                return None
            converted.append([] if kind == "list" else None)
            continue
        # Bounds (min/max) apply to numbers only, never to text or list items.
        items = [part for part in (p.strip() for p in text.split(";")) if part] if kind == "list" else [text]
        for item in items:
            if enum is not None and item not in enum:
                return None
            if pattern is not None and not pattern.fullmatch(item):
                return None
        converted.append(items if kind == "list" else text)
    return converted


def _coerce_column(values: list[Any], spec: ColumnSpec) -> tuple[list[Any], list[tuple[int, str]]]:
    """Convert one column; return the values and (row index, problem) for each bad cell."""
    if all(type(value) is str for value in values) and spec.type in ("str", "int", "float", "list"):
        fast = _coerce_text_column(values, spec)
        if fast is not None:
            return fast, []
    converted: list[Any] = []
    problems: list[tuple[int, str]] = []
    for index, value in enumerate(values):
        typed, problem = coerce_cell(value, spec)
        if problem:
            problems.append((index, problem))
        converted.append(typed)
    return converted, problems


def validate_table(raw: pd.DataFrame, spec: TableSpec, file: str) -> tuple[pd.DataFrame, list[DatasetIssue]]:
    """Check one table's columns and cells; return the typed table and the problems found."""
    return _validate_cells(list(raw.columns), len(raw), lambda: _raw_columns(raw), spec, file)


def _validate_cells(
    present: list[str],
    rows: int,
    cells: Callable[[], dict[str, list[Any]]],
    spec: TableSpec,
    file: str,
) -> tuple[pd.DataFrame, list[DatasetIssue]]:
    """validate_table on a table given by its column names, row count and (lazily) its cells."""
    issues: list[DatasetIssue] = []
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
    if rows < spec.min_rows:
        issues.append(DatasetIssue(file, f"needs at least {spec.min_rows} data rows, has {rows}"))

    raw_columns = cells()
    typed: dict[str, list[Any]] = {}
    cell_issues: list[tuple[int, int, DatasetIssue]] = []
    for position, (name, col_spec) in enumerate(spec.columns.items()):
        typed[name], problems = _coerce_column(raw_columns[name], col_spec)
        for index, problem in problems:
            cell_issues.append((index, position, DatasetIssue(file, problem, index + 1 + HEADER_ROWS, name)))
    # A cell has at most one problem: sorting by (row, column) gives the row-by-row order.
    cell_issues.sort(key=lambda found: (found[0], found[1]))
    issues.extend(issue for _row, _col, issue in cell_issues)
    table = _frame(typed, spec)
    if issues:
        return table, issues
    issues.extend(_check_key(typed, table, spec, file))
    issues.extend(_check_estimates(typed, spec, file))
    return table, issues


def _frame(typed: dict[str, list[Any]], spec: TableSpec) -> pd.DataFrame:
    """Build the typed table from validated cells.

    Text stays `object` (an empty cell is None, not NaN, whatever pandas' string inference
    would do); complete numeric columns become numeric dtypes.
    """
    names = list(spec.columns)
    # Object arrays with an explicit dtype: pandas neither infers `str` nor splits list cells.
    cells = {name: np.fromiter(typed[name], dtype=object, count=len(typed[name])) for name in names}
    table = pd.DataFrame(cells, columns=names, dtype=object, copy=False)
    for position, (name, col) in enumerate(spec.columns.items()):
        values = typed[name]
        if col.type == "float" and all(v is not None for v in values):
            table.isetitem(position, np.array(values, dtype="float64"))  # Python floats: exact
        elif col.type == "int" and all(v is not None for v in values):
            if values and not (min(values) >= _INT64_MIN and max(values) <= _INT64_MAX):
                table.isetitem(position, pd.Series(values, dtype="int64"))  # raises pandas' own overflow error
            else:
                table.isetitem(position, np.array(values, dtype="int64"))  # what that Series holds, built faster
    return table


def _check_key(typed: dict[str, list[Any]], table: pd.DataFrame, spec: TableSpec, file: str) -> Iterable[DatasetIssue]:
    key = list(spec.key)
    rows = list(zip(*(typed[k] for k in key), strict=True))
    if not all(type(v) is str or v is None for row in rows for v in row):
        yield from _check_key_frame(table, spec, file)
        return
    # Key cells are text or None: tuple equality is what astype(str).duplicated() decides
    # (pandas keeps None missing, and two missing cells match; 'None' text is distinct).
    seen: set[tuple[Any, ...]] = set()
    for index, row in enumerate(rows):
        if row in seen:
            values = ", ".join(f"{k}={v}" for k, v in zip(key, row, strict=True))
            yield DatasetIssue(file, f"duplicate key ({values})", index + 1 + HEADER_ROWS, key[0])
        else:
            seen.add(row)


def _check_key_frame(table: pd.DataFrame, spec: TableSpec, file: str) -> Iterable[DatasetIssue]:
    key = list(spec.key)
    as_key = table[key].astype(str)
    duplicated = as_key.duplicated(keep="first")
    for index in table.index[duplicated]:
        values = ", ".join(f"{k}={table.at[index, k]}" for k in key)
        yield DatasetIssue(file, f"duplicate key ({values})", int(index) + 1 + HEADER_ROWS, key[0])


def _check_estimates(typed: dict[str, list[Any]], spec: TableSpec, file: str) -> Iterable[DatasetIssue]:
    bounds, value_col = spec.low_high, spec.value_column
    if bounds is None or value_col is None or "reliability" not in typed:
        return
    low_col, high_col = bounds
    # The cells themselves: iterrows hands back these same Python values (numeric columns
    # go through float64/int64 and back unchanged).
    rows = zip(typed["reliability"], typed[low_col], typed[high_col], typed[value_col], strict=True)
    for index, (reliability, low, high, value) in enumerate(rows):
        row_number = index + 1 + HEADER_ROWS
        if reliability == "estimate" and (low is None or high is None):
            yield DatasetIssue(file, f"an estimate needs both {low_col} and {high_col}", row_number, low_col)
            continue
        if low is not None and value is not None and low > value:
            yield DatasetIssue(file, f"{low_col} {low} is above the value {value}", row_number, low_col)
        if high is not None and value is not None and high < value:
            yield DatasetIssue(file, f"{high_col} {high} is below the value {value}", row_number, high_col)


def _check_references(tables: dict[str, pd.DataFrame], specs: dict[str, TableSpec]) -> list[DatasetIssue]:
    issues = []
    allowed_by_ref: dict[str, set[Any]] = {}
    for name, spec in specs.items():
        table = tables[name]
        for col in spec.columns.values():
            if not col.references:
                continue
            ref_table, ref_col = col.references.split(".")
            if col.references not in allowed_by_ref:
                allowed_by_ref[col.references] = set(tables[ref_table][ref_col].tolist())
            allowed = allowed_by_ref[col.references]
            for index, value in zip(table.index, table[col.name].tolist(), strict=True):
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
    """Read every dictionary table from `path` as raw strings, all through pandas."""
    tables, issues = _read_dataset(path, plain=False)
    return {name: table for name, table in tables.items() if isinstance(table, pd.DataFrame)}, issues


def _read_csv(file: Path) -> pd.DataFrame:
    return pd.read_csv(file, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8")


@dataclass
class _PlainTable:
    """A CSV file's header, cells by column and row count, read without pandas."""

    columns: list[str]
    cells: dict[str, list[str]]
    rows: int


def _read_plain(file: Path) -> _PlainTable | None:
    """The cells of a file in plain CSV form, or None when only pandas may read it.

    Plain means byte for byte what csv.writer writes for those cells: UTF-8 without BOM, LF
    line ends, a field quoted only when it must be, one distinct name per column and every row
    as wide as the header. Such text has a single reading, so these are exactly the cells
    `_read_csv` gives, without pandas' ~0.5 ms per file. Anything else (CRLF, blank lines,
    leading spaces, ragged rows, bad bytes ...) goes to pandas, its quirks and its messages.
    """
    try:
        text = file.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not text or text.startswith("\ufeff") or "\r" in text or "\x00" in text:
        return None
    if not text.endswith("\n"):
        text += "\n"  # a last line without its newline reads the same either way
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), skipinitialspace=True, strict=True))
    except csv.Error:
        return None
    header = rows[0]
    width = len(header)
    if not width or "" in header or len(set(header)) != width or any(len(row) != width for row in rows):
        return None
    written = io.StringIO()
    csv.writer(written, lineterminator="\n").writerows(rows)
    if written.getvalue() != text:
        return None
    body = rows[1:]
    return _PlainTable(header, {name: [row[i] for row in body] for i, name in enumerate(header)}, len(body))


def _read_dataset(path: Path, plain: bool = True) -> tuple[dict[str, pd.DataFrame | _PlainTable], list[DatasetIssue]]:
    """Every dictionary table of `path`, as raw strings.

    With `plain`, plain files are read by `_read_plain` (the same cells and issues as pandas).
    """
    specs = load_dictionary()
    raw_tables: dict[str, pd.DataFrame | _PlainTable] = {}
    issues: list[DatasetIssue] = []
    for name in specs:
        file = path / f"{name}.csv"
        if not file.is_file():
            issues.append(DatasetIssue(f"{name}.csv", f"file is missing from {path}"))
            continue
        fast = _read_plain(file) if plain else None
        if fast is not None:
            raw_tables[name] = fast
            continue
        try:
            raw_tables[name] = _read_csv(file)
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
    return _validate_tables(raw_tables, valid_tables)


def _validate_tables(
    raw_tables: Mapping[str, pd.DataFrame | _PlainTable], valid_tables: dict[str, pd.DataFrame] | None = None
) -> dict[str, pd.DataFrame]:
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
        raw = raw_tables[name]
        if isinstance(raw, _PlainTable):
            table, table_issues = _validate_cells(raw.columns, raw.rows, lambda r=raw: r.cells, spec, f"{name}.csv")
        else:
            table, table_issues = validate_table(raw, spec, f"{name}.csv")
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
    raw_tables, issues = _read_dataset(path)
    if issues:
        raise DatasetError(issues)
    return Dataset(name or path.name, path, _validate_tables(raw_tables))


def to_raw(table: pd.DataFrame) -> pd.DataFrame:
    """A typed table back to cells the validator accepts (lists re-joined with ';')."""
    return pd.DataFrame(
        {
            col: pd.Series([";".join(v) if isinstance(v, list) else v for v in table[col]], dtype=object)
            for col in table
        },
        columns=list(table.columns),
    )

"""The loader's and extractor's fast paths against the plain code they stand in for.

Each fast path claims to give exactly what the straightforward code gives (same cells,
same typed tables and dtypes, same issues in the same order, same floats). These tests
hold them to it on the shipped dataset and on damaged copies, where a wrong shortcut
would show up as a different table, message or order.
"""

from __future__ import annotations

import csv
import math
import random
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyomo.core as pyo
import pytest

from optimizer import results as rx
from optimizer import run
from optimizer.data import loader
from optimizer.data.dictionary import TableSpec, load_dictionary
from optimizer.data.registry import datasets_root
from optimizer.errors import DatasetError, DatasetIssue
from optimizer.model.constraints.balance import received
from optimizer.model.inputs import EXPOSED, FREE, _rows

from factory import write_dataset

SHIPPED = datasets_root() / "rare_earths"
# Cell values that trip each kind of check (blank, padded, not a number, out of range, bad code ...).
BLANKS = ["", " ", " x ", " 2 ", ";", "USA; ;CAN"]
NUMBERS = ["nan", "inf", "-1", "0", "1", "1.5", "2.0", "1e3", "2031", "abc", "None"]
CODES = ["USA", "usa", "CHN", "ROW", "estimate", "primary", "t/yr", "kt", "USA;CAN", "NdPr", "mine"]
TOKENS = [*BLANKS, *NUMBERS, *CODES]


# --- the straightforward code, as it was before the fast paths --------------------------------


def reference_validate_table(raw: pd.DataFrame, spec: TableSpec, file: str) -> tuple[pd.DataFrame, list[Any]]:
    """Row by row through to_dict records, coerce_cell per cell, column-by-column frame."""
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
        for name, col_spec in spec.columns.items():
            value, problem = loader.coerce_cell(record.get(name), col_spec)
            if problem:
                issues.append(DatasetIssue(file, problem, index + 2, name))
            typed[name].append(value)
    table = pd.DataFrame(typed, columns=list(spec.columns), dtype=object)
    for name, col in spec.columns.items():
        values = typed[name]
        if col.type == "float" and all(v is not None for v in values):
            table[name] = pd.Series(values, dtype="float64")
        elif col.type == "int" and all(v is not None for v in values):
            table[name] = pd.Series(values, dtype="int64")
    if issues:
        return table, issues
    key = list(spec.key)
    for index in table.index[table[key].astype(str).duplicated(keep="first")]:
        values = ", ".join(f"{k}={table.at[index, k]}" for k in key)
        issues.append(DatasetIssue(file, f"duplicate key ({values})", int(index) + 2, key[0]))
    if spec.low_high is not None and "reliability" in table:
        low_col, high_col = spec.low_high
        for index, row in table.iterrows():
            low, high, value = row[low_col], row[high_col], row[spec.value_column]
            if row["reliability"] == "estimate" and (low is None or high is None):
                issues.append(
                    DatasetIssue(file, f"an estimate needs both {low_col} and {high_col}", index + 2, low_col)
                )
                continue
            if low is not None and value is not None and low > value:
                issues.append(DatasetIssue(file, f"{low_col} {low} is above the value {value}", index + 2, low_col))
            if high is not None and value is not None and high < value:
                issues.append(DatasetIssue(file, f"{high_col} {high} is below the value {value}", index + 2, high_col))
    return table, issues


def reference_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in frame.to_dict(orient="records")
    ]


def pandas_cells(file: Path) -> tuple[list[str], dict[str, list[Any]], int]:
    frame = pd.read_csv(file, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8")
    return list(frame.columns), {name: col.tolist() for name, col in frame.items()}, len(frame)


def describe(table: pd.DataFrame) -> Any:
    """Everything that could differ: columns, dtypes, index, and each cell's type and repr."""
    cells = {col: [(type(v).__name__, repr(v)) for v in table[col].tolist()] for col in table.columns}
    return list(table.columns), [str(d) for d in table.dtypes], list(table.index), cells


def outcome(load: Any) -> Any:
    try:
        tables = load()
    except DatasetError as exc:
        return [(i.file, i.message, i.row, i.column) for i in exc.issues]
    return {name: describe(table) for name, table in tables.items()}


# --- damaged datasets ------------------------------------------------------------------------


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def write_rows(path: Path, rows: Iterable[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def damaged_copies(tmp_path: Path, count: int, seed: int) -> list[Path]:
    """Copies of the shipped dataset with random cells replaced, rows repeated or dropped."""
    rng = random.Random(seed)
    files = sorted(SHIPPED.glob("*.csv"))
    copies = []
    for k in range(count):
        dest = tmp_path / f"damaged{k}"
        shutil.copytree(SHIPPED, dest, ignore=shutil.ignore_patterns("scenarios", "*.py", "*.md"))
        for _ in range(rng.randint(1, 4)):
            file = dest / rng.choice(files).name
            rows = read_rows(file)
            header, body = rows[0], rows[1:]
            if body and rng.random() < 0.7:
                body[rng.randrange(len(body))][rng.randrange(len(header))] = rng.choice(TOKENS)
            elif body and rng.random() < 0.5:
                body.append(list(rng.choice(body)))
            elif body:
                body.pop(rng.randrange(len(body)))
            write_rows(file, [header, *body])
        copies.append(dest)
    return copies


# --- reading ---------------------------------------------------------------------------------


def test_shipped_files_take_the_plain_reader_and_match_pandas() -> None:
    files = sorted(SHIPPED.glob("*.csv"))
    assert files
    for file in files:
        plain = loader._read_plain(file)
        assert plain is not None, f"{file.name} no longer takes the fast reader"
        assert (plain.columns, plain.cells, plain.rows) == pandas_cells(file), file.name


ODD_FILES = {
    "crlf": "a,b\r\n1,2\r\n",
    "bom": "\ufeffa,b\n1,2\n",
    "blank line": "a,b\n\n1,2\n",
    "trailing blank line": "a,b\n1,2\n\n",
    "whitespace line": "a,b\n  \n1,2\n",
    "leading spaces": "a, b\n 1,  2\n",
    "spaces in quotes": 'a,b\n" 1",2\n',
    "quote inside field": 'a,b\n1"x",2\n',
    "text after quote": 'a,b\n"1"x,2\n',
    "doubled quotes": 'a,b\n"say ""hi""",2\n',
    "needless quotes": 'a,b\n"1","2"\n',
    "newline in quotes": 'a,b\n"1\n2",3\n',
    "no final newline": "a,b\n1,2",
    "short row": "a,b,c\n1,2\n",
    "long row": "a,b\n1,2,3\n",
    "repeated header": "a,a\n1,2\n",
    "empty header name": "a,\n1,2\n",
    "header only": "a,b\n",
    "empty file": "",
    "tab field": "a,b\n\t1,2\n",
    "unicode line separator": "a,b\n1\u20282,3\n",
    "nul": "a,b\n1\x00,2\n",
    "unterminated quote": 'a,b\n"1,2\n',
    "trailing delimiter": "a,b,\n1,2,\n",
    "empty fields": "a,b\n,\n",
    "spaces line, one column": "a\n1\n   \n2\n",  # the csv module sees a row here, pandas none
    "quoted empty, one column": 'a\n1\n""\n2\n',
}


@pytest.mark.parametrize("name", sorted(ODD_FILES))
def test_plain_reader_gives_pandas_cells_or_steps_aside(tmp_path: Path, name: str) -> None:
    file = tmp_path / "t.csv"
    file.write_bytes(ODD_FILES[name].encode("utf-8"))
    plain = loader._read_plain(file)
    if plain is None:
        return  # pandas reads it, as before
    assert (plain.columns, plain.cells, plain.rows) == pandas_cells(file)


def test_plain_reader_steps_aside_for_bad_bytes(tmp_path: Path) -> None:
    file = tmp_path / "t.csv"
    file.write_bytes(b"a,b\n\xff,2\n")
    assert loader._read_plain(file) is None


# --- validating ------------------------------------------------------------------------------


def test_fast_column_coercion_matches_coerce_cell() -> None:
    """Every column spec against shipped cells and odd tokens: same values, same problems."""
    rng = random.Random(3)
    raw, issues = loader.read_tables(SHIPPED)
    assert not issues
    fast_taken = 0
    for name, spec in load_dictionary().items():
        for col, col_spec in spec.columns.items():
            shipped = raw[name][col].tolist()
            for cells in (shipped, [rng.choice(TOKENS) for _ in range(12)], [*shipped, rng.choice(TOKENS)]):
                expected = [loader.coerce_cell(cell, col_spec) for cell in cells]
                values, problems = loader._coerce_column(cells, col_spec)
                assert values == [value for value, _ in expected], (name, col, cells)
                assert [type(v) for v in values] == [type(value) for value, _ in expected], (name, col)
                assert problems == [(i, p) for i, (_, p) in enumerate(expected) if p], (name, col, cells)
            fast_taken += loader._coerce_text_column(shipped, col_spec) is not None
    assert fast_taken > 100  # the shipped data goes through the fast path, not around it


def test_tables_match_the_reference_validator(tmp_path: Path) -> None:
    specs = load_dictionary()
    for path in [SHIPPED, *damaged_copies(tmp_path, 12, seed=11)]:
        raw, issues = loader.read_tables(path)
        assert not issues
        for name, spec in specs.items():
            table, found = loader.validate_table(raw[name], spec, f"{name}.csv")
            ref_table, ref_found = reference_validate_table(raw[name], spec, f"{name}.csv")
            assert found == ref_found, (path.name, name)
            assert describe(table) == describe(ref_table), (path.name, name)


def test_duplicate_keys_with_empty_cells_match_the_reference_validator() -> None:
    """Empty key cells (None) match each other but not the text 'None', as astype(str) decides."""
    spec = load_dictionary()["lead_times"]
    raw = loader.read_tables(SHIPPED)[0]["lead_times"]
    default = raw.loc[raw["country"] == ""].iloc[[0]]
    named = default.assign(country="None")
    for extra, duplicates in (([default], 1), ([named], 0), ([default, named, default, named], 3)):
        frame = pd.concat([raw, *extra], ignore_index=True)
        table, found = loader.validate_table(frame, spec, "lead_times.csv")
        ref_table, ref_found = reference_validate_table(frame, spec, "lead_times.csv")
        assert found == ref_found
        assert sum("duplicate key" in issue.message for issue in found) == duplicates
        assert describe(table) == describe(ref_table)


def test_object_cells_from_overrides_match_the_reference_validator() -> None:
    """Raw tables as overrides make them: floats, ints, None, NaN and numpy scalars in object columns."""
    spec = load_dictionary()["capacity"]
    typed = loader.load_dataset_dir(SHIPPED)["capacity"]
    raw = loader.to_raw(typed)
    raw.loc[0, "capacity_t_per_yr"] = "abc"
    raw.loc[1, "year"] = float("nan")
    raw.loc[2, "low"] = None
    added = pd.DataFrame(
        [{"country": "USA", "stage": "mine", "material": "NdPr", "capacity_t_per_yr": 5, "year": 2024}]
    )
    raw = pd.concat([raw, added], ignore_index=True)  # missing provenance
    raw.loc[3, "capacity_t_per_yr"] = np.float64(7.5)  # numpy and pandas scalars: pandas boxes them
    raw.loc[4, "year"] = np.int64(2020)
    raw.loc[5, "notes"] = pd.NA
    for frame in (loader.to_raw(typed), raw):
        table, found = loader.validate_table(frame, spec, "capacity.csv")
        ref_table, ref_found = reference_validate_table(frame, spec, "capacity.csv")
        assert found == ref_found
        assert describe(table) == describe(ref_table)


def test_whole_load_matches_the_pandas_reader(tmp_path: Path) -> None:
    """load_dataset_dir (plain reader) and read_tables + validate_tables (pandas) agree, issues included."""
    paths = [SHIPPED, *damaged_copies(tmp_path, 25, seed=5)]
    odd = tmp_path / "odd"
    shutil.copytree(paths[1], odd)
    (odd / "lanes.csv").write_bytes((odd / "lanes.csv").read_bytes().replace(b"\n", b"\r\n"))  # pandas reads this
    paths.append(odd)
    refused = 0
    for path in paths:
        fast = outcome(lambda p=path: loader.load_dataset_dir(p).tables)
        slow = outcome(lambda p=path: loader.validate_tables(loader.read_tables(p)[0]))
        assert fast == slow, path.name
        refused += isinstance(fast, list)
    assert 5 < refused < len(paths)  # both accepted and refused datasets were compared


def test_dataset_accessors(tmp_path: Path) -> None:
    ds = loader.load_dataset_dir(SHIPPED)
    assert ds.stages == list(ds["stages"].sort_values("order")["stage"])
    assert ds.countries == list(ds["countries"]["iso3"]) and ds.materials == list(ds["materials"]["material"])
    params = ds["parameters"]
    for name in [*params["name"], "absent"]:
        hit = params.loc[params["name"] == name, "value"]
        assert ds.parameter(name, -1.0) == (float(hit.iloc[0]) if len(hit) else -1.0)
    presets = ds["coalitions"]
    assert ds.coalition_presets() == {r.name: list(r.members) for r in presets.itertuples(index=False)}


def test_rows_helper_gives_itertuples_values() -> None:
    ds = loader.load_dataset_dir(SHIPPED)
    for table in ds.tables.values():
        columns = [c for c in table.columns if c.isidentifier()]
        expected = [tuple(getattr(row, c) for c in columns) for row in table.itertuples()]
        got = list(_rows(table, *columns))
        assert [tuple(map(repr, r)) for r in got] == [tuple(map(repr, r)) for r in expected]


# --- extracting ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[run.Prepared, run.Result]:
    path = write_dataset(tmp_path_factory.mktemp("fast") / "tiny")
    scenario = run.as_scenario({"dataset": str(path), "coalition": ["USA"], "start_year": 2026, "end_year": 2028})
    prepared = run.prepare(scenario)
    return prepared, run.solve_prepared(prepared)


def test_evaluate_is_pyomo_value_bit_for_bit(solved: tuple[run.Prepared, run.Result]) -> None:
    prepared, _result = solved
    model, inputs, ix = prepared.model, prepared.inputs, prepared.index
    exprs: list[Any] = [model.capex_usd, model.opex_usd, model.trade_usd, model.holding_usd, model.cost, 0, 1.5]
    exprs += [con.body for con in model.component_data_objects(pyo.Constraint)]
    exprs += [received(model, ix, q, s, m, t, g) for q in inputs.countries for s in inputs.stages
              for m in inputs.materials for t in inputs.years for g in (FREE, EXPOSED)]  # fmt: skip
    exprs += list(model.component_data_objects(pyo.Var))
    for expr in exprs:
        fast, slow = rx.evaluate(expr), pyo.value(expr)
        assert type(fast) is type(slow) and (fast == slow or (math.isnan(fast) and math.isnan(slow))), expr
        assert math.copysign(1, fast) == math.copysign(1, slow)


def test_evaluate_leaves_an_unset_variable_to_pyomo() -> None:
    model = pyo.ConcreteModel()
    model.x = pyo.Var([1, 2])
    model.x[1].set_value(2.0)
    for expr in (model.x[2], 3 * model.x[1] + model.x[2]):
        with pytest.raises(ValueError) as fast:
            rx.evaluate(expr)
        with pytest.raises(ValueError) as slow:
            pyo.value(expr)
        assert str(fast.value) == str(slow.value)


def test_records_match_to_dict(solved: tuple[run.Prepared, run.Result]) -> None:
    _prepared, result = solved
    frames = [*result.tables.values(), pd.DataFrame({"a": pd.Series([1.5, None], dtype=object), "b": ["x", None]})]
    frames.append(pd.DataFrame({"n": pd.array([1, None], dtype="Int64")}))  # pandas NA: the to_dict path
    for frame in frames:
        fast, slow = rx.records(frame), reference_records(frame)
        assert [{k: (type(v), repr(v)) for k, v in r.items()} for r in fast] == [
            {k: (type(v), repr(v)) for k, v in r.items()} for r in slow
        ]

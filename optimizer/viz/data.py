"""Tidy tables behind every chart, built from a solve's result.

Each chart of `optimizer.viz.charts` draws one of these tables, and the report offers the
same table for download as CSV: what you see is what you get. Inputs are accepted in the
forms users hold: a `Result`, a `ResultModel`, the JSON dict (`Result.to_dict()`), or a path
to a result.json written by ``coalition solve --out DIR`` (or to DIR itself).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.errors import CoalitionError
from optimizer.run import Result
from optimizer.schemas import ResultModel

ResultLike = Result | ResultModel | Mapping[str, Any] | str | Path

TOL = 1e-6  # t below which a flow is not drawn

# Columns of each table of a result, so that an empty table still has its header.
COLUMNS: dict[str, list[str]] = {
    "exposure_by_year": [
        "year",
        "material",
        "demand_t",
        "free_t",
        "exposed_t",
        "unmet_t",
        "exposed_share",
        "unmet_share",
    ],
    "adversary_share_by_stage": ["stage", "material", "year", "received_t", "from_adversaries_t", "adversary_share"],
    "builds": ["country", "stage", "material", "start_year", "online_year", "capacity_t_per_yr", "capex_usd"],
    "production": ["country", "stage", "material", "year", "grade", "production_t"],
    "shipments": ["kind", "origin", "destination", "stage", "material", "year", "grade", "quantity_t"],
    "unmet_demand": ["country", "material", "year", "demand_t", "unmet_t"],
    "stockpile": ["country", "material", "year", "stock_t", "purchase_t", "release_t"],
    "financing": ["payer", "year", "amount_usd"],
    "cost_by_host": ["country", "stage", "capex_usd"],
    "cost_by_payer": ["payer", "amount_usd"],
}
SUMMARY_FIELDS = {
    "exposure_by_year": "exposure_share_by_year",
    "adversary_share_by_stage": "adversary_share_by_stage",
    "builds": "builds",
    "production": "production",
    "shipments": "shipments",
    "unmet_demand": "unmet_demand",
    "stockpile": "stockpile",
    "financing": "financing",
    "cost_by_host": "cost_by_host",
    "cost_by_payer": "cost_by_payer",
}


# --- inputs -------------------------------------------------------------------------------


def is_result_json(data: Any) -> bool:
    """True if a parsed JSON document looks like a solve result (not a scenario)."""
    return isinstance(data, Mapping) and "status" in data and "scenario_hash" in data and "scenario" in data


def load_result(path: str | Path) -> Result:
    """Read a result.json (or a directory holding one) written by ``coalition solve --out``."""
    p = Path(path)
    if p.is_dir():
        p = p / "result.json"
    if not p.is_file():
        raise CoalitionError(f"{p}: no such result file")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CoalitionError(f"{p} is not valid JSON: {exc}") from None
    if not is_result_json(data):
        raise CoalitionError(f"{p} is not a result.json (no status / scenario_hash / scenario fields)")
    return as_result(data)


def tables_from_summary(summary: ResultModel) -> dict[str, pd.DataFrame]:
    """Rebuild a result's tables from its JSON records (e.g. after reading a result.json)."""
    tables = {}
    for name, fieldname in SUMMARY_FIELDS.items():
        records = getattr(summary, fieldname)
        tables[name] = pd.DataFrame(records, columns=COLUMNS[name]) if records else pd.DataFrame(columns=COLUMNS[name])
    return tables


def as_result(obj: ResultLike) -> Result:
    """Turn any of the accepted forms into a `Result` with every table present."""
    if isinstance(obj, Result):
        result = obj
    elif isinstance(obj, ResultModel):
        result = Result(obj, tables_from_summary(obj))
    elif isinstance(obj, str | Path):
        return load_result(obj)
    elif isinstance(obj, Mapping):
        try:
            summary = ResultModel.model_validate(dict(obj))
        except Exception as exc:  # pydantic's ValidationError: say what it is in one line
            raise CoalitionError(f"not a solve result: {str(exc).splitlines()[0]}") from None
        result = Result(summary, tables_from_summary(summary))
    else:
        raise TypeError(f"expected a Result, ResultModel, result dict or path, got {type(obj).__name__}")
    missing = {name for name in COLUMNS if name not in result.tables}
    if missing:
        rebuilt = tables_from_summary(result.summary)
        result = Result(result.summary, {**result.tables, **{name: rebuilt[name] for name in missing}})
    return result


def result_label(result: Result) -> str:
    """A short label for a result: its scenario name and coalition."""
    name = str(result.summary.scenario.get("name") or "scenario")
    coalition = result.summary.scenario.get("coalition")
    if isinstance(coalition, str):
        return f"{name} ({coalition})"
    return name


def labelled(results: ResultLike | Sequence[ResultLike] | Mapping[str, ResultLike]) -> list[tuple[str, Result]]:
    """One or more results as (label, Result) pairs; a mapping gives the labels, else they are derived."""
    if isinstance(results, Mapping) and not is_result_json(results):
        return [(str(label), as_result(r)) for label, r in results.items()]
    if isinstance(results, Sequence) and not isinstance(results, str):
        pairs = [as_result(r) for r in results]
        labels = [result_label(r) for r in pairs]
        if len(set(labels)) < len(labels):  # same scenario twice: number them
            labels = [f"{label} #{i + 1}" for i, label in enumerate(labels)]
        return list(zip(labels, pairs, strict=True))
    result = as_result(results)  # type: ignore[arg-type]
    return [(result_label(result), result)]


def horizon(result: Result) -> list[int]:
    """The scenario's years, start to end."""
    scenario = result.summary.scenario
    start, end = scenario.get("start_year"), scenario.get("end_year")
    if start is None or end is None:
        years = result.tables["exposure_by_year"]["year"]
        return sorted({int(y) for y in years})
    return list(range(int(start), int(end) + 1))


def materials_of(result: Result) -> list[str]:
    """Materials with demand in the result, in a stable order (largest demand first)."""
    exposure = result.tables["exposure_by_year"]
    if exposure.empty:
        return sorted(set(result.tables["builds"]["material"]))
    totals = exposure.groupby("material")["demand_t"].sum().sort_values(ascending=False)
    return list(totals.index)


def stages_of(result: Result) -> list[str]:
    """Stages in chain order, as far as the result shows them (adversary share table order)."""
    stages: list[str] = []
    for frame in (result.tables["adversary_share_by_stage"], result.tables["production"], result.tables["builds"]):
        for s in frame.get("stage", []):
            if s not in stages:
                stages.append(s)
    known = ["mine", "separation", "metal_alloy", "magnet"]
    if set(stages) <= set(known):
        return [s for s in known if s in stages]
    return stages


# --- chart tables -------------------------------------------------------------------------


def exposure_table(results: ResultLike | Sequence[ResultLike] | Mapping[str, ResultLike]) -> pd.DataFrame:
    """Exposed and unmet share of coalition demand by year and material, one block per result.

    Columns: label, year, material, demand_t, exposed_t, unmet_t, exposed_share, unmet_share.
    """
    frames = []
    for label, result in labelled(results):
        table = result.tables["exposure_by_year"]
        if table.empty:
            continue
        part = table[["year", "material", "demand_t", "exposed_t", "unmet_t", "exposed_share", "unmet_share"]].copy()
        part.insert(0, "label", label)
        frames.append(part)
    columns = ["label", "year", "material", "demand_t", "exposed_t", "unmet_t", "exposed_share", "unmet_share"]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    out["year"] = out["year"].astype(int)
    return out.sort_values(["label", "material", "year"], ignore_index=True)[columns]


def target_table(result: Result) -> pd.DataFrame:
    """The scenario's timeline targets as a step per material and year: year, material, max_exposed_share."""
    targets = result.summary.scenario.get("targets") or []
    years = horizon(result)
    rows = []
    for material in materials_of(result):
        for year in years:
            caps = [
                float(t["max_exposed_share"])
                for t in targets
                if int(t["from_year"]) <= year and (not t.get("materials") or material in t["materials"])
            ]
            if caps:
                rows.append({"year": year, "material": material, "max_exposed_share": min(caps)})
    return pd.DataFrame(rows, columns=["year", "material", "max_exposed_share"])


def capacity_online_table(result: ResultLike) -> pd.DataFrame:
    """New capacity online (cumulative) by year, host country, stage and material, in t/yr.

    A build counts from its online year (start + lead time); builds coming online after the
    horizon are left out. Columns: year, country, stage, material, capacity_t_per_yr.
    """
    res = as_result(result)
    builds = res.tables["builds"]
    columns = ["year", "country", "stage", "material", "capacity_t_per_yr"]
    if builds.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    grouped = builds.groupby(["country", "stage", "material", "online_year"], as_index=False)["capacity_t_per_yr"].sum()
    for year in horizon(res):
        online = grouped[grouped["online_year"] <= year]
        if online.empty:
            continue
        part = online.groupby(["country", "stage", "material"], as_index=False)["capacity_t_per_yr"].sum()
        part.insert(0, "year", year)
        rows.append(part)
    if not rows:
        return pd.DataFrame(columns=columns)
    out = pd.concat(rows, ignore_index=True)[columns]
    return out[out["capacity_t_per_yr"] > TOL].reset_index(drop=True)


def capex_by_host_table(result: ResultLike) -> pd.DataFrame:
    """Capital spent on new capacity by host country and stage (USD). Columns: country, stage, capex_usd."""
    res = as_result(result)
    builds = res.tables["builds"]
    if builds.empty:
        return pd.DataFrame(columns=["country", "stage", "capex_usd"])
    out = builds.groupby(["country", "stage"], as_index=False)["capex_usd"].sum()
    return out[out["capex_usd"] > 1.0].reset_index(drop=True)


def adversary_share_table(result: ResultLike) -> pd.DataFrame:
    """For each stage, the share of what the coalition receives that adversaries made, by year and material."""
    res = as_result(result)
    table = res.tables["adversary_share_by_stage"]
    return table[COLUMNS["adversary_share_by_stage"]].reset_index(drop=True)


def _pool_of(country: str, coalition: set[str]) -> str:
    return "coalition" if country in coalition else "rest"


def flow_table(result: ResultLike, year: int | None = None, material: str | None = None) -> pd.DataFrame:
    """Who sends each stage's product to whom, with pooled trade allocated to buyers by origin.

    The LP trades through two market pools (one for coalition buyers, one for the rest) that
    have no origin-destination pairs. Each pool's buyers are given the pool's mix by origin:
    buyer q gets from origin r the share export_r / sum(exports) of its purchase (per stage,
    material, year and provenance grade). Local use, explicit lanes and stockpile releases are
    exact. The last stage's product goes to the receiving member's demand (``stage_to`` "demand").

    Columns: year, material, stage (the product's stage), origin, destination, grade, route
    (local | lane | pool:coalition | pool:rest | stockpile), quantity_t, stage_to (the stage at
    which the destination uses it, or "demand").
    """
    res = as_result(result)
    ships = res.tables["shipments"]
    columns = ["year", "material", "stage", "origin", "destination", "grade", "route", "quantity_t", "stage_to"]
    if ships.empty:
        return pd.DataFrame(columns=columns)
    if year is not None:
        ships = ships[ships["year"] == year]
    if material is not None:
        ships = ships[ships["material"] == material]
    coalition = set(res.summary.coalition)
    stages = stages_of(res)
    next_stage = {s: (stages[i + 1] if i + 1 < len(stages) else "demand") for i, s in enumerate(stages)}
    rows: list[dict[str, Any]] = []
    keys = ["stage", "material", "year", "grade"]
    for kind in ("local", "lane"):
        part = ships[ships["kind"] == kind]
        for r in part.itertuples(index=False):
            rows.append(
                {
                    "year": int(r.year),
                    "material": r.material,
                    "stage": r.stage,
                    "origin": r.origin,
                    "destination": r.destination,
                    "grade": r.grade,
                    "route": kind,
                    "quantity_t": float(r.quantity_t),
                }
            )
    exports = ships[ships["kind"] == "export"].copy()
    exports["pool"] = exports["destination"].str.removeprefix("pool:")
    imports = ships[ships["kind"] == "import"].copy()
    # the pool each purchase came from ("pool:coalition" / "pool:rest")
    imports["pool"] = [
        o.removeprefix("pool:") if o.startswith("pool:") else _pool_of(q, coalition)
        for o, q in zip(imports["origin"], imports["destination"], strict=True)
    ]
    sellers = {k: g for k, g in exports.groupby(["pool", *keys])}
    for key, buyers in imports.groupby(["pool", *keys]):
        pool, stage, mat, yr, grade = key
        sold = sellers.get(key)
        total = float(sold["quantity_t"].sum()) if sold is not None else 0.0
        for b in buyers.itertuples(index=False):
            if total <= TOL:
                origins = [("unknown", float(b.quantity_t))]
            else:
                origins = [(s.origin, float(b.quantity_t) * float(s.quantity_t) / total) for s in sold.itertuples()]
            for origin, qty in origins:
                rows.append(
                    {
                        "year": int(yr),
                        "material": mat,
                        "stage": stage,
                        "origin": origin,
                        "destination": b.destination,
                        "grade": grade,
                        "route": f"pool:{pool}",
                        "quantity_t": qty,
                    }
                )
    stock = res.tables["stockpile"]
    if not stock.empty and stages:
        stock = stock[stock["release_t"] > TOL]
        if year is not None:
            stock = stock[stock["year"] == year]
        if material is not None:
            stock = stock[stock["material"] == material]
        for s in stock.itertuples(index=False):
            rows.append(
                {
                    "year": int(s.year),
                    "material": s.material,
                    "stage": stages[-1],
                    "origin": f"stockpile:{s.country}",
                    "destination": s.country,
                    "grade": "free",
                    "route": "stockpile",
                    "quantity_t": float(s.release_t),
                }
            )
    if not rows:
        return pd.DataFrame(columns=columns)
    out = pd.DataFrame(rows)
    out["stage_to"] = out["stage"].map(next_stage).fillna("demand")
    out = out.groupby(
        ["year", "material", "stage", "origin", "destination", "grade", "route", "stage_to"], as_index=False
    )["quantity_t"].sum()
    out = out[out["quantity_t"] > TOL]
    order = {s: i for i, s in enumerate(stages)}
    out = out.assign(_o=out["stage"].map(order)).sort_values(["year", "material", "_o", "origin", "destination"])
    return out.drop(columns="_o").reset_index(drop=True)[columns]


# --- dataset ------------------------------------------------------------------------------


def country_names(dataset: Any) -> dict[str, str]:
    """ISO3 -> country name from a dataset's countries table (empty if unavailable)."""
    if dataset is None:
        return {}
    table = dataset.tables.get("countries")
    if table is None or "name" not in table:
        return {}
    return {str(code): str(name) for code, name in zip(table["iso3"], table["name"], strict=True)}

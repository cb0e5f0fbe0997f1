"""Cross-table consistency checks, each a small named function run before any build."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd

from optimizer.errors import DatasetIssue

Tables = dict[str, pd.DataFrame]


def _row(index: object) -> int:
    return int(index) + 2  # type: ignore[call-overload]  # header is row 1


def check_stage_chain(tables: Tables) -> Iterable[DatasetIssue]:
    """Stage orders are 1..n with no gap or repeat: each stage feeds exactly the next."""
    orders = sorted(tables["stages"]["order"])
    expected = list(range(1, len(orders) + 1))
    if orders != expected:
        yield DatasetIssue(
            "stages.csv", f"stage orders {orders} break the chain; they must be {expected}", None, "order"
        )


def check_yields_complete(tables: Tables) -> Iterable[DatasetIssue]:
    """Every stage after the first has a yield for every material."""
    stages = tables["stages"]
    names, orders = stages["stage"].tolist(), stages["order"].tolist()
    lowest = min(orders, default=None)  # None for no stages: then no stage is first, as with pandas' NaN
    first = [stage for stage, order in zip(names, orders, strict=True) if order == lowest]
    yields = tables["yields"]
    have = set(zip(yields["stage"].tolist(), yields["material"].tolist(), strict=True))
    for index, stage in zip(yields.index, yields["stage"].tolist(), strict=True):
        if stage in first:
            yield DatasetIssue(
                "yields.csv", f"the first stage '{stage}' has no input, so no yield", _row(index), "stage"
            )
    materials = tables["materials"]["material"].tolist()
    for stage in names:
        if stage in first:
            continue
        for material in materials:
            if (stage, material) not in have:
                yield DatasetIssue("yields.csv", f"no yield for stage '{stage}', material '{material}'")


def check_capex_complete(tables: Tables) -> Iterable[DatasetIssue]:
    """Every stage and material has a capex, so every possible build has a price."""
    have = set(zip(tables["capex"]["stage"].tolist(), tables["capex"]["material"].tolist(), strict=True))
    materials = tables["materials"]["material"].tolist()
    for stage in tables["stages"]["stage"].tolist():
        for material in materials:
            if (stage, material) not in have:
                yield DatasetIssue("capex.csv", f"no capex for stage '{stage}', material '{material}'")


def check_lead_times_complete(tables: Tables) -> Iterable[DatasetIssue]:
    """Every stage has a default lead time (a row with an empty country)."""
    lead = tables["lead_times"]
    defaults = set(lead.loc[lead["country"].isna(), "stage"].tolist())
    for stage in tables["stages"]["stage"].tolist():
        if stage not in defaults:
            yield DatasetIssue("lead_times.csv", f"stage '{stage}' has no default row (empty country)", None, "country")


def check_lanes_not_self(tables: Tables) -> Iterable[DatasetIssue]:
    """A lane joins two different countries (local use needs no lane)."""
    lanes = tables["lanes"]
    # Columns as Python lists: iterrows built a Series per row, and its cells are these same values.
    pairs = zip(lanes.index, lanes["origin"].tolist(), lanes["destination"].tolist(), strict=True)
    for index, origin, destination in pairs:
        if origin == destination:
            yield DatasetIssue("lanes.csv", "origin equals destination", _row(index), "destination")


def check_stock_fits(tables: Tables) -> Iterable[DatasetIssue]:
    """An initial stock fits within its stockpile capacity."""
    stock = tables["stockpiles"]
    rows = zip(stock.index, stock["initial_stock_t"].tolist(), stock["capacity_t"].tolist(), strict=True)
    for index, initial, capacity in rows:
        if initial > capacity:
            yield DatasetIssue(
                "stockpiles.csv",
                f"initial stock {initial} t exceeds capacity {capacity} t",
                _row(index),
                "initial_stock_t",
            )


def check_coalitions_nonempty(tables: Tables) -> Iterable[DatasetIssue]:
    """A coalition preset has at least one member."""
    coalitions = tables["coalitions"]
    for index, members in zip(coalitions.index, coalitions["members"].tolist(), strict=True):
        if not members:
            yield DatasetIssue("coalitions.csv", "a coalition needs at least one member", _row(index), "members")


CHECKS: list[Callable[[Tables], Iterable[DatasetIssue]]] = [
    check_stage_chain,
    check_yields_complete,
    check_capex_complete,
    check_lead_times_complete,
    check_lanes_not_self,
    check_stock_fits,
    check_coalitions_nonempty,
]


def run_checks(tables: Tables) -> list[DatasetIssue]:
    """Run every named check and collect the problems."""
    return [issue for check in CHECKS for issue in check(tables)]

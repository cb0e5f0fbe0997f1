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
    first = stages.loc[stages["order"] == stages["order"].min(), "stage"].tolist()
    have = set(zip(tables["yields"]["stage"], tables["yields"]["material"], strict=True))
    for index, row in tables["yields"].iterrows():
        if row["stage"] in first:
            yield DatasetIssue(
                "yields.csv", f"the first stage '{row['stage']}' has no input, so no yield", _row(index), "stage"
            )
    for stage in stages["stage"]:
        if stage in first:
            continue
        for material in tables["materials"]["material"]:
            if (stage, material) not in have:
                yield DatasetIssue("yields.csv", f"no yield for stage '{stage}', material '{material}'")


def check_capex_complete(tables: Tables) -> Iterable[DatasetIssue]:
    """Every stage and material has a capex, so every possible build has a price."""
    have = set(zip(tables["capex"]["stage"], tables["capex"]["material"], strict=True))
    for stage in tables["stages"]["stage"]:
        for material in tables["materials"]["material"]:
            if (stage, material) not in have:
                yield DatasetIssue("capex.csv", f"no capex for stage '{stage}', material '{material}'")


def check_lead_times_complete(tables: Tables) -> Iterable[DatasetIssue]:
    """Every stage has a default lead time (a row with an empty country)."""
    lead = tables["lead_times"]
    defaults = set(lead.loc[lead["country"].isna(), "stage"])
    for stage in tables["stages"]["stage"]:
        if stage not in defaults:
            yield DatasetIssue("lead_times.csv", f"stage '{stage}' has no default row (empty country)", None, "country")


def check_lanes_not_self(tables: Tables) -> Iterable[DatasetIssue]:
    """A lane joins two different countries (local use needs no lane)."""
    lanes = tables["lanes"]
    for index, row in lanes.iterrows():
        if row["origin"] == row["destination"]:
            yield DatasetIssue("lanes.csv", "origin equals destination", _row(index), "destination")


def check_stock_fits(tables: Tables) -> Iterable[DatasetIssue]:
    """An initial stock fits within its stockpile capacity."""
    stock = tables["stockpiles"]
    for index, row in stock.iterrows():
        if row["initial_stock_t"] > row["capacity_t"]:
            yield DatasetIssue(
                "stockpiles.csv",
                f"initial stock {row['initial_stock_t']} t exceeds capacity {row['capacity_t']} t",
                _row(index),
                "initial_stock_t",
            )


def check_coalitions_nonempty(tables: Tables) -> Iterable[DatasetIssue]:
    """A coalition preset has at least one member."""
    for index, row in tables["coalitions"].iterrows():
        if not row["members"]:
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

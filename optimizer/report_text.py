"""The human-readable summary the CLI prints for a result."""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table

from optimizer.run import Result

STATUS_STYLE = {"optimal": "green", "infeasible": "yellow", "time_limit": "yellow"}


def _exposure_table(result: Result) -> Table:
    exposure = result.exposure_by_year
    pivot = exposure.pivot(index="year", columns="material", values="exposed_share")
    unmet = exposure.pivot(index="year", columns="material", values="unmet_share")
    table = Table(title="Exposed share of coalition demand (dependence on adversaries)")
    table.add_column("year")
    for m in pivot.columns:
        table.add_column(f"{m} exposed", justify="right")
        table.add_column(f"{m} unmet", justify="right")
    for year, row in pivot.iterrows():
        cells = []
        for m in pivot.columns:
            cells += [f"{row[m]:.0%}", f"{unmet.at[year, m]:.0%}"]
        table.add_row(str(year), *cells)
    return table


def _builds_table(builds: pd.DataFrame) -> Table:
    table = Table(title="New capacity (started -> online)")
    for col in ("host", "stage", "material", "t/yr", "first online", "capex USD m"):
        table.add_column(col, justify="right" if col in ("t/yr", "capex USD m") else "left")
    grouped = builds.groupby(["country", "stage", "material"], as_index=False).agg(
        capacity=("capacity_t_per_yr", "sum"), online=("online_year", "min"), capex=("capex_usd", "sum")
    )
    for row in grouped.sort_values("capex", ascending=False).itertuples():
        table.add_row(
            row.country, row.stage, row.material, f"{row.capacity:,.0f}", str(row.online), f"{row.capex / 1e6:,.0f}"
        )
    return table


def print_summary(console: Console, result: Result) -> None:
    """Print status, exposure by year, builds, cost, unmet demand and bottlenecks."""
    s = result.summary
    style = STATUS_STYLE.get(s.status, "red")
    console.print(
        f"[bold]{s.scenario.get('name', '')}[/]  coalition: {', '.join(s.coalition)}  "
        f"adversaries: {', '.join(s.adversaries)}  status: [{style}]{s.status}[/]"
    )
    if s.message:
        console.print(s.message, style="yellow" if s.status != "error" else "red")
    for v in s.violations:
        console.print(f"  - {v.explanation}")
    if result.exposure_by_year.empty:
        return
    console.print(_exposure_table(result))
    if result.builds.empty:
        console.print("No new capacity is built.")
    else:
        console.print(_builds_table(result.builds))
    breakdown = ", ".join(f"{k} {v / 1e9:,.2f}" for k, v in s.cost_breakdown_usd.items())
    console.print(f"Total cost: USD {(s.total_cost_usd or 0) / 1e9:,.2f} bn ({breakdown} bn)")
    if s.unmet_demand:
        unmet = pd.DataFrame(s.unmet_demand).groupby("material")["unmet_t"].sum()
        console.print("Unmet demand over the horizon: " + ", ".join(f"{m} {v:,.0f} t" for m, v in unmet.items()))
    prices = s.shadow_prices
    if prices.get("budget"):
        console.print(
            f"Budget: {prices['budget']['interpretation']} ({prices['budget']['exposure_reduction_per_busd']:.3f})"
        )
    if prices.get("capacity"):
        table = Table(title="Bottlenecks: where one more t/yr of capacity lowers exposure most")
        for col in ("country", "stage", "material", "exposed t avoided per t/yr"):
            table.add_column(col)
        for b in prices["capacity"][:8]:
            table.add_row(b["country"], b["stage"], b["material"], f"{b['exposure_reduction_t_per_t']:.2f}")
        console.print(table)
    m = s.model
    console.print(
        f"[dim]{m.variables:,} variables, {m.constraints:,} constraints; HiGHS {m.solver_version}; "
        f"{m.solves} solves; load {m.seconds.load:.2f}s build {m.seconds.build:.2f}s "
        f"solve {m.seconds.solve:.2f}s extract {m.seconds.extract:.2f}s[/]"
    )

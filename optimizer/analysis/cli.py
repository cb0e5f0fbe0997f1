"""CLI commands of the analyses: compare, frontier, value, uncertainty, stress.

`register(app)` adds them to the `coalition` Typer app. Each command builds the same
request payload the REST service receives and calls `run_analysis`; ``--json`` prints
that dict exactly, otherwise rich tables are printed. A progress bar runs on stderr when
it is a terminal.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

ScenarioOpt = Annotated[
    str | None,
    typer.Option("--scenario", "-s", help="Scenario YAML/JSON file or shipped scenario name (default: default)."),
]
DatasetOpt = Annotated[str | None, typer.Option(help="Dataset name or directory (overrides the scenario's).")]
BackendOpt = Annotated[str, typer.Option(help="Sweep backend: local (process pool) or dask.")]
SchedulerOpt = Annotated[
    str | None, typer.Option(help="Dask scheduler address, e.g. tcp://dask-scheduler:8786 (none = LocalCluster).")
]
WorkersOpt = Annotated[int, typer.Option(help="Worker processes.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON (as the REST API returns it).")]
TimeLimitOpt = Annotated[float | None, typer.Option(help="Solver time limit per solve, seconds.")]
CoalitionArg = Annotated[
    str | None,
    typer.Argument(help="Coalition preset, or ISO3 codes joined by commas (default: the scenario's)."),
]


def _coalition(text: str) -> str | list[str]:
    """'five_eyes' -> preset name; 'USA,JPN' -> member list."""
    text = text.strip()
    if "," in text:
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def _fmt(value: float | None, spec: str = ",.2f", scale: float = 1.0, suffix: str = "") -> str:
    return "-" if value is None else f"{value / scale:{spec}}{suffix}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _share_cell(shares: tuple[float, float] | None) -> str:
    """Exposed share, with the unmet share when some demand goes unmet."""
    if shares is None:
        return "-"
    exposed, unmet = shares
    return f"{exposed:.0%}" if unmet < 0.005 else f"{exposed:.0%} +{unmet:.0%} short"


@contextlib.contextmanager
def _progress(enabled: bool, label: str) -> Iterator[Callable[[int, int], None] | None]:
    from optimizer.cli import err_console

    if not enabled or not err_console.is_terminal:
        yield None
        return
    with Progress(
        TextColumn(f"[bold]{label}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield report


def _run(kind: str, payload: dict[str, Any], as_json: bool) -> dict[str, Any]:
    from optimizer.analysis.runner import run_analysis
    from optimizer.cli import print_json

    with _progress(not as_json, f"{kind}: solving") as report:
        result = run_analysis(kind, payload, progress=report)
    if as_json:
        print_json(result)
    return result


def _base_payload(
    scenario: str | None,
    dataset: str | None,
    time_limit: float | None,
    backend: str,
    scheduler: str | None,
    workers: int,
) -> dict[str, Any]:
    from optimizer.cli import load_scenario

    loaded = load_scenario(scenario, dataset, time_limit)
    return {
        "scenario": loaded.model_dump(mode="json"),
        "backend": backend,
        "scheduler": scheduler,
        "workers": workers,
    }


def _console() -> Console:
    from optimizer.cli import console

    return console


def _meta_line(result: dict[str, Any]) -> str:
    m = result["meta"]
    failed = f", {m['failed']} not ok" if m["failed"] else ""
    return f"[dim]{m['solves']} solves{failed} on {m['backend']} ({m['workers']} workers) in {m['seconds']:.1f}s[/]"


# --- compare ----------------------------------------------------------------------------


def compare_cmd(
    coalitions: Annotated[list[str], typer.Argument(help="Coalition presets or comma-joined ISO3 codes.")],
    scenario: Annotated[
        list[str] | None,
        typer.Option("--scenario", "-s", help="Scenario file or shipped name; repeat to compare on several."),
    ] = None,
    dataset: DatasetOpt = None,
    time_limit: TimeLimitOpt = None,
    backend: BackendOpt = "local",
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = 2,
    as_json: JsonOpt = False,
) -> None:
    """Compare coalitions side by side: exposure by year, cost, unmet demand, builds, payers."""
    from optimizer.cli import load_scenario

    names = scenario or [None]
    payload = _base_payload(names[0], dataset, time_limit, backend, scheduler, workers)
    if len(names) > 1:
        payload["scenarios"] = [load_scenario(s, dataset, time_limit).model_dump(mode="json") for s in names]
    payload["coalitions"] = [_coalition(c) for c in coalitions]
    result = _run("compare", payload, as_json)
    if not as_json:
        print_compare(_console(), result)


def print_compare(console: Console, result: dict[str, Any]) -> None:
    """Side-by-side tables and the ranking, one block per scenario."""
    for scenario in result["scenarios"]:
        cells = [c for c in result["cells"] if c["scenario"] == scenario]
        materials = sorted({r["material"] for c in cells for r in c["exposed_share_by_year"]})
        years = sorted({r["year"] for c in cells for r in c["exposed_share_by_year"]})
        table = Table(title=f"Exposed share of demand by year — scenario {scenario}")
        table.add_column("year")
        for c in cells:
            for m in materials:
                table.add_column(c["coalition"] if len(materials) == 1 else f"{c['coalition']}\n{m}", justify="right")
        lookup = {
            (c["coalition"], r["year"], r["material"]): (r["exposed_share"], r["unmet_share"])
            for c in cells
            for r in c["exposed_share_by_year"]
        }
        for year in years:
            table.add_row(
                str(year), *(_share_cell(lookup.get((c["coalition"], year, m))) for c in cells for m in materials)
            )
        if any(u >= 0.005 for _, u in lookup.values()):
            table.caption = "x% +y% short: x% of demand exposed to the adversary, y% not met at all"
        console.print(table)

        side = Table(title=f"Side by side — scenario {scenario}")
        side.add_column("")
        for c in cells:
            side.add_column(c["coalition"], justify="right")
        stages = sorted({s for c in cells for s in c["capacity_by_stage"]})
        rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
            ("rank", lambda c: str(c["rank"]) if c["rank"] is not None else "-"),
            ("members", lambda c: str(len(c["members"]))),
            ("status", lambda c: c["status"]),
            ("exposure (share-years)", lambda c: _fmt(c["exposure_share_years"])),
            ("mean exposed share", lambda c: _pct(c["mean_exposed_share"])),
            ("exposed share, last year", lambda c: _pct(c["final_exposed_share"])),
            ("unmet demand (t)", lambda c: _fmt(c["unmet_t"], ",.0f")),
            ("total cost (USD bn)", lambda c: _fmt(c["cost_usd"], ",.2f", 1e9)),
            ("capex (USD bn)", lambda c: _fmt(c["capex_usd"], ",.2f", 1e9)),
        ]
        for stage in stages:
            rows.append((f"built: {stage} (t/yr)", lambda c, s=stage: _fmt(c["capacity_by_stage"].get(s), ",.0f")))
        rows.append(
            (
                "top hosts (capex)",
                lambda c: (
                    "\n".join(
                        f"{b['country']} {b['stage']} {b['capex_usd'] / 1e9:,.2f}bn" for b in c["builds_by_host"][:3]
                    )
                    or "-"
                ),
            )
        )
        rows.append(
            (
                "paid by (USD bn)",
                lambda c: "\n".join(f"{p} {v / 1e9:,.2f}" for p, v in c["paid_by"].items()) or "-",
            )
        )
        for label, get in rows:
            side.add_row(label, *(get(c) for c in cells))
        console.print(side)
        for c in cells:
            if c["status"] != "ok" and c["message"]:
                console.print(f"[yellow]{c['coalition']}: {c['status']}: {c['message']}[/]")
        ranking = result["ranking"][scenario]
        console.print("Ranking (least exposed first): " + "  ".join(f"{i}. {n}" for i, n in enumerate(ranking, 1)))
    console.print(_meta_line(result))


# --- frontier ---------------------------------------------------------------------------


def frontier_cmd(
    coalition: CoalitionArg = None,
    scenario: ScenarioOpt = None,
    points: Annotated[int, typer.Option(help="Budgets on the frontier (2 to 101).")] = 11,
    budget_min: Annotated[float, typer.Option(help="Lowest budget, USD bn.")] = 0.0,
    budget_max: Annotated[
        float | None, typer.Option(help="Highest budget, USD bn (default: what the unlimited plan spends).")
    ] = None,
    dataset: DatasetOpt = None,
    time_limit: TimeLimitOpt = None,
    backend: BackendOpt = "local",
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = 2,
    as_json: JsonOpt = False,
) -> None:
    """Cost-vs-exposure Pareto frontier: minimum exposure at each capital budget, knee marked."""
    payload = _base_payload(scenario, dataset, time_limit, backend, scheduler, workers)
    payload.update(points=points, budget_min_usd=budget_min * 1e9)
    if budget_max is not None:
        payload["budget_max_usd"] = budget_max * 1e9
    if coalition is not None:
        payload["coalition"] = _coalition(coalition)
    result = _run("frontier", payload, as_json)
    if not as_json:
        print_frontier(_console(), result)


def print_frontier(console: Console, result: dict[str, Any]) -> None:
    """The frontier as a table, knee and dominated points noted."""
    table = Table(title=f"Cost-exposure frontier — {', '.join(result['coalition'])}")
    for col in (
        "budget USD bn",
        "exposure (share-years)",
        "removed per USD bn",
        "capex USD bn",
        "total cost USD bn",
        "unmet t",
        "note",
    ):
        table.add_column(col, justify="left" if col == "note" else "right")
    for p in result["points"]:
        note = "knee" if p["knee"] else ("no gain" if p["dominated"] else "")
        if p["status"] != "ok":
            note = f"{p['status']}: {p['message'][:60]}"
        table.add_row(
            _fmt(p["budget_usd"], ",.2f", 1e9),
            _fmt(p["exposure_share_years"], ",.3f"),
            _fmt(p["exposure_reduction_per_busd"], ",.3f"),
            _fmt(p["capex_usd"], ",.2f", 1e9),
            _fmt(p["cost_usd"], ",.2f", 1e9),
            _fmt(p["unmet_t"], ",.0f"),
            note,
            style="bold" if p["knee"] else None,
        )
    console.print(table)
    u = result["unlimited"]
    console.print(
        f"Unlimited budget: exposure {_fmt(u['exposure_share_years'], ',.3f')} share-years,"
        f" capex USD {_fmt(u['capex_usd'], ',.2f', 1e9)} bn"
    )
    console.print(_meta_line(result))


# --- value ------------------------------------------------------------------------------


def value_cmd(
    coalition: CoalitionArg = None,
    scenario: ScenarioOpt = None,
    method: Annotated[str, typer.Option(help="exact (2^n solves, n <= 12), sampled or auto.")] = "exact",
    game: Annotated[
        str,
        typer.Option(
            help="exposure: exposure avoided (share-years); cost: cost saved (USD) with exposure held at the"
            " level reachable without any member's assets."
        ),
    ] = "exposure",
    permutations: Annotated[int, typer.Option(help="Sampled method: random member orders.")] = 200,
    seed: Annotated[int, typer.Option(help="Sampled method: random seed.")] = 0,
    dataset: DatasetOpt = None,
    time_limit: TimeLimitOpt = None,
    backend: BackendOpt = "local",
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = 2,
    as_json: JsonOpt = False,
) -> None:
    """Each member's contribution: leave-one-out and Shapley value, and a burden sharing."""
    payload = _base_payload(scenario, dataset, time_limit, backend, scheduler, workers)
    payload.update(method=method, game=game, permutations=permutations, seed=seed)
    if coalition is not None:
        payload["coalition"] = _coalition(coalition)
    result = _run("value", payload, as_json)
    if not as_json:
        print_value(_console(), result)


def print_value(console: Console, result: dict[str, Any]) -> None:
    """Shapley values, contributions and the suggested burden sharing (either game)."""
    sampled = result["method"] == "sampled"
    cost = result.get("game") == "cost"
    # The cost game's values are USD, shown in USD million; the exposure game's share-years.
    scale, unit, what = (1e6, "USD m", "cost saved") if cost else (1.0, "share-years", "exposure avoided")
    table = Table(title=f"Member value ({result['method']} Shapley) — {unit} of {what}")
    for col in ("member", "alone v({i})", "leave-one-out", "Shapley", "burden share", "capex USD bn"):
        table.add_column(col, justify="left" if col == "member" else "right")
    for m in result["members"]:
        shapley = _fmt(m["shapley"], ",.3f", scale)
        if sampled and m["ci_low"] is not None:
            shapley += f" ± {(m['ci_high'] - m['ci_low']) / 2 / scale:,.3f}"
        table.add_row(
            m["member"],
            _fmt(m["standalone"], ",.3f", scale),
            _fmt(m["leave_one_out"], ",.3f", scale),
            shapley,
            _pct(m["share"]),
            _fmt(m["suggested_capex_usd"], ",.2f", 1e9),
        )
    console.print(table)
    if cost:
        console.print(
            f"v(N) = C(no member assets) - C(coalition) = {_fmt(result['cost_without_members'], ',.3f', scale)}"
            f" - {_fmt(result['cost_grand'], ',.3f', scale)} = {result['grand_value'] / scale:,.3f} {unit};"
            f" sum of Shapley values = {result['shapley_sum'] / scale:,.3f}"
        )
        console.print(
            f"exposure held at most {_fmt(result['exposure_cap'], ',.3f')} share-years"
            f" (E(no member assets) = {result['exposure_without_members']:,.3f};"
            f" the coalition could reach {result['exposure_grand']:,.3f})"
        )
    else:
        console.print(
            f"v(N) = E(no member assets) - E(coalition) = {result['exposure_without_members']:,.3f}"
            f" - {result['exposure_grand']:,.3f} = {result['grand_value']:,.3f} share-years;"
            f" sum of Shapley values = {result['shapley_sum']:,.3f}"
        )
    console.print(f"[dim]{result['definition']}[/]")
    console.print(_meta_line(result))


# --- uncertainty ------------------------------------------------------------------------


def uncertainty_cmd(
    coalition: CoalitionArg = None,
    scenario: ScenarioOpt = None,
    draws: Annotated[int, typer.Option(help="Monte Carlo draws (2 to 10,000).")] = 200,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same draws).")] = 0,
    distribution: Annotated[str, typer.Option(help="triangular or uniform.")] = "triangular",
    correlation: Annotated[str, typer.Option(help="group (a group moves together) or independent.")] = "group",
    param: Annotated[list[str] | None, typer.Option("--param", help="Parameter group to vary (repeat).")] = None,
    tornado: Annotated[bool, typer.Option(help="Also run the one-at-a-time tornado.")] = True,
    dataset: DatasetOpt = None,
    time_limit: TimeLimitOpt = None,
    backend: BackendOpt = "local",
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = 2,
    as_json: JsonOpt = False,
) -> None:
    """Monte Carlo over the dataset's low-high ranges: percentiles of exposure and cost, tornado."""
    payload = _base_payload(scenario, dataset, time_limit, backend, scheduler, workers)
    payload.update(draws=draws, seed=seed, distribution=distribution, correlation=correlation, tornado=tornado)
    if param:
        payload["parameters"] = param
    if coalition is not None:
        payload["coalition"] = _coalition(coalition)
    result = _run("uncertainty", payload, as_json)
    if not as_json:
        print_uncertainty(_console(), result)


def print_uncertainty(console: Console, result: dict[str, Any]) -> None:
    """Percentiles and the tornado."""
    table = Table(
        title=f"Monte Carlo: {result['draws_ok']} draws solved ({result['distribution']},"
        f" {result['correlation']}, seed {result['seed']})"
    )
    table.add_column("output")
    for col in ("base", "mean", "p5", "p50", "p95"):
        table.add_column(col, justify="right")
    base = result["base"]
    for key, label, spec, scale in (
        ("exposure_share_years", "exposure (share-years)", ",.3f", 1.0),
        ("exposed_t", "exposed (t)", ",.0f", 1.0),
        ("unmet_t", "unmet (t)", ",.0f", 1.0),
        ("cost_usd", "cost (USD bn)", ",.2f", 1e9),
    ):
        p = result[key]
        if p is None:
            table.add_row(label, _fmt(base[key], spec, scale), "-", "-", "-", "-")
            continue
        table.add_row(
            label, _fmt(base[key], spec, scale), *(_fmt(p[q], spec, scale) for q in ("mean", "p5", "p50", "p95"))
        )
    console.print(table)
    if result["tornado"]:
        bars = Table(title="Tornado: each parameter group at its low and its high")
        for col in ("group", "rows", "exposure low", "exposure high", "swing", "", "cost swing USD bn"):
            bars.add_column(col, justify="left" if col in ("group", "") else "right")
        widest = max((b["exposure_swing"] or 0.0) for b in result["tornado"]) or 1.0
        for b in result["tornado"]:
            bar = "█" * round(20 * (b["exposure_swing"] or 0.0) / widest)
            bars.add_row(
                b["group"],
                str(b["rows"]),
                _fmt(b["exposure_low"], ",.3f"),
                _fmt(b["exposure_high"], ",.3f"),
                _fmt(b["exposure_swing"], ",.3f"),
                bar,
                _fmt(b["cost_swing_usd"], ",.2f", 1e9),
            )
        console.print(bars)
    console.print(_meta_line(result))


# --- stress -----------------------------------------------------------------------------


def stress_cmd(
    coalition: CoalitionArg = None,
    scenario: ScenarioOpt = None,
    stress: Annotated[
        list[str] | None, typer.Option("--stress", help="Named stress scenario (repeat; default: the standard set).")
    ] = None,
    list_names: Annotated[bool, typer.Option("--list", help="List the named stress scenarios and exit.")] = False,
    dataset: DatasetOpt = None,
    time_limit: TimeLimitOpt = None,
    backend: BackendOpt = "local",
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = 2,
    as_json: JsonOpt = False,
) -> None:
    """Run disruptions (export bans, cut-offs, project delays ...) against a coalition."""
    payload = _base_payload(scenario, dataset, time_limit, backend, scheduler, workers)
    if list_names:
        _list_stresses(payload)
        return
    if stress:
        payload["stresses"] = stress
    if coalition is not None:
        payload["coalition"] = _coalition(coalition)
    result = _run("stress", payload, as_json)
    if not as_json:
        print_stress(_console(), result)


def _list_stresses(payload: dict[str, Any]) -> None:
    from optimizer.analysis.common import base_dataset
    from optimizer.analysis.stress import describe, named_stresses
    from optimizer.schemas import Scenario

    scenario = Scenario.from_data(payload["scenario"])
    table = Table(title="Named stress scenarios")
    table.add_column("name")
    table.add_column("what happens")
    for name, spec in named_stresses(base_dataset(scenario, True), scenario).items():
        table.add_row(name, describe(spec, scenario))
    _console().print(table)


def print_stress(console: Console, result: dict[str, Any]) -> None:
    """Each stress's exposure, unmet demand and cost against the baseline."""
    table = Table(title=f"Stress tests — {', '.join(result['coalition'])}", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("stress", overflow="fold")
    for col, width in (("exposure", 8), ("Δ", 7), ("unmet t", 7), ("Δ ", 6), ("Δ cost bn", 9), ("worst", 5)):
        table.add_column(col, justify="right", no_wrap=True, min_width=width)
    b = result["baseline"]
    table.add_row(
        "baseline", _fmt(b["exposure_share_years"], ",.3f"), "", _fmt(b["unmet_t"], ",.0f"), "", "", "-", style="dim"
    )
    for s in result["stresses"]:
        name = s["name"] if s["status"] == "ok" else f"{s['name']} [yellow]({s['status']})[/]"
        table.add_row(
            name,
            _fmt(s["exposure_share_years"], ",.3f"),
            _fmt(s["exposure_delta"], "+,.3f"),
            _fmt(s["unmet_t"], ",.0f"),
            _fmt(s["unmet_t_delta"], "+,.0f"),
            _fmt(s["cost_delta_usd"], "+,.2f", 1e9),
            str(s["worst_year"] or "-"),
        )
    console.print(table)
    console.print("[dim]exposure: share-years, unmet demand at its penalty; Δ: change vs the baseline[/]")
    for s in result["stresses"]:
        console.print(f"  {s['name']}: {s['description']}")
        if s["status"] != "ok" and s["message"]:
            console.print(f"    [yellow]{s['status']}: {s['message']}[/]")
    console.print(_meta_line(result))


def register(app: typer.Typer) -> None:
    """Add the analysis commands to the `coalition` app."""
    from optimizer.cli import friendly_errors

    app.command("compare")(friendly_errors(compare_cmd))
    app.command("frontier")(friendly_errors(frontier_cmd))
    app.command("value")(friendly_errors(value_cmd))
    app.command("uncertainty")(friendly_errors(uncertainty_cmd))
    app.command("stress")(friendly_errors(stress_cmd))

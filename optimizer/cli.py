"""The `coalition` command line: solve, inspect datasets, export, serve.

Every command goes through the same library calls as the REST service; `--json` prints
exactly the JSON the service returns. Bad input ends with a one-line message naming the
field (exit code 2), never a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from optimizer.errors import CoalitionError

app = typer.Typer(
    name="coalition",
    help="Plan critical-mineral supply chains that do not depend on an adversary.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
dataset_app = typer.Typer(help="Inspect and check datasets.", no_args_is_help=True)
app.add_typer(dataset_app, name="dataset")

console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

ScenarioArg = Annotated[
    str | None,
    typer.Argument(help="Scenario YAML/JSON file, or the name of a shipped scenario (default: default)."),
]


def friendly_errors(func: F) -> F:
    """Turn library errors into a clear message and exit code; never print a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CoalitionError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # an internal fault: say so plainly, keep details in the log
            logging.getLogger("optimizer").debug("internal error", exc_info=True)
            err_console.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def load_scenario(
    scenario: str | None,
    dataset: str | None = None,
    time_limit: float | None = None,
    threads: int | None = None,
) -> Any:
    """A scenario from a file, a shipped scenario name, or the default; CLI options applied."""
    from optimizer.data.registry import datasets_root
    from optimizer.errors import ScenarioError
    from optimizer.run import default_scenario
    from optimizer.schemas import Scenario

    if scenario is None:
        loaded = default_scenario(dataset or "rare_earths")
    elif Path(scenario).is_file():
        loaded = Scenario.from_file(scenario)
    else:
        shipped = datasets_root() / (dataset or "rare_earths") / "scenarios" / f"{scenario}.yaml"
        if not shipped.is_file():
            raise ScenarioError(
                f"'{scenario}' is neither a scenario file nor a shipped scenario; see `coalition datasets`",
                location="SCENARIO",
            )
        loaded = Scenario.from_file(shipped)
    updates: dict[str, Any] = {}
    if dataset is not None:
        updates["dataset"] = dataset
    options = loaded.options.model_dump()
    if time_limit is not None:
        options["time_limit_s"] = time_limit
    if threads is not None:
        options["threads"] = threads
    data = {**loaded.model_dump(), **updates, "options": options}
    return Scenario.from_data(data, source="scenario")


def print_json(payload: Any) -> None:
    """Print JSON to stdout exactly (no rich markup)."""
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


@app.command()
@friendly_errors
def solve(
    scenario: ScenarioArg = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON (as the REST API returns it).")
    ] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write result.json and CSV tables here.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Dataset name or directory (overrides the scenario's).")] = None,
    time_limit: Annotated[float | None, typer.Option(help="Solver time limit in seconds.")] = None,
    threads: Annotated[int | None, typer.Option(help="HiGHS threads.")] = None,
) -> None:
    """Solve a scenario and print where to build and buy, year by year."""
    from optimizer.report_text import print_summary
    from optimizer.run import solve as run_solve

    loaded = load_scenario(scenario, dataset, time_limit, threads)
    result = run_solve(loaded)
    if out is not None:
        result.write(out)
    if as_json:
        print_json(result.to_dict())
    else:
        print_summary(console, result)
        if out is not None:
            console.print(f"[dim]tables written to {out}[/]")
    if result.status == "error":
        raise typer.Exit(1)


@app.command()
@friendly_errors
def datasets() -> None:
    """List shipped datasets, their coalition presets and scenarios."""
    from optimizer.data.registry import datasets_root, get_dataset, list_datasets

    for name in list_datasets():
        ds = get_dataset(name)
        table = Table(title=f"dataset {name}: {len(ds.countries)} countries, stages {' -> '.join(ds.stages)}")
        table.add_column("coalition preset")
        table.add_column("members")
        for preset, members in ds.coalition_presets().items():
            table.add_row(preset, ", ".join(members))
        console.print(table)
        scenarios = sorted(p.stem for p in (datasets_root() / name / "scenarios").glob("*.yaml"))
        console.print(f"scenarios: {', '.join(scenarios) or 'none'}  (run: coalition solve NAME)\n")


@dataset_app.command("report")
@friendly_errors
def dataset_report(
    name: Annotated[str, typer.Argument(help="Dataset name or directory.")] = "rare_earths",
    material: Annotated[str, typer.Option(help="Material stream to report.")] = "NdPr",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Calibration: each stage's share by country in the baseline year vs published figures."""
    from optimizer.data.calibration import calibration_report, stage_shares
    from optimizer.data.registry import get_dataset

    ds = get_dataset(name)
    if material not in ds.materials:
        raise CoalitionError(f"--material: unknown '{material}'; the dataset has {ds.materials}")
    report = calibration_report(ds, material)
    shares = stage_shares(ds, material)
    if as_json:
        print_json({"calibration": report.to_dict(orient="records"), "shares": shares.to_dict(orient="records")})
        return
    for stage in ds.stages:
        part = shares[shares["stage"] == stage].head(8)
        table = Table(title=f"{stage}: share of existing {material} capacity by country")
        table.add_column("country")
        table.add_column("capacity t/yr", justify="right")
        table.add_column("share %", justify="right")
        for row in part.itertuples():
            table.add_row(row.country, f"{row.capacity_t_per_yr:,.0f}", f"{row.share_pct:.1f}")
        console.print(table)
    table = Table(title="Calibration against published figures")
    for col in ("stage", "country", "modelled %", "published %", "+/-", "ok", "source"):
        table.add_column(col)
    for row in report.itertuples():
        ok = "[green]yes[/]" if row.within_tolerance else "[red]NO[/]"
        table.add_row(
            row.stage,
            row.country,
            f"{row.modelled_pct:.1f}",
            f"{row.published_pct:.0f}",
            f"{row.tolerance_pct:.0f}",
            ok,
            row.source,
        )
    console.print(table)
    if not report["within_tolerance"].all():
        raise typer.Exit(1)


@dataset_app.command("validate")
@friendly_errors
def dataset_validate(path: Annotated[str, typer.Argument(help="Dataset name or directory.")]) -> None:
    """Check a dataset against the data dictionary; every problem is listed with file, row, column."""
    from optimizer.data.registry import get_dataset
    from optimizer.errors import DatasetError

    try:
        ds = get_dataset(path)
    except DatasetError as exc:
        for issue in exc.issues:
            err_console.print(f"[red]x[/] {issue}", highlight=False)
        raise typer.Exit(2) from None
    rows = sum(len(t) for t in ds.tables.values())
    console.print(f"[green]ok[/] {ds.name}: {len(ds.tables)} tables, {rows} rows, every row sourced")


@app.command()
@friendly_errors
def export(
    scenario: ScenarioArg = None,
    mps: Annotated[Path, typer.Option("--mps", help="Write the exposure-phase LP to this MPS (or .lp) file.")] = Path(
        "model.mps"
    ),
    dataset: Annotated[str | None, typer.Option(help="Dataset name or directory.")] = None,
) -> None:
    """Export the scenario's LP exactly as HiGHS receives it (to solve it with HiGHS alone)."""
    from optimizer.run import prepare

    prepared = prepare(load_scenario(scenario, dataset))
    prepared.solver.write(mps)
    console.print(f"wrote {mps}")


def main() -> None:
    """Entry point for `python -m optimizer`."""
    app()



def _register_command_groups() -> None:
    """Add the analytics, service and report commands (each module imports lazily)."""
    from api.cli import register as register_service
    from optimizer.analysis.cli import register as register_analysis
    from optimizer.viz.cli import register as register_viz

    register_analysis(app)
    register_service(app)
    register_viz(app)


_register_command_groups()

"""The `coalition report` and `coalition chart compare` commands: self-contained HTML files.

`register(app)` adds them to the `coalition` Typer app (see the end of optimizer/cli.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer


def _is_result_file(path: Path) -> bool:
    """A result.json (or a directory holding one) rather than a scenario file."""
    from optimizer.viz.data import is_result_json

    if path.is_dir():
        return (path / "result.json").is_file()
    if not path.is_file() or path.suffix.lower() != ".json":
        return False
    try:
        return is_result_json(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False


def load_result_or_solve(
    source: str | None,
    dataset: str | None = None,
    time_limit: float | None = None,
    threads: int | None = None,
    echo: Any = None,
) -> Any:
    """A result.json / result directory is read; a scenario file or shipped name (or None) is solved."""
    from optimizer.cli import load_scenario
    from optimizer.run import solve
    from optimizer.viz.data import load_result

    if source is not None and _is_result_file(Path(source)):
        if dataset is not None or time_limit is not None or threads is not None:
            from optimizer.errors import CoalitionError

            raise CoalitionError(
                "--dataset, --time-limit and --threads apply to scenarios; the result is already solved"
            )
        return load_result(source)
    scenario = load_scenario(source, dataset, time_limit, threads)
    if echo is not None:
        echo(f"[dim]solving {scenario.name} ...[/]")
    return solve(scenario)


def register(app: typer.Typer) -> None:
    """Add `coalition report` and `coalition chart` to the app."""
    from optimizer.cli import friendly_errors

    # a group, so that charts of the other analyses can join `compare` under the same name
    chart_app = typer.Typer(help="Charts of an analysis result, as one self-contained HTML file.", no_args_is_help=True)
    app.add_typer(chart_app, name="chart")

    @chart_app.command("compare")
    @friendly_errors
    def chart_compare(
        source: Annotated[
            Path,
            typer.Argument(
                metavar="COMPARE_JSON",
                help="A comparison as JSON: what `coalition compare A B --json` prints, or a compare job's"
                " `GET /v1/jobs/{id}/result`.",
            ),
        ],
        out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")] = Path("compare.html"),
        csv: Annotated[Path | None, typer.Option("--csv", help="Also write each chart's data as CSV here.")] = None,
    ) -> None:
        """Write the comparison page's charts (exposure, cost, exposed and unmet demand, new capacity) to HTML."""
        from optimizer.cli import console
        from optimizer.viz.compare import load_compare, write_compare_report

        files = write_compare_report(load_compare(source), out, csv_dir=csv)
        size = files.html.stat().st_size / 1e6
        console.print(f"wrote {files.html} ({size:,.1f} MB, self-contained: open it in any browser, no network needed)")
        if files.csv:
            console.print(f"wrote {len(files.csv)} CSV files to {csv}")

    @app.command("report")
    @friendly_errors
    def report(
        source: Annotated[
            str | None,
            typer.Argument(
                metavar="RESULT_OR_SCENARIO",
                help=(
                    "A result.json written by `coalition solve --out DIR` (or DIR), or a scenario YAML/JSON file or"
                    " shipped scenario name, which is solved first (default: the default scenario)."
                ),
            ),
        ] = None,
        out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")] = Path("report.html"),
        png: Annotated[
            Path | None,
            typer.Option("--png", help="Also export each chart as PNG into this directory (needs kaleido)."),
        ] = None,
        csv: Annotated[Path | None, typer.Option("--csv", help="Also write each chart's data as CSV here.")] = None,
        analysis: Annotated[
            list[Path] | None,
            typer.Option(
                "--analysis",
                help="An analysis result JSON (`coalition frontier|value|uncertainty|compare|stress --json`) to"
                " chart in the report; repeatable.",
            ),
        ] = None,
        year: Annotated[
            int | None,
            typer.Option("--year", help="Year of the flow (Sankey) chart (default: a slider over all years)."),
        ] = None,
        dataset: Annotated[str | None, typer.Option(help="Dataset name or directory (scenarios only).")] = None,
        time_limit: Annotated[float | None, typer.Option(help="Solver time limit in seconds (scenarios only).")] = None,
        threads: Annotated[int | None, typer.Option(help="HiGHS threads (scenarios only).")] = None,
    ) -> None:
        """Write one self-contained HTML report (charts, headline, bottlenecks, assumptions, sources)."""
        from optimizer.cli import console, err_console
        from optimizer.errors import CoalitionError
        from optimizer.viz.analysis import load_analysis
        from optimizer.viz.data import horizon
        from optimizer.viz.report import write_report

        analyses = [load_analysis(p) for p in analysis or []]
        result = load_result_or_solve(source, dataset, time_limit, threads, echo=err_console.print)
        if year is not None:
            years = horizon(result)
            if year not in years:
                raise CoalitionError(f"--year {year} is outside the scenario's horizon {years[0]}-{years[-1]}")
        files = write_report(result, out, analyses=analyses, csv_dir=csv, png_dir=png, sankey_year=year)
        size = files.html.stat().st_size / 1e6
        console.print(f"wrote {files.html} ({size:,.1f} MB, self-contained: open it in any browser, no network needed)")
        if files.csv:
            console.print(f"wrote {len(files.csv)} CSV files to {csv}")
        if files.png:
            console.print(f"wrote {len(files.png)} PNG files to {png}")
        if files.png_skipped:
            err_console.print(f"[yellow]PNG export skipped:[/] {files.png_skipped}", highlight=False)
        if result.status != "optimal":
            err_console.print(
                f"[yellow]note:[/] the result's status is {result.status}; the report explains why.", highlight=False
            )
        if result.status == "error":
            raise typer.Exit(1)

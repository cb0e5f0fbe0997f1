"""The charts of a coalition comparison (`optimizer.analysis.compare`), for every way of asking.

    >>> from optimizer.analysis import compare
    >>> from optimizer.viz.compare import compare_charts, compare_figures, write_compare_report
    >>> result = compare(coalitions=["five_eyes", "quad"])
    >>> compare_charts(result)[1].figure.show()        # a plotly Figure, with the table it draws
    >>> compare_figures(result)                         # the same as JSON, as GET /ui/jobs/{id}/figures
    >>> write_compare_report(result, "compare.html")    # self-contained, opens offline

Four charts: exposure by year (one line per coalition), cost and capex, exposed and unmet
demand, and new capacity by stage. Each coalition has the exposure chart's colour in every
chart. Cells without an allocation (solver errors) have no numbers and are left out of the
bar charts; the HTML file lists them with their message, as the comparison page does.

The comparison page (`api/routes/ui.py`) and ``coalition chart compare`` both call this module.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from optimizer.errors import CoalitionError
from optimizer.viz import charts
from optimizer.viz import palette as pal
from optimizer.viz.analysis import AnalysisChart, _as_dict, compare_exposure

if TYPE_CHECKING:  # the report module imports the solver: load it only to write HTML
    from optimizer.analysis.schemas import CompareResult
    from optimizer.viz.report import Chart, ReportFiles

    CompareLike = Mapping[str, Any] | CompareResult

BASE_COLUMNS = ["label", "coalition", "scenario"]  # the first columns of every bar chart's table


class BarChart(NamedTuple):
    """A chart of two numbers of each cell, side by side; panels: (title, cell column, scale, note if all 0)."""

    key: str
    title: str
    caption: str
    panels: tuple[tuple[str, str, float, str], ...]
    unit: str
    number: str  # the d3 / Python format of the values


BAR_CHARTS = (
    BarChart(
        "cost_capex",
        "What each plan costs over the horizon (USD bn)",
        "Total cost: everything the plan pays over the horizon (purchases, operation, tariffs, capital"
        " and penalties), in US dollars; capital: what it spends on new capacity, within the budget.",
        (
            ("Total cost of the plan", "cost_usd", 1e9, "no cost"),
            ("Capital spent on new capacity", "capex_usd", 1e9, "no new capacity is built"),
        ),
        "USD bn",
        ",.2f",
    ),
    BarChart(
        "exposed_unmet",
        "Demand exposed to the adversary, and demand left unmet (t)",
        "Tonnes of coalition demand (oxide equivalent) over the whole horizon that are adversary-made or carry"
        " adversary input, and tonnes nobody supplies (for instance under an export ban).",
        (
            ("Exposed to the adversary", "exposed_t", 1.0, "nothing exposed"),
            ("Left unmet", "unmet_t", 1.0, "all demand is met"),
        ),
        "t, summed over years and materials",
        ",.0f",
    ),
)


def _csv(frame: pd.DataFrame) -> str:
    # "\n" whatever the platform, so the page's downloads are the same everywhere
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def _labelled(result: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each cell with its chart label: the coalition (and the scenario, when there are several)."""
    several = len(result.get("scenarios", [])) > 1
    return [(f"{c['coalition']} / {c['scenario']}" if several else c["coalition"], c) for c in result.get("cells", [])]


def _colours(labels: Sequence[str], exposure: go.Figure) -> dict[str, str]:
    """Label -> colour: the exposure chart's line colours, so every chart colours a coalition alike."""
    found: dict[str, str] = {}
    for trace in exposure.data:
        meta = trace.meta if isinstance(trace.meta, dict) else {}
        if meta.get("kind") == "exposed" and trace.line.color:
            found.setdefault(meta["label"], trace.line.color)
    used = len(found)
    for label in labels:  # cells the exposure chart has no line for (no allocation)
        if label not in found:
            found[label] = pal.categorical(used)
            used += 1
    return found


def _pair_of_bars(spec: BarChart, rows: list[dict[str, Any]], colours: Mapping[str, str]) -> go.Figure:
    """The spec's panels side by side, one bar per coalition (a row of `rows`)."""
    title, unit, number = spec.title, spec.unit, spec.number
    labels = [r["label"] for r in rows]
    fig = make_subplots(
        rows=1, cols=len(spec.panels), subplot_titles=[p[0] for p in spec.panels], horizontal_spacing=0.1
    )
    for col, (panel, column, scale, empty) in enumerate(spec.panels, start=1):
        values = [float(r[column] or 0.0) / scale for r in rows]
        fig.add_trace(
            go.Bar(
                x=labels,
                y=values,
                marker={"color": [colours[label] for label in labels]},
                text=[format(v, number) for v in values],
                textposition="outside",
                cliponaxis=False,
                showlegend=False,
                hovertemplate=f"%{{x}}<br>{panel}: %{{y:{number}}} {unit}<extra></extra>",
                meta={"column": column, "scale": scale},
            ),
            row=1,
            col=col,
        )
        if not any(values):
            fig.add_annotation(
                text=empty,
                x=0.5,
                y=0.5,
                xref=f"x{'' if col == 1 else col} domain",
                yref=f"y{'' if col == 1 else col} domain",
                showarrow=False,
                font={"color": "#555"},
            )
        fig.update_yaxes(title_text=unit, tickformat=number, rangemode="tozero", gridcolor="#eee", row=1, col=col)
    return charts._style(fig, title, height=420, legend=False, panels=True)


def _bars_chart(
    spec: BarChart, solved: Sequence[tuple[dict[str, Any], Mapping[str, Any]]], colours: Mapping[str, str]
) -> AnalysisChart:
    """A pair-of-bars chart of two cell numbers (the panels' columns) and its table; `solved`: (base row, cell)."""
    columns = [column for _, column, _, _ in spec.panels]
    rows = [{**base, **{column: cell.get(column) for column in columns}} for base, cell in solved]
    figure = (
        _pair_of_bars(spec, rows, colours) if rows else charts.empty_figure(spec.title, "No coalition could be solved.")
    )
    return AnalysisChart(
        spec.key, spec.title, figure, pd.DataFrame(rows, columns=[*BASE_COLUMNS, *columns]), spec.caption
    )


def _capacity_figure(title: str, frame: pd.DataFrame, labels: Sequence[str], colours: Mapping[str, str]) -> go.Figure:
    """Grouped bars: new capacity by stage, one bar per coalition."""
    if frame.empty or not (frame["capacity_t_per_yr"] > 0).any():
        return charts.empty_figure(title, "No coalition builds new capacity (is the budget zero?).")
    figure = go.Figure()
    for label in labels:
        part = frame[frame["label"] == label]
        figure.add_trace(
            go.Bar(
                x=[charts.stage_label(s) for s in part["stage"]],
                y=part["capacity_t_per_yr"],
                name=label,
                marker={"color": colours[label]},
                hovertemplate=f"{label}<br>%{{x}}: %{{y:,.0f}} t/yr built<extra></extra>",
                meta={"label": label},
            )
        )
    figure.update_layout(barmode="group", bargap=0.2)
    figure.update_yaxes(title_text="new capacity, t/yr (oxide-eq)", tickformat=",.0f", gridcolor="#eee")
    figure.update_xaxes(title_text="stage")
    return charts._style(figure, title, height=440)


def compare_charts(result: CompareLike) -> list[AnalysisChart]:
    """A `CompareResult` (the model or its JSON) -> its four charts, each with the table it draws.

    Keys: exposure_by_year, cost_capex, exposed_unmet, capacity_by_stage (in that order).
    """
    data = _as_dict(result)
    table = compare_exposure(data)
    exposure = charts.exposure_chart(table, title="Coalitions compared: exposed share of demand by year")
    out = [
        AnalysisChart(
            "exposure_by_year",
            "Exposed share of demand by year",
            exposure,
            table.rename(columns={"label": "coalition"}),
            "One line per coalition (and scenario): the share of coalition demand exposed to the adversary;"
            " dotted lines show demand left unmet.",
        )
    ]
    labelled = _labelled(data)
    colours = _colours([label for label, _ in labelled], exposure)
    # (first columns of the tables, cell); cells without numbers (no allocation) are left out of the bars
    solved = [
        ({"label": label, "coalition": c["coalition"], "scenario": c["scenario"]}, c)
        for label, c in labelled
        if c.get("exposure_share_years") is not None
    ]
    out += [_bars_chart(spec, solved, colours) for spec in BAR_CHARTS]

    # every stage for every coalition (known stages first), so the CSV has a row where nothing is built
    stages = list(charts.STAGE_LABELS)
    for _, c in solved:
        stages += [s for s in c.get("capacity_by_stage", {}) if s not in stages]
    capacity = [
        {**base, "stage": stage, "capacity_t_per_yr": float(c.get("capacity_by_stage", {}).get(stage, 0.0))}
        for base, c in solved
        for stage in stages
    ]
    title = "New capacity built, by stage (t/yr)"
    frame = pd.DataFrame(capacity, columns=[*BASE_COLUMNS, "stage", "capacity_t_per_yr"])
    out.append(
        AnalysisChart(
            "capacity_by_stage",
            title,
            _capacity_figure(title, frame, [base["label"] for base, _ in solved], colours),
            frame,
            "New capacity each coalition's plan builds over the horizon, added up over host countries and"
            " materials, by stage of the supply chain.",
        )
    )
    return out


def figure_json(chart: AnalysisChart) -> dict[str, Any]:
    """One chart as the comparison page draws it: plotly figure JSON and the CSV of its table."""
    return {
        "key": chart.key,
        "title": chart.title,
        "caption": chart.caption,
        "figure": json.loads(chart.figure.to_json()),
        "csv": _csv(chart.data),
        "filename": f"{chart.key}.csv",
        "rows": len(chart.data),
    }


def compare_figures(result: CompareLike) -> list[dict[str, Any]]:
    """A `CompareResult` (as JSON, or the model) -> the page's charts, each with the CSV of what it draws.

    Each item: key, title, caption, figure (plotly figure JSON), csv, filename and rows; this is
    the ``charts`` list of ``GET /ui/jobs/{id}/figures``.
    """
    return [figure_json(chart) for chart in compare_charts(result)]


# --- the HTML file ------------------------------------------------------------------------------


def load_compare(path: str | Path) -> dict[str, Any]:
    """Read a comparison: the JSON of ``coalition compare ... --json``, or of ``GET /v1/jobs/{id}/result``."""
    p = Path(path)
    if not p.is_file():
        raise CoalitionError(f"{p}: no such file")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CoalitionError(f"{p} is not valid JSON: {exc}") from None
    # the API wraps the result with the job's input and versions (its top-level 'kind' is the job's)
    if isinstance(data, dict) and isinstance(data.get("result"), dict):
        data = data["result"]
    if not isinstance(data, dict) or data.get("kind") != "compare" or not isinstance(data.get("cells"), list):
        raise CoalitionError(
            f"{p} is not a comparison: write one with `coalition compare COALITION COALITION ... --json > FILE`"
        )
    return data


def _unsolved_html(data: Mapping[str, Any]) -> str:
    """The cells without an optimal plan, with the solver's explanation (they are absent from the bars)."""
    from optimizer.viz.report import _e

    items = [
        f"<li><b>{_e(label)}</b>: {_e(c.get('status'))}{': ' + _e(c['message']) if c.get('message') else ''}</li>"
        for label, c in _labelled(data)
        if c.get("status") != "ok"
    ]
    if not items:
        return ""
    return (
        '<section class="banner" id="unsolved"><h2>Without an optimal plan</h2>'
        "<p>The solver's explanation for each; one without an allocation has no numbers in the charts.</p>"
        f"<ul>{''.join(items)}</ul></section>"
    )


def build_compare_report(result: CompareLike, title: str | None = None) -> tuple[str, list[Chart]]:
    """A comparison's charts as one self-contained HTML document (plotly.js embedded), and the charts.

    The page of `optimizer.viz.report`: its style, and each chart with its caption and a CSV link.
    """
    from plotly.offline import get_plotlyjs, get_plotlyjs_version

    from optimizer.viz.report import CSS, Chart, _chart_html, _e

    data = _as_dict(result)
    built = [Chart(c.key, c.title, c.figure, c.data, c.caption) for c in compare_charts(data)]
    coalitions = data.get("coalitions") or list(dict.fromkeys(c["coalition"] for c in data.get("cells", [])))
    scenarios = [str(s) for s in data.get("scenarios", [])]
    heading = title or f"Coalitions compared: {', '.join(map(str, coalitions))}"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    ranking = "".join(
        f"<li>{_e(scenario)}: " + " · ".join(f"{i}. {_e(name)}" for i, name in enumerate(order, start=1)) + "</li>"
        for scenario, order in (data.get("ranking") or {}).items()
    )
    body = [
        '<header class="top"><p class="kicker">Coalition supply-chain comparison</p>',
        f"<h1>{_e(heading)}</h1>",
        f'<p class="meta">Scenario{"s" if len(scenarios) > 1 else ""}: {_e(", ".join(scenarios))} · Made {stamp}</p>',
        '<nav class="toc">' + "".join(f'<a href="#fig-{_e(c.key)}">{_e(c.title)}</a>' for c in built) + "</nav>",
        "</header>",
        _unsolved_html(data),
        (
            '<section id="ranking"><h2>Ranking, least exposed first</h2>'
            f'<p class="small">Exposure in share-years; ties go to the cheaper plan.</p><ul>{ranking}</ul></section>'
            if ranking
            else ""
        ),
        '<section id="charts">',
        *(f"<h2>{_e(c.title)}</h2>{_chart_html(c)}" for c in built),
        "</section>",
        "<footer>Made by <code>coalition chart compare</code> from the coalition supply-chain optimizer: the charts"
        " of the comparison page. Exposure: supply made by the adversary or made from its material. Charts:"
        f" plotly.js {_e(get_plotlyjs_version())}, embedded; this file needs no network.</footer>",
    ]
    document = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{_e(heading)}</title><style>{CSS}</style><script type="text/javascript">{get_plotlyjs()}</script>'
        "</head><body><main>" + "".join(body) + "</main></body></html>"
    )
    return document, built


def write_compare_report(
    result: CompareLike, out: str | Path, csv_dir: str | Path | None = None, title: str | None = None
) -> ReportFiles:
    """Write the comparison's charts to `out` (self-contained HTML) and optionally each chart's data as CSV."""
    from optimizer.viz.report import ReportFiles, write_csvs

    document, built = build_compare_report(result, title=title)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document, encoding="utf-8")
    files = ReportFiles(html=path)
    if csv_dir is not None:
        files.csv = write_csvs(built, csv_dir)
    return files

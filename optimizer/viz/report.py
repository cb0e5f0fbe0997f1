"""One self-contained HTML report of a solve, for people who do not read trade matrices.

`build_report(result)` returns the HTML text; `write_report` writes it (and optionally each
chart's data as CSV and each chart as PNG). The file needs no network to open: plotly.js is
embedded once, every chart's data is inline, and each chart's table can be downloaded from
the page as CSV (a data: URI). Sections: headline numbers, the infeasibility explanation
(when the scenario cannot be met), the charts, bottlenecks (shadow prices), what each ally
brings, the assumptions in words, and the data sources with their reliability.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import importlib.util
import os
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs, get_plotlyjs_version

from optimizer.run import Result
from optimizer.viz import charts
from optimizer.viz.analysis import analysis_charts, stress_table
from optimizer.viz.data import (
    ResultLike,
    adversary_share_table,
    as_result,
    capacity_online_table,
    capex_by_host_table,
    country_names,
    exposure_table,
    flow_table,
    horizon,
    materials_of,
)

THRESHOLDS = (0.5, 0.1)


@dataclass
class Chart:
    """A chart of the report: its figure, the table it draws (for CSV) and a caption."""

    key: str
    title: str
    figure: go.Figure
    data: pd.DataFrame
    caption: str
    section: str = "charts"


@dataclass
class MaterialHeadline:
    """Headline numbers of one material."""

    material: str
    first_year: int
    last_year: int
    first_share: float
    last_share: float
    below: dict[float, int | None]  # threshold -> first year from which the share stays below it
    first_unmet_share: float
    last_unmet_share: float
    unmet_t: float
    demand_t: float
    unmet_until: int | None = None  # first year from which (almost) no demand goes unmet
    max_share: float = 0.0  # the largest exposed share in any year


@dataclass
class ReportFiles:
    """What `write_report` wrote, and why PNG export was skipped if it was."""

    html: Path
    csv: list[Path] = field(default_factory=list)
    png: list[Path] = field(default_factory=list)
    png_skipped: str | None = None


# --- numbers ------------------------------------------------------------------------------------


def year_below(shares: pd.Series, threshold: float) -> int | None:
    """First year from which the share stays below `threshold` to the end (None: never).

    `shares` is indexed by year. A share that dips below and rises again counts from the last dip.
    """
    years = sorted(int(y) for y in shares.index)
    found: int | None = None
    for year in reversed(years):
        if float(shares.loc[year]) < threshold - 1e-9:
            found = year
        else:
            break
    return found


def headlines(result: Result) -> list[MaterialHeadline]:
    """Exposed share in the first and last year and when it falls below 50% and 10%, per material."""
    table = result.tables["exposure_by_year"]
    out = []
    for material in materials_of(result):
        part = table[table["material"] == material].set_index("year").sort_index()
        if part.empty:
            continue
        first, last = int(part.index[0]), int(part.index[-1])
        out.append(
            MaterialHeadline(
                material=material,
                first_year=first,
                last_year=last,
                first_share=float(part.at[first, "exposed_share"]),
                last_share=float(part.at[last, "exposed_share"]),
                below={t: year_below(part["exposed_share"], t) for t in THRESHOLDS},
                first_unmet_share=float(part.at[first, "unmet_share"]),
                last_unmet_share=float(part.at[last, "unmet_share"]),
                unmet_t=float(part["unmet_t"].sum()),
                demand_t=float(part["demand_t"].sum()),
                unmet_until=year_below(part["unmet_share"], 0.005),
                max_share=float(part["exposed_share"].max()),
            )
        )
    return out


def _bn(usd: float | None) -> str:
    """Money for people: USD 1.23 bn, USD 45.6 m, or USD 12,345 for small sums."""
    if usd is None:
        return "-"
    if abs(usd) >= 1e9 or usd == 0:
        return f"USD {usd / 1e9:,.2f} bn"
    if abs(usd) >= 1e6:
        return f"USD {usd / 1e6:,.1f} m"
    return f"USD {usd:,.0f}"


def _pct(x: float) -> str:
    if x < 0.0005:  # solver noise is no dependence
        return "0%"
    if x < 0.005:
        return "<1%"
    return f"{x:.0%}"


def _t(x: float) -> str:
    return f"{x:,.0f} t"


# --- charts -------------------------------------------------------------------------------------


def _years_for_sankey(result: Result, year: int | None) -> list[int] | int:
    if year is not None:
        return year
    return horizon(result)


def _base_for(analysis: Any, result: Result) -> pd.DataFrame | None:
    """The plan's mean exposed share by year, for an uncertainty fan of the same coalition (else None)."""
    data = analysis.model_dump(mode="json") if hasattr(analysis, "model_dump") else analysis
    if not isinstance(data, Mapping) or data.get("kind") != "uncertainty":
        return None
    if sorted(data.get("coalition") or []) != sorted(result.summary.coalition):
        return None
    table = result.tables["exposure_by_year"]
    if table.empty:
        return None
    mean = table.groupby("year", as_index=False)["exposed_share"].mean()  # the LP weights materials equally
    return mean.rename(columns={"exposed_share": "value"})


def build_charts(
    result: Result,
    names: Mapping[str, str] | None = None,
    sankey_year: int | None = None,
    analyses: Sequence[Any] = (),
) -> list[Chart]:
    """The report's charts, each with the table it draws."""
    out: list[Chart] = []
    if result.tables["exposure_by_year"].empty:
        return out
    mats = materials_of(result)
    out.append(
        Chart(
            "exposure",
            "Dependence on the adversary, year by year",
            charts.exposure_chart(result),
            exposure_table(result),
            "Share of the coalition's demand that is exposed: made by the adversary or made from its material,"
            " so an export ban would cut it off. Dotted grey: demand nobody supplies (unmet), e.g. under an"
            " export ban. Faint lines mark 50% and 10%.",
        )
    )
    out.append(
        Chart(
            "adversary_share_by_stage",
            "Where along the chain the dependence sits",
            charts.adversary_share_chart(result),
            adversary_share_table(result),
            "For each stage, the share of the product the coalition receives that the adversary made itself."
            " A stage at 0% can still carry exposed material made elsewhere from the adversary's input.",
        )
    )
    capacity = capacity_online_table(result)
    for material in mats:
        part = capacity[capacity["material"] == material].reset_index(drop=True)
        if part.empty:
            continue
        out.append(
            Chart(
                f"capacity_{material}",
                f"New {material} capacity, by host country and stage",
                charts.capacity_chart(result, material=material, names=names),
                part,
                "Cumulative new capacity online each year (t/yr of oxide-equivalent), counted from the year it starts"
                " producing (construction start + lead time); existing and announced plants are not included."
                " Hover over 'Other hosts' to see who they are.",
            )
        )
    out.append(
        Chart(
            "capex_by_host",
            "Who builds where",
            charts.capex_by_host_chart(result, names=names),
            capex_by_host_table(result),
            "Capital spent on new capacity over the horizon, by host country and stage (USD bn). Hosts outside"
            " the coalition are third countries where the coalition finances or buys from new capacity.",
        )
    )
    years = _years_for_sankey(result, sankey_year)
    for material in mats:
        flows = flow_table(result, year=sankey_year, material=material)
        if flows.empty:
            continue
        shown = sankey_year if sankey_year is not None else horizon(result)[-1]
        out.append(
            Chart(
                f"flows_{material}",
                f"{material}: from mines to magnets to coalition demand",
                charts.sankey_chart(result, material=material, year=years, names=names),
                flows,
                f"Who supplies whom at each stage ({shown} shown"
                + ("; move the slider to see another year" if sankey_year is None else "")
                + "). Links: red = adversary-made or adversary-processed material, blue = free material, green ="
                " stockpile releases. Nodes: dark blue = coalition member, light blue = third country, red ="
                " adversary. Market trade goes through pools without origin-destination pairs, so each pool's"
                " buyers are shown receiving the pool's mix by origin (proportional allocation). Hover for tonnes."
                + (" The CSV holds every year." if sankey_year is None else ""),
            )
        )
    for analysis in analyses:
        for a in analysis_charts(analysis, names=names, base_by_year=_base_for(analysis, result)):
            section = "allies" if a.key == "shapley" else "analyses"
            out.append(Chart(a.key, a.title, a.figure, a.data, a.caption, section=section))
    return out


# --- HTML pieces ----------------------------------------------------------------------------------

CSS = """
:root { --ink:#1d1d1f; --muted:#5a5a5f; --line:#e3e3e8; --adv:#D55E00; --coal:#0072B2; --bg:#fafafa; }
* { box-sizing: border-box; }
body { font-family: "Helvetica Neue", Helvetica, Arial, "DejaVu Sans", sans-serif; color: var(--ink);
  margin: 0; background: #fff; line-height: 1.45; font-size: 15px; }
main { max-width: 1240px; margin: 0 auto; padding: 28px 32px 60px; }
header.top { border-bottom: 3px solid var(--ink); padding-bottom: 14px; margin-bottom: 22px; }
.kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 12px; color: var(--muted); margin: 0; }
h1 { font-size: 30px; margin: 6px 0 8px; line-height: 1.2; }
h2 { font-size: 22px; margin: 38px 0 6px; padding-top: 12px; border-top: 1px solid var(--line); }
h3 { font-size: 17px; margin: 22px 0 4px; }
.lead { font-size: 17px; margin: 4px 0 8px; max-width: 900px; }
.meta { color: var(--muted); font-size: 13px; margin: 4px 0; }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; font-size: 12px;
  text-transform: uppercase; letter-spacing: .04em; }
.status.optimal { background: #e3f1fa; color: #00507d; }
.status.bad { background: #fbe6d9; color: #8a3a00; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(210px, 1fr)); gap: 14px; margin: 14px 0; }
.summary { font-size: 19px; line-height: 1.5; margin: 6px 0 14px; max-width: 1040px; }
.card .sub.warn { color: #8a3a00; }
.card .big.unmet { font-size: 20px; color: #6b6b70; margin-top: 4px; }
.card .big.unmet small { font-size: 13px; font-weight: 400; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; background: var(--bg); }
.card .label { font-size: 13px; color: var(--muted); margin: 0 0 4px; }
.card .big { font-size: 26px; font-weight: 700; margin: 0; line-height: 1.15; }
.card .big .arrow { color: var(--muted); font-weight: 400; }
.card .adv { color: var(--adv); }
.card .sub { font-size: 13px; margin: 6px 0 0; }
.card.material { border-left: 5px solid var(--adv); }
.card.money { border-left: 5px solid var(--coal); }
.banner { border: 2px solid var(--adv); background: #fdf1e9; border-radius: 8px; padding: 14px 18px; margin: 18px 0; }
.banner h2 { border: 0; margin: 0 0 6px; padding: 0; color: #8a3a00; }
.banner ul { margin: 6px 0 0; padding-left: 20px; }
nav.toc { font-size: 14px; margin: 10px 0 0; }
nav.toc { display: flex; flex-wrap: wrap; gap: 4px 16px; }
nav.toc a { color: var(--coal); text-decoration: none; white-space: nowrap; }
figure.chart { margin: 20px 0 30px; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px 12px; }
figure.chart figcaption { font-size: 14px; color: var(--muted); margin: 6px 4px 0; max-width: 1000px; }
a.csv { display: inline-block; margin-top: 6px; font-size: 13px; color: var(--coal); }
table { border-collapse: collapse; font-size: 14px; margin: 8px 0 14px; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
dl.assumptions { display: grid; grid-template-columns: 220px 1fr; gap: 6px 18px; margin: 10px 0; }
dl.assumptions dt { font-weight: 600; }
dl.assumptions dd { margin: 0; }
details { margin: 8px 0; }
details summary { cursor: pointer; color: var(--coal); }
.small { font-size: 13px; color: var(--muted); }
footer { margin-top: 40px; padding-top: 12px; border-top: 1px solid var(--line); font-size: 12px; color: var(--muted); }
@media print {
  body { font-size: 12px; } main { padding: 0; max-width: none; }
  figure.chart { break-inside: avoid; } a.csv, nav.toc, .modebar { display: none !important; }
  details { display: block; } details > * { display: block; }
}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def csv_data_uri(frame: pd.DataFrame) -> str:
    """The table as a base64 data: URI of a CSV file (UTF-8, header row, no index)."""
    payload = frame.to_csv(index=False).encode("utf-8")
    return "data:text/csv;charset=utf-8;base64," + base64.b64encode(payload).decode("ascii")


def _chart_html(chart: Chart) -> str:
    div = chart.figure.to_html(
        full_html=False, include_plotlyjs=False, config=charts.chart_config(), div_id=f"chart-{chart.key}"
    )
    rows = len(chart.data)
    return (
        f'<figure class="chart" id="fig-{_e(chart.key)}" aria-label="{_e(chart.title)}">{div}'
        f"<figcaption>{_e(chart.caption)}<br>"
        f'<a class="csv" download="{_e(chart.key)}.csv" href="{csv_data_uri(chart.data)}">'
        f"Download the data of this chart (CSV, {rows:,} rows)</a></figcaption></figure>"
    )


def _coalition_words(result: Result, names: Mapping[str, str]) -> str:
    members = ", ".join(names.get(c, c) for c in result.summary.coalition)
    preset = result.summary.scenario.get("coalition")
    if isinstance(preset, str):
        return f"{members} (preset {preset})"
    return members


def summary_sentences(result: Result, names: Mapping[str, str]) -> str:
    """The plan in two or three plain sentences (what a minister reads first)."""
    s = result.summary
    adversary = " and ".join(names.get(a, a) for a in s.adversaries)
    said = []
    for h in headlines(result):
        first, last = _pct(h.first_share), _pct(h.last_share)
        y10 = h.below[0.1]
        if y10 is None:
            text = (
                f"{h.material} exposure to {adversary} goes from {first} in {h.first_year} to {last} in {h.last_year}"
            )
            text += ", never below 10%"
        elif h.max_share < 0.0005:
            text = f"{h.material} is never exposed to {adversary}"
        elif y10 == h.first_year:
            text = f"{h.material} stays below 10% exposed to {adversary} throughout ({first} in {h.first_year})"
        else:
            text = f"{h.material} exposure to {adversary} falls from {first} in {h.first_year} to below 10% by {y10}"
            if h.last_share >= 0.0005:
                text += f" ({last} in {h.last_year})"
        if h.unmet_t > 0.5:
            if h.first_unmet_share >= 0.005:
                text += f", but {_pct(h.first_unmet_share)} of its {h.first_year} demand goes unmet"
                if h.unmet_until is not None and h.unmet_until > h.first_year:
                    text += f" until {h.unmet_until}"
                elif h.unmet_until is None:
                    text += f" and some still does in {h.last_year}"
            else:
                text += f", but {_t(h.unmet_t)} of demand goes unmet over the horizon"
        said.append(text)
    sentences = ["; ".join(said) + "." if said else ""]
    capex = (s.cost_breakdown_usd or {}).get("capex", 0.0)
    hosts = len({b["country"] for b in s.builds})
    budget = s.scenario.get("budget_usd")
    of_budget = "" if budget is None else f" of its {_bn(budget)} budget"
    if s.builds:
        sentences.append(
            f"The plan spends {_bn(capex)}{of_budget} on {len(s.builds)} new plants and expansions in {hosts}"
            f" countries; total cost over the horizon is {_bn(s.total_cost_usd)}."
        )
    else:
        sentences.append(f"The plan builds no new capacity; total cost over the horizon is {_bn(s.total_cost_usd)}.")
    return " ".join(x for x in sentences if x)


def _headline_html(result: Result, names: Mapping[str, str]) -> str:
    s = result.summary
    parts = [f'<section id="headline"><p class="summary">{_e(summary_sentences(result, names))}</p><div class="cards">']
    adversary = " and ".join(names.get(a, a) for a in s.adversaries)
    for h in headlines(result):
        below = []
        if h.below[min(THRESHOLDS)] == h.first_year:  # below every threshold from the start
            below.append(f"below {min(THRESHOLDS):.0%} throughout")
        for t in THRESHOLDS if not below else ():
            year = h.below[t]
            if year is None:
                below.append(f"stays above {t:.0%} through {h.last_year}")
            elif year == h.first_year:
                below.append(f"below {t:.0%} from the start")
            else:
                below.append(f"below {t:.0%} from <b>{year}</b>")
        unmet = ""
        if h.unmet_t > 0.5:
            unmet = (
                f'<p class="big unmet">{_pct(h.first_unmet_share)} <span class="arrow">→</span>'
                f" {_pct(h.last_unmet_share)} <small>unmet</small></p>"
                f'<p class="sub warn"><b>Unmet demand:</b> {_t(h.unmet_t)} over the horizon'
                f" ({_pct(h.unmet_t / h.demand_t)} of demand).</p>"
            )
        parts.append(
            f'<div class="card material"><p class="label">{_e(h.material)}: share of demand exposed to {_e(adversary)},'
            f" {h.first_year} → {h.last_year}</p>"
            f'<p class="big"><span class="adv">{_pct(h.first_share)}</span> <span class="arrow">→</span>'
            f' <span class="adv">{_pct(h.last_share)}</span></p>'
            f'<p class="sub">{"; ".join(below)}.</p>{unmet}</div>'
        )
    breakdown = s.cost_breakdown_usd or {}
    capex = breakdown.get("capex")
    budget = s.scenario.get("budget_usd")
    budget_words = "no budget limit" if budget is None else f"of a {_bn(budget)} budget"
    other = ", ".join(f"{k.replace('_', ' ')} {_bn(v)}" for k, v in breakdown.items() if k != "capex")
    parts.append(
        f'<div class="card money"><p class="label">Capital for new capacity</p><p class="big">{_bn(capex)}</p>'
        f'<p class="sub">{budget_words}; {len(s.builds)} builds in'
        f" {len({b['country'] for b in s.builds})} countries.</p></div>"
    )
    parts.append(
        f'<div class="card money"><p class="label">Total cost over the horizon</p><p class="big">'
        f'{_bn(s.total_cost_usd)}</p><p class="sub">capex plus {_e(other)}.</p></div>'
    )
    unmet_total = sum(float(r["unmet_t"]) for r in s.unmet_demand)
    demand_total = float(result.tables["exposure_by_year"]["demand_t"].sum())
    parts.append(
        f'<div class="card money"><p class="label">Demand left unmet</p><p class="big">{_t(unmet_total)}</p>'
        f'<p class="sub">{_pct(unmet_total / demand_total) if demand_total else "-"} of coalition demand over'
        " the horizon, all materials.</p></div>"
    )
    parts.append("</div></section>")
    return "".join(parts)


def _banner_html(result: Result) -> str:
    s = result.summary
    if s.status == "optimal" and not s.violations:
        return ""
    heading = {
        "infeasible": "The scenario cannot be met as asked",
        "time_limit": "The solver stopped at its time limit",
        "unbounded": "The model is unbounded",
        "error": "The solve failed",
    }.get(s.status, f"Status: {s.status}")
    items = "".join(f"<li>{_e(v.explanation)}</li>" for v in s.violations)
    shown = (
        "The charts below show the closest plan the model found."
        if not result.tables["exposure_by_year"].empty
        else "There is no plan to show."
    )
    # the message repeats the violations' explanations: list them instead when there are any
    lead = "Each requirement that cannot be met, and what would or would not fix it:" if items else _e(s.message)
    return (
        f'<section class="banner" id="infeasible"><h2>{_e(heading)}</h2><p>{lead}</p>'
        + (f"<ul>{items}</ul>" if items else "")
        + f"<p>{shown}</p></section>"
    )


def _bottlenecks_html(result: Result, names: Mapping[str, str]) -> str:
    prices = result.summary.shadow_prices or {}
    parts = ['<section id="bottlenecks"><h2>Bottlenecks: where more money or capacity would help most</h2>']
    if not prices:
        parts.append(
            "<p>No bottleneck report for this solve (no dual values: the solve gave no allocation,"
            " or duals were switched off).</p></section>"
        )
        return "".join(parts)
    parts.append(
        '<p class="small">From the linear program\'s shadow prices: the effect of a small change, all else'
        f" equal. Unit: {_e(prices.get('unit', 'share-years'))}.</p>"
    )
    budget = prices.get("budget")
    if budget:
        value = float(budget.get("exposure_reduction_per_busd", 0.0))
        parts.append(
            f"<p><b>Budget.</b> {_e(budget.get('interpretation', '')).capitalize()}"
            + (f": {value:,.3f} share-years per USD bn." if abs(value) > 1e-12 else ".")
            + "</p>"
        )
    capacity = prices.get("capacity") or []
    if capacity:
        parts.append(
            "<p><b>Capacity.</b> One more tonne per year of capacity, available throughout the horizon, in these"
            " places would avoid the most exposed supply:</p><table><tr><th>Host</th><th>Stage</th><th>Material</th>"
            '<th class="num">Exposed tonnes avoided over the horizon per extra t/yr</th></tr>'
        )
        for (stage, material, value), hosts in bottleneck_groups(capacity):
            parts.append(
                f"<tr><td>{_e(', '.join(names.get(h, h) for h in hosts))}</td><td>{_e(charts.stage_label(stage))}"
                f'</td><td>{_e(material)}</td><td class="num">{value:,.2f}</td></tr>'
            )
        parts.append("</table>")
    elif budget is not None:
        parts.append("<p><b>Capacity.</b> No capacity limit binds.</p>")
    parts.append("</section>")
    return "".join(parts)


def bottleneck_groups(capacity: Sequence[Mapping[str, Any]]) -> list[tuple[tuple[str, str, float], list[str]]]:
    """Capacity shadow prices with equal value, stage and material merged into one row of hosts (ranked)."""
    groups: dict[tuple[str, str, float], list[str]] = {}
    for b in capacity:
        key = (str(b["stage"]), str(b["material"]), round(float(b["exposure_reduction_t_per_t"]), 2))
        groups.setdefault(key, []).append(str(b["country"]))
    return sorted(groups.items(), key=lambda kv: -kv[0][2])


def member_table(result: Result) -> pd.DataFrame:
    """Per member: supply received at the last stage, exposed share of it, unmet, capex hosted and paid.

    Columns: member, received_t, exposed_t, exposed_share, unmet_t, capex_hosted_usd, paid_usd.
    """
    coalition = result.summary.coalition
    flows = flow_table(result)
    final = flows[flows["stage_to"] == "demand"] if not flows.empty else flows
    received = final.groupby("destination")["quantity_t"].sum() if not final.empty else pd.Series(dtype=float)
    exposed_f = final[final["grade"] == "exposed"] if not final.empty else final
    exposed = exposed_f.groupby("destination")["quantity_t"].sum() if not exposed_f.empty else pd.Series(dtype=float)
    unmet_tab = result.tables["unmet_demand"]
    unmet = unmet_tab.groupby("country")["unmet_t"].sum() if not unmet_tab.empty else pd.Series(dtype=float)
    capex = capex_by_host_table(result).groupby("country")["capex_usd"].sum()
    payer = result.tables["cost_by_payer"]
    paid = payer.set_index("payer")["amount_usd"] if not payer.empty else pd.Series(dtype=float)
    rows = []
    for m in coalition:
        got = float(received.get(m, 0.0))
        exp = float(exposed.get(m, 0.0))
        rows.append(
            {
                "member": m,
                "received_t": got,
                "exposed_t": exp,
                "exposed_share": exp / got if got > 0 else 0.0,
                "unmet_t": float(unmet.get(m, 0.0)),
                "capex_hosted_usd": float(capex.get(m, 0.0)),
                "paid_usd": float(paid[m]) if m in paid.index else None,
            }
        )
    return pd.DataFrame(rows)


def _allies_html(result: Result, names: Mapping[str, str], extra: Iterable[Chart]) -> str:
    parts = ['<section id="allies"><h2>What each ally brings</h2>']
    table = member_table(result)
    pooled = table["paid_usd"].isna().all()
    parts.append(
        '<p class="small">Finished-product supply each member receives over the horizon (all materials, t oxide-eq),'
        " how much of it is exposed, and the new capacity built on its territory."
        + (
            " Capital is pooled (no per-member budgets in the scenario), so no per-member payment is shown."
            if pooled
            else ""
        )
        + '</p><table><tr><th>Member</th><th class="num">Supply received</th><th class="num">of which exposed'
        '</th><th class="num">Unmet demand</th><th class="num">Capex hosted</th>'
        + ("" if pooled else '<th class="num">Pays</th>')
        + "</tr>"
    )
    for r in table.itertuples(index=False):
        parts.append(
            f'<tr><td>{_e(names.get(r.member, r.member))}</td><td class="num">{_t(r.received_t)}</td>'
            f'<td class="num">{_pct(r.exposed_share)}</td><td class="num">{_t(r.unmet_t)}</td>'
            f'<td class="num">{_bn(r.capex_hosted_usd) if r.capex_hosted_usd > 0 else "none"}</td>'
            + ("" if pooled else f'<td class="num">{_bn(r.paid_usd)}</td>')
            + "</tr>"
        )
    parts.append(
        f'</table><a class="csv" download="members.csv" href="{csv_data_uri(table)}">Download this table (CSV)</a>'
    )
    shown = list(extra)
    for chart in shown:
        parts.append(_chart_html(chart))
    if not shown:
        parts.append(
            '<p class="small">Each member\'s fair share of the value (Shapley values) needs many solves: run'
            " <code>coalition value --json &gt; value.json</code> and add <code>--analysis value.json</code>"
            " to <code>coalition report</code>.</p>"
        )
    parts.append("</section>")
    return "".join(parts)


def _control_words(control: Mapping[str, Any], adversary: str) -> str:
    until = f" to {control['to_year']}" if control.get("to_year") else ""
    materials = ", ".join(control.get("materials") or []) or "every material"
    stages = ", ".join(charts.stage_label(s).lower() for s in control.get("stages") or []) or "every stage"
    share = float(control.get("max_share", 0.0))
    what = "bans exports" if share <= 0 else f"caps exports at {share:.0%} of coalition demand"
    reexports = (
        "re-exports of its material through third countries included"
        if control.get("include_reexports", True)
        else "re-exports through third countries not covered"
    )
    return (
        f"From {control['from_year']}{until}: {adversary} {what} of {materials} ({stages}) to the coalition;"
        f" {reexports}."
    )


def _override_words(o: Mapping[str, Any]) -> str:
    where = ", ".join(f"{k} = {v}" for k, v in (o.get("where") or {}).items()) or "every row"
    actions = []
    if o.get("set"):
        actions.append("set " + ", ".join(f"{k} = {v}" for k, v in o["set"].items()))
    if o.get("scale"):
        actions.append("scale " + ", ".join(f"{k} × {v}" for k, v in o["scale"].items()))
    if o.get("add_rows"):
        actions.append(f"add {len(o['add_rows'])} row(s)")
    return f"Table {o.get('table')}, {where}: {'; '.join(actions)}."


def _assumptions_html(result: Result, names: Mapping[str, str]) -> str:
    sc = result.summary.scenario
    adversary = " and ".join(names.get(a, a) for a in result.summary.adversaries)
    budget = sc.get("budget_usd")
    members = sc.get("member_budgets_usd") or {}
    rows: list[tuple[str, str]] = [
        ("Scenario", f"{sc.get('name', '')}" + (f": {sc['description']}" if sc.get("description") else "")),
        ("Coalition", _coalition_words(result, names)),
        ("Adversary", adversary),
        ("Horizon", f"{sc.get('start_year')}–{sc.get('end_year')}"),
        (
            "Capital budget",
            ("no limit" if budget is None else f"{_bn(budget)} for new capacity over the horizon")
            + (
                "; member caps: " + ", ".join(f"{names.get(k, k)} {_bn(v)}" for k, v in members.items())
                if members
                else "; pooled (no per-member caps)"
            ),
        ),
        (
            "Where new capacity may be built",
            "coalition members only"
            if sc.get("build_hosts") == "coalition"
            else f"coalition members and third countries (never in {adversary})",
        ),
    ]
    controls = sc.get("export_controls") or []
    rows.append(
        (
            "Export controls",
            " ".join(_control_words(c, adversary) for c in controls)
            if controls
            else "none: trade with the adversary is open (but counts as exposure)",
        )
    )
    targets = sc.get("targets") or []
    rows.append(
        (
            "Targets",
            " ".join(
                f"From {t['from_year']}: at most {float(t['max_exposed_share']):.0%} of"
                f" {', '.join(t.get('materials') or []) or 'each material'}'s demand exposed or unmet."
                for t in targets
            )
            if targets
            else "none (exposure is minimised without a timeline target)",
        )
    )
    objective = sc.get("objective") or {}
    mode = objective.get("mode", "lexicographic")
    rows.append(
        (
            "Objective",
            "first the least exposure (unmet demand counted at a penalty), then the least cost for that exposure"
            if mode == "lexicographic"
            else f"one weighted solve: exposure + {objective.get('cost_weight_per_musd')} per USD million of cost",
        )
    )
    overrides = sc.get("overrides") or []
    rows.append(("Changes to the dataset", " ".join(_override_words(o) for o in overrides) if overrides else "none"))
    rows.append(("Dataset", str(sc.get("dataset", ""))))
    m = result.summary.model
    rows.append(
        (
            "Model",
            f"linear program, {m.variables:,} variables, {m.constraints:,} constraints; HiGHS {m.solver_version};"
            f" model version {m.model_version}; units t/yr of oxide-equivalent, USD",
        )
    )
    body = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows)
    return f'<section id="assumptions"><h2>Assumptions</h2><dl class="assumptions">{body}</dl></section>'


def _load_dataset(result: Result) -> Any:
    from optimizer.data.registry import get_dataset

    name = result.summary.scenario.get("dataset")
    if not name:
        return None
    try:
        return get_dataset(str(name))
    except Exception:  # the dataset may have moved since the solve; the report says so
        return None


def source_table(dataset: Any) -> pd.DataFrame:
    """Distinct sources of a dataset: rows citing each, by reliability, and the tables they feed."""
    frames = []
    for name, table in dataset.tables.items():
        if {"source", "reliability"} <= set(table.columns) and len(table):
            frames.append(table[["source", "reliability"]].assign(table=name))
    if not frames:
        return pd.DataFrame(columns=["source", "rows", "primary", "secondary", "estimate", "tables"])
    rows = pd.concat(frames, ignore_index=True)
    rows["source"] = rows["source"].fillna("(none)").astype(str)
    counts = rows.pivot_table(index="source", columns="reliability", values="table", aggfunc="count", fill_value=0)
    for col in ("primary", "secondary", "estimate"):
        if col not in counts:
            counts[col] = 0
    counts["rows"] = counts[["primary", "secondary", "estimate"]].sum(axis=1)
    tables = rows.groupby("source")["table"].agg(lambda t: ", ".join(sorted(set(t))))
    out = counts.join(tables.rename("tables")).reset_index()
    out = out[["source", "rows", "primary", "secondary", "estimate", "tables"]]
    return out.sort_values(["rows", "source"], ascending=[False, True], ignore_index=True)


def _markdown_section(path: Path, heading: str) -> str | None:
    """A section of a dataset card (README.md) as simple HTML: paragraphs and bullet lists."""
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(heading)}\s*$(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    if not match:
        return None
    blocks: list[tuple[str, list[str]]] = []  # ("p", [text]) or ("ul", items), in the card's order
    for block in match.group(1).strip().split("\n\n"):
        lines = block.splitlines()
        if all(not ln.strip() or ln.lstrip().startswith("- ") or ln.startswith("  ") for ln in lines):
            items: list[str] = []
            current: list[str] = []
            for ln in lines:
                if ln.lstrip().startswith("- "):
                    if current:
                        items.append(" ".join(current))
                    current = [ln.lstrip()[2:].strip()]
                elif ln.strip():
                    current.append(ln.strip())
            if current:
                items.append(" ".join(current))
            blocks.append(("ul", items))
        else:
            blocks.append(("p", [" ".join(ln.strip() for ln in lines)]))

    def inline(s: str) -> str:
        s = _e(s)
        s = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", s)
        s = re.sub(r"\*(.+?)\*", r"<i>\1</i>", s)
        return re.sub(r"`(.+?)`", r"<code>\1</code>", s)

    return "".join(
        f"<p>{inline(texts[0])}</p>"
        if kind == "p"
        else "<ul>" + "".join(f"<li>{inline(i)}</li>" for i in texts) + "</ul>"
        for kind, texts in blocks
    )


def _sources_html(dataset: Any, result: Result) -> tuple[str, pd.DataFrame | None]:
    name = result.summary.scenario.get("dataset", "")
    if dataset is None:
        return (
            f'<section id="sources"><h2>Data sources</h2><p>The dataset <code>{_e(name)}</code> could not be'
            " loaded where this report was made, so its sources are not listed here.</p></section>",
            None,
        )
    table = source_table(dataset)
    total = int(table["rows"].sum())
    estimated = int(table["estimate"].sum())
    primary = int(table["primary"].sum())
    secondary = int(table["secondary"].sum())
    parts = [
        '<section id="sources"><h2>Data sources</h2>',
        f"<p>Dataset <code>{_e(dataset.name)}</code>: {total:,} rows in {len(dataset.tables)} tables, citing"
        f" {len(table):,} distinct sources. <b>{estimated:,} rows ({_pct(estimated / total if total else 0)}) are"
        f" estimates</b> (each with a low-high range); {secondary:,} rest on secondary sources (trade press,"
        f" restatements) and {primary:,} on primary sources (official statistics, company filings).</p>",
    ]
    card = Path(dataset.path) / "README.md"
    main = _markdown_section(card, "Main sources")
    if main:
        parts.append(f"<h3>Main sources (from the dataset card)</h3>{main}")
    gaps = _markdown_section(card, "What is estimated, and known gaps")
    if gaps:
        parts.append(
            f"<details><summary>What is estimated, and known gaps (from the dataset card)</summary>{gaps}</details>"
        )
    parts.append(
        "<details><summary>Every source cited, with the number of dataset rows by reliability</summary>"
        '<table><tr><th>Source</th><th class="num">Rows</th><th class="num">Primary</th>'
        '<th class="num">Secondary</th><th class="num">Estimate</th><th>Tables</th></tr>'
    )
    for r in table.itertuples(index=False):
        parts.append(
            f'<tr><td>{_e(r.source)}</td><td class="num">{r.rows}</td><td class="num">{r.primary}</td>'
            f'<td class="num">{r.secondary}</td><td class="num">{r.estimate}</td><td>{_e(r.tables)}</td></tr>'
        )
    parts.append(
        f'</table></details><a class="csv" download="sources.csv" href="{csv_data_uri(table)}">'
        "Download the source list (CSV)</a></section>"
    )
    return "".join(parts), table


def _stress_html(analyses: Sequence[Any], names: Mapping[str, str]) -> str:
    parts = []
    for analysis in analyses:
        data = analysis.model_dump(mode="json") if hasattr(analysis, "model_dump") else dict(analysis)
        if data.get("kind") != "stress":
            continue
        table = stress_table(data)
        parts.append(
            "<h3>Stress tests: each disruption against the plan</h3><table><tr><th>Disruption</th><th>Status</th>"
            '<th class="num">Exposure change (share-years)</th><th class="num">Extra exposed</th>'
            '<th class="num">Extra unmet</th><th class="num">Worst year</th></tr>'
        )
        for r in table.itertuples(index=False):

            def num(v: Any, fmt: str) -> str:
                return "-" if v is None or pd.isna(v) else format(v, fmt)

            parts.append(
                f'<tr><td><b>{_e(r.name)}</b><br><span class="small">{_e(r.description)}</span></td>'
                f'<td>{_e(r.status)}</td><td class="num">{num(r.exposure_delta, "+,.3f")}</td>'
                f'<td class="num">{num(r.exposed_t_delta, "+,.0f")} t</td>'
                f'<td class="num">{num(r.unmet_t_delta, "+,.0f")} t</td>'
                f'<td class="num">{"-" if r.worst_year is None or pd.isna(r.worst_year) else int(r.worst_year)}'
                "</td></tr>"
            )
        parts.append(
            f'</table><a class="csv" download="stress.csv" href="{csv_data_uri(table)}">Download this table (CSV)</a>'
        )
    return "".join(parts)


def build_report(
    result: ResultLike,
    analyses: Sequence[Any] = (),
    sankey_year: int | None = None,
    dataset: Any = None,
    title: str | None = None,
) -> tuple[str, list[Chart]]:
    """The report's HTML (one self-contained document) and its charts.

    `analyses`: analysis results (models or their JSON dicts) whose charts to add: compare,
    frontier, value (Shapley, under "What each ally brings"), uncertainty (fan and tornado),
    stress (a table). `sankey_year`: the flow chart's year (default: a slider over every year).
    `dataset`: the dataset for country names and sources (default: the scenario's).
    """
    res = as_result(result)
    dataset = dataset if dataset is not None else _load_dataset(res)
    names = country_names(dataset)
    s = res.summary
    all_charts = build_charts(res, names=names, sankey_year=sankey_year, analyses=analyses)
    main = [c for c in all_charts if c.section == "charts"]
    allies = [c for c in all_charts if c.section == "allies"]
    extra = [c for c in all_charts if c.section == "analyses"]
    adversary = " and ".join(names.get(a, a) for a in s.adversaries)
    sc = s.scenario
    heading = (
        title
        or f"Cutting dependence on {adversary}: {sc.get('name', 'scenario')}, {sc.get('start_year')}–"
        + str(sc.get("end_year"))
    )
    status_cls = "optimal" if s.status == "optimal" and not s.violations else "bad"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    toc = [("infeasible", "Why it cannot be met")] if status_cls == "bad" else []
    toc.append(("headline", "Headline"))
    toc += [(f"fig-{c.key}", c.title) for c in main]
    toc += [("bottlenecks", "Bottlenecks"), ("allies", "What each ally brings")]
    if extra or any(
        (a.get("kind") if isinstance(a, Mapping) else getattr(a, "kind", "")) == "stress" for a in analyses
    ):
        toc.append(("analyses", "Further analyses"))
    toc += [("assumptions", "Assumptions"), ("sources", "Data sources")]
    sources_html, _ = _sources_html(dataset, res)
    body = [
        '<header class="top"><p class="kicker">Coalition supply-chain plan</p>',
        f"<h1>{_e(heading)}</h1>",
        f'<p class="lead">{_e(sc.get("description") or "")}</p>' if sc.get("description") else "",
        f'<p class="meta">Coalition: {_e(_coalition_words(res, names))} · Adversary: {_e(adversary)} ·'
        f' Status: <span class="status {status_cls}">{_e(s.status)}</span> · Made {stamp}</p>',
        '<nav class="toc">' + "".join(f'<a href="#{_e(k)}">{_e(v)}</a>' for k, v in toc) + "</nav></header>",
        _banner_html(res),
        _headline_html(res, names) if not res.tables["exposure_by_year"].empty else '<section id="headline"></section>',
    ]
    if main:
        body.append('<section id="charts">')
        body += [f"<h2>{_e(c.title)}</h2>{_chart_html(c)}" for c in main]
        body.append("</section>")
    body.append(_bottlenecks_html(res, names))
    if not res.tables["exposure_by_year"].empty:
        body.append(_allies_html(res, names, allies))
    stress = _stress_html(analyses, names)
    if extra or stress:
        body.append('<section id="analyses"><h2>Further analyses</h2>')
        body += [f"<h3>{_e(c.title)}</h3>{_chart_html(c)}" for c in extra]
        body.append(stress + "</section>")
    body.append(_assumptions_html(res, names))
    body.append(sources_html)
    body.append(
        "<footer>Made by <code>coalition report</code> from the coalition supply-chain optimizer. Exposure: supply"
        " made by the adversary or made from its material. All quantities in tonnes of material oxide-equivalent"
        f" (t, t/yr); money in US dollars. Charts: plotly.js {_e(get_plotlyjs_version())}, embedded; this file"
        " needs no network. Scenario hash "
        f"<code>{_e(s.scenario_hash[:16])}</code>.</footer>"
    )
    plotly_js = get_plotlyjs() if main or extra or allies else ""
    document = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(heading)}</title><style>{CSS}</style>"
        + (f'<script type="text/javascript">{plotly_js}</script>' if plotly_js else "")
        + "</head><body><main>"
        + "".join(body)
        + "</main></body></html>"
    )
    return document, all_charts


# --- files --------------------------------------------------------------------------------------


def write_csvs(charts_: Sequence[Chart], directory: str | Path) -> list[Path]:
    """Each chart's table as DIR/<chart key>.csv."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for chart in charts_:
        path = out / f"{chart.key}.csv"
        chart.data.to_csv(path, index=False)
        written.append(path)
    return written


def png_export_problem() -> str | None:
    """Why charts cannot be exported as PNG here, or None if they can (kaleido + a Chrome/Chromium)."""
    if importlib.util.find_spec("kaleido") is None:
        return (
            "PNG export needs the kaleido package and a Chrome or Chromium browser:"
            " pip install kaleido, and e.g. apt-get install chromium."
        )
    candidates = [
        os.environ.get("BROWSER_PATH"),
        *(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome", "chrome")),
    ]
    if not any(candidates):
        try:  # kaleido may have its own Chrome (kaleido.get_chrome)
            from choreographer.browsers.chromium import Chromium

            if Chromium.find_browser(skip_local=False):
                return None
        except Exception:  # any failure means no usable browser
            pass
        return "PNG export needs a Chrome or Chromium browser for kaleido (e.g. apt-get install chromium)."
    return None


def write_pngs(charts_: Sequence[Chart], directory: str | Path, width: int = 1200) -> list[Path]:
    """Each chart as DIR/<chart key>.png (slide size, 2x). Raises RuntimeError if it cannot be done here."""
    problem = png_export_problem()
    if problem:
        raise RuntimeError(problem)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    figures, paths, heights = [], [], []
    for chart in charts_:
        fig = go.Figure(chart.figure)
        fig.update_layout(width=width)
        figures.append(fig)
        heights.append(int(fig.layout.height or 500))
        paths.append(out / f"{chart.key}.png")
    try:  # kaleido uses its own default size unless told: pass each chart's own
        pio.write_images(figures, paths, scale=2, width=width, height=heights)
    except Exception as exc:
        raise RuntimeError(f"PNG export failed ({type(exc).__name__}: {exc}); it needs kaleido and Chromium") from exc
    return paths


def write_report(
    result: ResultLike,
    out: str | Path,
    analyses: Sequence[Any] = (),
    csv_dir: str | Path | None = None,
    png_dir: str | Path | None = None,
    sankey_year: int | None = None,
) -> ReportFiles:
    """Write the HTML report to `out`, and optionally every chart's data as CSV and chart as PNG.

    PNG export is skipped (with the reason in `ReportFiles.png_skipped`) where kaleido or a
    Chromium is missing; the HTML and CSV files are written regardless.
    """
    document, built = build_report(result, analyses=analyses, sankey_year=sankey_year)
    path = Path(out)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document, encoding="utf-8")
    files = ReportFiles(html=path)
    if csv_dir is not None:
        files.csv = write_csvs(built, csv_dir)
    if png_dir is not None:
        try:
            files.png = write_pngs(built, png_dir)
        except RuntimeError as exc:
            files.png_skipped = str(exc)
    return files

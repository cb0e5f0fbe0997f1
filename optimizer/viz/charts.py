"""Charts for decision makers: each function returns a plotly `Figure`.

From a solve's result (a `Result`, `ResultModel`, result dict or result.json path):

- `exposure_chart`: exposed (and unmet) share of coalition demand by year, one line per result;
- `capacity_chart`: new capacity online by host country and stage, year by year;
- `capex_by_host_chart`: capital spent on new capacity by host country and stage;
- `adversary_share_chart`: the adversaries' share of what the coalition receives at each stage;
- `sankey_chart`: the flow mine -> separation -> metal/alloy -> magnet -> coalition demand by country.

From the analyses (plain, documented tables; `optimizer.viz.analysis` turns the analysis
results into them):

- `frontier_chart`: the cost-exposure frontier with its knee;
- `shapley_chart`: each member's Shapley value;
- `fan_chart`: Monte Carlo percentile bands by year;
- `tornado_chart`: one-at-a-time sensitivity.

Every chart draws a table that `optimizer.viz.data` / `optimizer.viz.analysis` can produce on
its own, so the report can offer exactly the plotted numbers as CSV. Colours come from
`optimizer.viz.palette` (Okabe-Ito); axes carry units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from optimizer.viz import palette as pal
from optimizer.viz.data import (
    ResultLike,
    adversary_share_table,
    as_result,
    capacity_online_table,
    capex_by_host_table,
    exposure_table,
    flow_table,
    horizon,
    labelled,
    materials_of,
    stages_of,
    target_table,
)

STAGE_LABELS = {"mine": "Mining", "separation": "Separation", "metal_alloy": "Metal / alloy", "magnet": "Magnets"}
SHARE_YEARS = "share-years"
SHARE_YEARS_NOTE = (
    "Exposure in share-years: the exposed share of demand summed over years and materials (1 = one year of one"
    " material's demand fully exposed); unmet demand counts at the model's penalty."
)
PNG_SIZE = {"width": 1200, "height": 600}


# --- helpers -------------------------------------------------------------------------------


def stage_label(stage: str) -> str:
    """'metal_alloy' -> 'Metal / alloy'."""
    return STAGE_LABELS.get(stage, stage.replace("_", " ").capitalize())


def year_ticks(n_years: int) -> dict[str, Any]:
    """Whole years on the axis (never 2,026.5): every year, or every other one on long horizons."""
    return {"tickformat": "d", "dtick": 2 if n_years > 8 else 1}


def _name(code: str, names: Mapping[str, str] | None) -> str:
    return (names or {}).get(code, code)


def _style(fig: go.Figure, title: str, height: int = 460, legend: bool = True, panels: bool = False) -> go.Figure:
    """The common look: white background, readable fonts, the palette, legend on top.

    `panels`: the figure has subplot titles, so the legend sits higher, above them.
    """
    top = 118 if panels else 90
    fig.update_layout(
        template="plotly_white",
        title={
            "text": title,
            "x": 0.0,
            "xref": "paper",
            "xanchor": "left",
            "y": 1.0,
            "yanchor": "top",
            "yref": "container",
            "pad": {"t": 14},
            "font": {"size": 18},
        },
        font={"family": pal.FONT_FAMILY, "size": 13, "color": "#222"},
        colorway=list(pal.CATEGORICAL),
        height=height,
        margin={"l": 70, "r": 30, "t": top, "b": 60},
        hoverlabel={"font": {"family": pal.FONT_FAMILY}},
        showlegend=legend,
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.0 + (34 if panels else 6) / max(height - top - 60, 100),  # pixels above the plot area
            "xanchor": "left",
            "x": 0.0,
        },
    )
    return fig


def add_note(fig: go.Figure, text: str) -> go.Figure:
    """A small grey note under the plot (kept in PNG exports, unlike the report's captions)."""
    lines = text.count("<br>") + 1
    bottom = (fig.layout.margin.b or 60) + 14 * lines + 10
    fig.add_annotation(
        text=text,
        xref="paper",
        yref="paper",
        x=0.0,
        y=0.0,
        yshift=-bottom + 4,  # at the very bottom of the enlarged margin, below any axis title or slider
        xanchor="left",
        yanchor="bottom",
        showarrow=False,
        align="left",
        font={"size": 11, "color": "#555"},
    )
    fig.update_layout(margin={"b": bottom})
    return fig


def empty_figure(title: str, message: str) -> go.Figure:
    """A figure that says there is nothing to draw, and why."""
    fig = go.Figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 15})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _style(fig, title, height=260, legend=False)


# --- exposure -------------------------------------------------------------------------------


def exposure_chart(
    results: ResultLike | Sequence[ResultLike] | Mapping[str, ResultLike] | pd.DataFrame,
    materials: Sequence[str] | None = None,
    show_unmet: bool = True,
    targets: pd.DataFrame | None = None,
    title: str = "Dependence on the adversary: exposed share of coalition demand",
) -> go.Figure:
    """Exposed share of coalition demand by year: one panel per material, one line per result.

    `results`: one result, several (a list, or a mapping label -> result), or a table with the
    columns of `optimizer.viz.data.exposure_table` (label, year, material, exposed_share,
    unmet_share, and optionally exposed_t / unmet_t / demand_t). Exposed supply is
    adversary-made or carries adversary input; unmet demand (dotted) is demand that nobody
    supplies, e.g. under an export ban. `targets` (year, material, max_exposed_share) draws the
    scenario's timeline targets; for a single result they are taken from its scenario.
    """
    order: list[str] = []
    if isinstance(results, pd.DataFrame):
        data = results.copy()
        if "label" not in data:
            data["label"] = "result"
        if "demand_t" in data:
            order = list(data.groupby("material")["demand_t"].sum().sort_values(ascending=False).index)
    else:
        pairs = labelled(results)
        data = exposure_table(dict(pairs))
        if targets is None and len(pairs) == 1:
            targets = target_table(pairs[0][1])
        for _label, res in pairs:
            order += [m for m in materials_of(res) if m not in order]
    if data.empty:
        return empty_figure(title, "No allocation: the solve produced no exposure figures.")
    mats = list(materials) if materials else [*order, *(m for m in dict.fromkeys(data["material"]) if m not in order)]
    labels = list(dict.fromkeys(data["label"]))
    single = len(labels) == 1
    fig = make_subplots(
        rows=1, cols=len(mats), shared_yaxes=True, subplot_titles=mats, horizontal_spacing=0.04 if len(mats) > 1 else 0
    )
    for col, material in enumerate(mats, start=1):
        for i, label in enumerate(labels):
            part = data[(data["label"] == label) & (data["material"] == material)].sort_values("year")
            if part.empty:
                continue
            colour = pal.ADVERSARY if single else pal.categorical(i)
            name = "exposed share" if single else label
            tonnes = part["exposed_t"] if "exposed_t" in part else part["exposed_share"] * 0
            fig.add_trace(
                go.Scatter(
                    x=part["year"],
                    y=part["exposed_share"],
                    mode="lines+markers",
                    name=name,
                    legendgroup=f"exposed:{label}",
                    showlegend=col == 1,
                    line={"color": colour, "width": 3, "dash": "solid"},
                    marker={"size": 6},
                    customdata=tonnes,
                    hovertemplate=f"{label}<br>{material} %{{x}}: %{{y:.1%}} exposed (%{{customdata:,.0f}} t)"
                    "<extra></extra>",
                    meta={"kind": "exposed", "label": label, "material": material},
                ),
                row=1,
                col=col,
            )
            if show_unmet and "unmet_share" in part and (part["unmet_share"] > 1e-9).any():
                fig.add_trace(
                    go.Scatter(
                        x=part["year"],
                        y=part["unmet_share"],
                        mode="lines",
                        name="unmet share" if single else f"{label}: unmet",
                        legendgroup=f"unmet:{label}",
                        showlegend=True,
                        line={"color": pal.UNMET if single else colour, "width": 2, "dash": "dot"},
                        hovertemplate=f"{label}<br>{material} %{{x}}: %{{y:.1%}} of demand unmet<extra></extra>",
                        meta={"kind": "unmet", "label": label, "material": material},
                    ),
                    row=1,
                    col=col,
                )
        if targets is not None and not targets.empty:
            tpart = targets[targets["material"] == material].sort_values("year")
            if not tpart.empty:
                fig.add_trace(
                    go.Scatter(
                        x=tpart["year"],
                        y=tpart["max_exposed_share"],
                        mode="lines",
                        name="target (max. exposed or unmet)",
                        legendgroup="target",
                        showlegend=col == 1,
                        line={"color": pal.BLACK, "width": 1.5, "dash": "dash", "shape": "hv"},
                        hovertemplate="target from %{x}: at most %{y:.0%} exposed or unmet<extra></extra>",
                        meta={"kind": "target", "material": material},
                    ),
                    row=1,
                    col=col,
                )
        for level in (0.5, 0.1):
            fig.add_hline(
                y=level,
                line={"color": "#bbb", "width": 1, "dash": "dot"},
                row=1,
                col=col,
                annotation_text=f"{level:.0%}",
                annotation_position="top left",
                annotation_font={"size": 10, "color": "#888"},
            )
    fig.update_yaxes(range=[-0.02, 1.02], tickformat=".0%", gridcolor="#eee")
    fig.update_yaxes(title_text="share of coalition demand (%)", row=1, col=1)
    fig.update_xaxes(title_text="year", gridcolor="#eee", **year_ticks(data["year"].nunique()))
    _style(fig, title, height=480, panels=True)
    # unmet traces after the first panel duplicate the legend entry
    seen: set[str] = set()
    for trace in fig.data:
        group = trace.legendgroup
        if trace.showlegend and group in seen:
            trace.showlegend = False
        seen.add(group)
    return fig


# --- capacity -------------------------------------------------------------------------------


def _top_hosts(frame: pd.DataFrame, value: str, top: int) -> list[str]:
    totals = frame.groupby("country")[value].sum().sort_values(ascending=False)
    return list(totals.index[:top])


def capacity_chart(
    result: ResultLike,
    material: str | None = None,
    top: int = 7,
    names: Mapping[str, str] | None = None,
    title: str | None = None,
) -> go.Figure:
    """New capacity online by year, stacked by host country, one panel per stage (t/yr).

    Cumulative: a build counts from its online year (start year + lead time). The `top` hosts
    by capacity get their own colour, the rest are "Other hosts". `material`: one material
    (default: the one with the most demand); capacities of different materials are not added up.
    """
    res = as_result(result)
    material = material or (materials_of(res) or [None])[0]
    title = title or f"New {material} capacity online, by host country and stage (t/yr)"
    data = capacity_online_table(res)
    data = data[data["material"] == material]
    if data.empty:
        return empty_figure(title, f"No new {material} capacity comes online within the horizon.")
    stages = stages_of(res)  # every stage, so that panels line up across materials
    last = data[data["year"] == data["year"].max()]
    hosts = _top_hosts(last, "capacity_t_per_yr", top)
    other = "Other hosts"
    n_other = len(set(data["country"]) - set(hosts))
    other = f"Other hosts ({n_other})"
    data = data.assign(host=[c if c in hosts else other for c in data["country"]])
    others = data[data["host"] == other]
    detail = {  # hover text of "Other hosts": who they are
        (int(y), s): ", ".join(
            f"{_name(r.country, names)} {r.capacity_t_per_yr:,.0f}"
            for r in g.sort_values("capacity_t_per_yr", ascending=False).itertuples()
        )
        for (y, s), g in others.groupby(["year", "stage"])
    }
    data = data.groupby(["year", "stage", "host"], as_index=False)["capacity_t_per_yr"].sum()
    order = [*hosts, other] if (data["host"] == other).any() else hosts
    colours = pal.colour_map(order, other=other)
    years = horizon(res)
    fig = make_subplots(
        rows=1,
        cols=len(stages),
        shared_yaxes=True,
        subplot_titles=[stage_label(s) for s in stages],
        horizontal_spacing=0.03,
    )
    for col, stage in enumerate(stages, start=1):
        for host in order:
            part = data[(data["stage"] == stage) & (data["host"] == host)].set_index("year")
            ys = [float(part["capacity_t_per_yr"].get(y, 0.0)) for y in years]
            if not any(ys):
                continue
            label = host if host == other else _name(host, names)
            extra = [f"<br>{detail.get((y, stage), '')}" if host == other else "" for y in years]
            fig.add_trace(
                go.Bar(
                    x=years,
                    y=ys,
                    name=label,
                    legendgroup=host,
                    showlegend=False,
                    marker={"color": colours[host], "line": {"width": 0}},
                    customdata=extra,
                    hovertemplate=f"{label}, {stage_label(stage)}<br>%{{x}}: %{{y:,.0f}} t/yr online%{{customdata}}"
                    "<extra></extra>",
                    meta={"host": host, "stage": stage, "material": material},
                ),
                row=1,
                col=col,
            )
    for col, stage in enumerate(stages, start=1):
        if not (data["stage"] == stage).any():  # keep the panel (and the shared axis) drawn, and say why
            fig.add_trace(
                go.Bar(x=years, y=[0] * len(years), showlegend=False, hoverinfo="skip", meta={"stage": stage}),
                row=1,
                col=col,
            )
            fig.add_annotation(
                text="no new capacity",
                x=0.5,
                y=0.5,
                xref=f"x{'' if col == 1 else col} domain",
                yref=f"y{'' if col == 1 else col} domain",
                showarrow=False,
                font={"color": "#777"},
            )
    for host in order:  # one legend entry per host, in order, even if its first panel is empty
        for trace in fig.data:
            if trace.legendgroup == host:
                trace.showlegend = True
                break
    fig.update_layout(barmode="stack", bargap=0.15)
    fig.update_yaxes(tickformat=",.0f", gridcolor="#eee")
    fig.update_yaxes(title_text=f"new capacity online, t/yr ({material} oxide-eq)", row=1, col=1)
    fig.update_xaxes(tickangle=-45, **year_ticks(len(years)))
    return _style(fig, title, height=500, panels=True)


def capex_by_host_chart(
    result: ResultLike,
    names: Mapping[str, str] | None = None,
    title: str = "Who builds where: capital spent on new capacity by host country (USD bn)",
) -> go.Figure:
    """Horizontal bars: capex by host country, stacked by stage, largest host on top (USD bn).

    Coalition members are marked "(member)"; other hosts are third countries the coalition
    finances capacity in.
    """
    res = as_result(result)
    data = capex_by_host_table(res)
    if data.empty:
        return empty_figure(title, "No new capacity is built.")
    members = set(res.summary.coalition)
    totals = data.groupby("country")["capex_usd"].sum().sort_values()
    hosts = list(totals.index)
    ticks = [f"{_name(c, names)}{' (member)' if c in members else ''}" for c in hosts]
    fig = go.Figure()
    for i, stage in enumerate(s for s in stages_of(res) if s in set(data["stage"])):
        part = data[data["stage"] == stage].set_index("country")["capex_usd"]
        xs = [float(part.get(c, 0.0)) / 1e9 for c in hosts]
        fig.add_trace(
            go.Bar(
                y=ticks,
                x=xs,
                orientation="h",
                name=stage_label(stage),
                marker={"color": pal.stage_colour(stage, i)},
                hovertemplate=f"%{{y}}<br>{stage_label(stage)}: USD %{{x:,.2f}} bn<extra></extra>",
                meta={"stage": stage},
            )
        )
    for tick, total in zip(ticks, totals, strict=True):
        fig.add_annotation(
            x=total / 1e9,
            y=tick,
            text=f"{total / 1e9:,.2f}",
            xanchor="left",
            xshift=4,
            showarrow=False,
            font={"size": 11, "color": "#444"},
        )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title_text="capital expenditure, USD bn", tickformat=",.1f", gridcolor="#eee")
    return _style(fig, title, height=max(320, 140 + 24 * len(hosts)))


def adversary_share_chart(
    result: ResultLike,
    title: str = "Adversary share of what the coalition receives, by stage",
) -> go.Figure:
    """Lines by stage: the share of each stage's product reaching the coalition that adversaries made."""
    res = as_result(result)
    data = adversary_share_table(res)
    if data.empty:
        return empty_figure(title, "No allocation: nothing to show.")
    mats = [m for m in materials_of(res) if m in set(data["material"])] or list(dict.fromkeys(data["material"]))
    stages = stages_of(res)
    fig = make_subplots(rows=1, cols=len(mats), shared_yaxes=True, subplot_titles=mats, horizontal_spacing=0.04)
    for col, material in enumerate(mats, start=1):
        for i, stage in enumerate(stages):
            part = data[(data["material"] == material) & (data["stage"] == stage)].sort_values("year")
            if part.empty:
                continue
            fig.add_trace(
                go.Scatter(
                    x=part["year"],
                    y=part["adversary_share"],
                    mode="lines+markers",
                    name=stage_label(stage),
                    legendgroup=stage,
                    showlegend=col == 1,
                    line={"color": pal.stage_colour(stage, i), "width": 2.5, "dash": pal.DASHES[i % len(pal.DASHES)]},
                    marker={"size": 5},
                    customdata=part["from_adversaries_t"],
                    hovertemplate=f"{material}, {stage_label(stage)}<br>%{{x}}: %{{y:.1%}} from adversaries"
                    " (%{customdata:,.0f} t)<extra></extra>",
                    meta={"stage": stage, "material": material},
                ),
                row=1,
                col=col,
            )
    fig.update_yaxes(range=[-0.02, 1.02], tickformat=".0%", gridcolor="#eee")
    fig.update_yaxes(title_text="made by adversaries (%)", row=1, col=1)
    fig.update_xaxes(title_text="year", gridcolor="#eee", **year_ticks(data["year"].nunique()))
    return _style(fig, title, height=460, panels=True)


# --- sankey ---------------------------------------------------------------------------------

MIN_LABEL_HEIGHT = 0.032  # share of the plot height a Sankey node (plus its gap) needs to show its label
POOL_NOTE = (
    "Pooled market trade has no origin-destination pairs: each pool's buyers are shown receiving the pool's mix"
    " by origin (proportional allocation).<br>Links: red = adversary-made or -processed, blue = free, green ="
    " stockpile release. Nodes: dark blue = coalition member, light blue = third country, red = adversary."
)


def _sankey_trace(
    flows: pd.DataFrame,
    stages: list[str],
    coalition: set[str],
    adversaries: set[str],
    names: Mapping[str, str] | None,
    material: str,
) -> go.Sankey:
    """One year's Sankey: nodes (column, country), positioned column by column."""
    n_cols = len(stages) + 1
    col_of = {s: i for i, s in enumerate(stages)}
    col_of["demand"] = len(stages)
    nodes: dict[tuple[int, str], int] = {}
    value_in: dict[int, float] = {}
    value_out: dict[int, float] = {}

    def node(col: int, country: str) -> int:
        key = (col, country)
        if key not in nodes:
            nodes[key] = len(nodes)
        return nodes[key]

    src, dst, val, colours, hover = [], [], [], [], []
    for f in flows.itertuples(index=False):
        c = col_of.get(f.stage)
        if c is None:
            continue
        a = node(c, f.origin)
        b = node(col_of.get(f.stage_to, c + 1), f.destination)
        q = float(f.quantity_t)
        src.append(a)
        dst.append(b)
        val.append(q)
        value_out[a] = value_out.get(a, 0.0) + q
        value_in[b] = value_in.get(b, 0.0) + q
        if f.route == "stockpile":
            colours.append(pal.with_alpha(pal.BLUISH_GREEN, 0.5))
        elif f.grade == "exposed":
            colours.append(pal.with_alpha(pal.ADVERSARY, 0.45))
        else:
            colours.append(pal.with_alpha(pal.COALITION, 0.3))
        origin = _stock_label(f.origin, names)
        hover.append(
            f"{origin} → {_name(f.destination, names)}<br>{stage_label(f.stage)} product, {q:,.0f} t"
            f" ({f.grade}; {f.route})"
        )
    labels, node_colours, node_hover, xs, ys = [], [], [], [], []
    columns: dict[int, list[tuple[str, int, float]]] = {}
    for (col, country), idx in nodes.items():
        columns.setdefault(col, []).append((country, idx, max(value_in.get(idx, 0.0), value_out.get(idx, 0.0))))
    # fixed positions: columns left to right, each column's nodes stacked largest first
    biggest = max(sum(v for _, _, v in members) for members in columns.values()) or 1.0
    position: dict[int, tuple[float, float]] = {}
    heights_of: dict[int, float] = {}
    for col, members in columns.items():
        members.sort(key=lambda m: (m[0].startswith("stockpile:"), -m[2]))
        gap = 0.02
        total_gap = gap * (len(members) - 1)
        scale = (0.96 - total_gap) / biggest if biggest > 0 else 0
        heights = [max(v * scale, 0.004) for _, _, v in members]
        offset = 0.02
        x = 0.001 + 0.998 * col / (n_cols - 1)
        for (_country, idx, _v), h in zip(members, heights, strict=True):
            position[idx] = (x, min(max(offset + h / 2, 0.001), 0.999))
            heights_of[idx] = h
            offset += h + gap
    for (col, country), idx in sorted(nodes.items(), key=lambda kv: kv[1]):
        if col == len(stages):
            label = _name(country, names)  # the column is headed "Coalition demand"
            colour = pal.BLACK
            what = "demand receives"
        else:
            label = _stock_label(country, names)
            if country.startswith("stockpile:"):
                colour = pal.BLUISH_GREEN
            elif country in adversaries:
                colour = pal.ADVERSARY
            elif country in coalition:
                colour = pal.COALITION
            else:
                colour = pal.THIRD_PARTY
            what = f"ships {stage_label(stages[col]).lower()} product"
        # a label on a sliver would overwrite its neighbours: tiny nodes keep only their hover text
        labels.append(label if heights_of[idx] + 0.02 >= MIN_LABEL_HEIGHT else "")
        node_colours.append(colour)
        amount = value_out.get(idx, value_in.get(idx, 0.0))
        node_hover.append(f"{label}: {what}, {amount:,.0f} t")
        xs.append(position[idx][0])
        ys.append(position[idx][1])
    return go.Sankey(
        arrangement="snap",
        valueformat=",.0f",
        valuesuffix=" t",
        node={
            "label": labels,
            "color": node_colours,
            "pad": 8,
            "thickness": 14,
            "line": {"width": 0},
            "x": xs,
            "y": ys,
            "customdata": node_hover,
            "hovertemplate": "%{customdata}<extra></extra>",
        },
        link={
            "source": src,
            "target": dst,
            "value": val,
            "color": colours,
            "customdata": hover,
            "hovertemplate": "%{customdata}<extra></extra>",
        },
        meta={"material": material},
    )


def _stock_label(code: str, names: Mapping[str, str] | None) -> str:
    if code.startswith("stockpile:"):
        return f"{_name(code.removeprefix('stockpile:'), names)} stockpile"
    return _name(code, names)


def sankey_chart(
    result: ResultLike,
    material: str | None = None,
    year: int | Sequence[int] | None = None,
    names: Mapping[str, str] | None = None,
    title: str | None = None,
) -> go.Figure:
    """Flows from mines to magnets to coalition demand, by country, for one year or a slider of years.

    Columns: each stage's producing countries, then each member's demand. Links carry tonnes of
    the stage's product (oxide-eq); red = exposed (adversary-made or -processed), blue = free,
    green = stockpile releases. Pooled trade is allocated proportionally (see the chart note).
    `year`: one year (a plain figure), several (a slider, last one shown), or None for every
    year of the horizon.
    """
    res = as_result(result)
    material = material or (materials_of(res) or [None])[0]
    years = horizon(res) if year is None else ([year] if isinstance(year, int) else list(year))
    base_title = title or f"{material} flows from mine to magnet to coalition demand (t/yr)"
    flows = flow_table(res, material=material)
    stages = stages_of(res)
    if flows.empty or not stages:
        return empty_figure(base_title, "No allocation: nothing flows.")
    coalition, adversaries = set(res.summary.coalition), set(res.summary.adversaries)
    fig = go.Figure()
    shown: list[int] = []
    for y in years:
        part = flows[flows["year"] == y]
        if part.empty:
            continue
        trace = _sankey_trace(part, stages, coalition, adversaries, names, material)
        trace.meta = {"material": material, "year": y}
        trace.visible = False
        fig.add_trace(trace)
        shown.append(y)
    if not shown:
        return empty_figure(base_title, f"No {material} flows in {', '.join(map(str, years))}.")
    fig.data[-1].visible = True
    heads = [*(stage_label(s) for s in stages), "Coalition demand"]
    for i, head in enumerate(heads):
        x = 0.001 + 0.998 * i / (len(heads) - 1)
        anchor = "left" if i == 0 else ("right" if i == len(heads) - 1 else "center")
        fig.add_annotation(
            text=f"<b>{head}</b>",
            x=x,
            y=1.0,
            yshift=12,
            xref="paper",
            yref="paper",
            xanchor=anchor,
            yanchor="bottom",
            showarrow=False,
            font={"size": 13},
        )
    title_for = {y: f"{base_title}, {y}" for y in shown}
    _style(fig, title_for[shown[-1]], height=620, legend=False)
    fig.update_layout(margin={"t": 100, "b": 60, "l": 20, "r": 20})
    if len(shown) > 1:
        steps = [
            {
                "label": str(y),
                "method": "update",
                "args": [{"visible": [j == i for j in range(len(shown))]}, {"title.text": title_for[y]}],
            }
            for i, y in enumerate(shown)
        ]
        fig.update_layout(
            sliders=[
                {
                    "active": len(shown) - 1,
                    "steps": steps,
                    "currentvalue": {"prefix": "Year: ", "font": {"size": 14}},
                    "pad": {"t": 30},
                    "len": 1.0,
                }
            ]
        )
        fig.update_layout(height=740, margin={"b": 170})  # room for the slider; the note goes below it
    return add_note(fig, POOL_NOTE)


# --- analyses -------------------------------------------------------------------------------


def frontier_chart(
    points: pd.DataFrame,
    exposure_label: str = f"exposure, {SHARE_YEARS}",
    title: str = "Cost-exposure frontier: what more capital buys",
) -> go.Figure:
    """Minimum exposure against the capital budget, knee marked.

    `points` columns: budget_usd (None/NaN = no limit; the plan's capex_usd is then used as x),
    exposure, cost_usd, is_knee; optional capex_usd, dominated (True = a cheaper point is as
    little exposed). The knee is where more money starts to buy much less exposure reduction.
    """
    if points.empty:
        return empty_figure(title, "No frontier points.")
    data = points.copy()
    if "capex_usd" not in data:
        data["capex_usd"] = float("nan")
    data["x"] = data["budget_usd"].where(data["budget_usd"].notna(), data["capex_usd"]).astype(float) / 1e9
    data = data.dropna(subset=["x", "exposure"]).sort_values("x")
    dominated = data["dominated"].astype(bool) if "dominated" in data else pd.Series(False, index=data.index)
    knee = data["is_knee"].astype(bool) if "is_knee" in data else pd.Series(False, index=data.index)
    custom = list(
        zip(
            (data["cost_usd"].fillna(float("nan")) / 1e9),
            (data["capex_usd"].fillna(float("nan")) / 1e9),
            strict=True,
        )
    )
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=data["x"],
            y=data["exposure"],
            mode="lines+markers",
            name="least exposure for the budget",
            line={"color": pal.COALITION, "width": 3},
            marker={
                "size": 9,
                "color": [pal.GREY if d else pal.COALITION for d in dominated],
                "symbol": ["circle-open" if d else "circle" for d in dominated],
            },
            customdata=custom,
            hovertemplate="budget USD %{x:,.2f} bn<br>exposure %{y:,.3f}<br>total cost USD %{customdata[0]:,.2f} bn"
            "<br>capex USD %{customdata[1]:,.2f} bn<extra></extra>",
            meta={"kind": "frontier"},
        )
    )
    k = data[knee]
    if not k.empty:
        row = k.iloc[0]
        fig.add_trace(
            go.Scatter(
                x=[row["x"]],
                y=[row["exposure"]],
                mode="markers",
                name="knee",
                marker={"size": 18, "color": pal.KNEE, "symbol": "diamond", "line": {"color": "white", "width": 2}},
                hovertemplate="knee: USD %{x:,.2f} bn, exposure %{y:,.3f}<extra></extra>",
                meta={"kind": "knee"},
            )
        )
        fig.add_annotation(
            x=row["x"],
            y=row["exposure"],
            text=f"knee: USD {row['x']:,.1f} bn",
            showarrow=True,
            arrowhead=2,
            ax=40,
            ay=-40,
            font={"color": pal.KNEE, "size": 13},
        )
    if dominated.any():
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name="dominated (a cheaper budget does as well)",
                marker={"size": 9, "color": pal.GREY, "symbol": "circle-open"},
            )
        )
    fig.update_xaxes(title_text="capital budget, USD bn", tickformat=",.1f", gridcolor="#eee", rangemode="tozero")
    fig.update_yaxes(title_text=exposure_label, gridcolor="#eee", rangemode="tozero")
    _style(fig, title)
    return add_note(fig, SHARE_YEARS_NOTE) if SHARE_YEARS in exposure_label else fig


def shapley_chart(
    values: pd.DataFrame,
    names: Mapping[str, str] | None = None,
    value_label: str = f"exposure avoided, {SHARE_YEARS}",
    title: str = "What each ally brings: Shapley value of each member",
) -> go.Figure:
    """Horizontal bars of each member's Shapley value, largest on top.

    `values` columns: member, shapley; optional ci_low / ci_high (sampled estimates: drawn as
    error bars), leave_one_out (drawn as a diamond: what the coalition loses without the member)
    and share (the suggested share of the burden, shown in the label).
    """
    if values.empty:
        return empty_figure(title, "No member values.")
    data = values.sort_values("shapley").reset_index(drop=True)
    ticks = [_name(m, names) for m in data["member"]]
    text = [f"{s:.0%}" for s in data["share"]] if "share" in data else None
    error = None
    if {"ci_low", "ci_high"} <= set(data.columns) and data["ci_low"].notna().any():
        error = {
            "type": "data",
            "symmetric": False,
            "array": (data["ci_high"] - data["shapley"]).fillna(0).tolist(),
            "arrayminus": (data["shapley"] - data["ci_low"]).fillna(0).tolist(),
            "color": "#444",
        }
    fig = go.Figure(
        go.Bar(
            y=ticks,
            x=data["shapley"],
            orientation="h",
            name="Shapley value",
            marker={"color": pal.COALITION},
            error_x=error,
            text=text,
            textposition="outside",
            hovertemplate="%{y}: %{x:,.3f}"
            + (" (%{text} of the coalition's value)" if text else "")
            + "<extra></extra>",
            meta={"kind": "shapley"},
        )
    )
    if "leave_one_out" in data and data["leave_one_out"].notna().any():
        fig.add_trace(
            go.Scatter(
                y=ticks,
                x=data["leave_one_out"],
                mode="markers",
                name="lost if the member leaves",
                marker={"symbol": "diamond", "size": 11, "color": pal.ORANGE, "line": {"color": "#222", "width": 1}},
                hovertemplate="%{y}: the coalition without it loses %{x:,.3f}<extra></extra>",
                meta={"kind": "leave_one_out"},
            )
        )
    fig.update_xaxes(title_text=value_label, gridcolor="#eee", zeroline=True, zerolinecolor="#888")
    _style(fig, title, height=max(340, 160 + 36 * len(data)))
    return add_note(fig, SHARE_YEARS_NOTE) if SHARE_YEARS in value_label else fig


def fan_chart(
    percentiles: pd.DataFrame,
    base: pd.DataFrame | None = None,
    y_label: str = "mean exposed share of demand (%)",
    share: bool = True,
    title: str = "Uncertainty: exposed share by year across Monte Carlo draws",
) -> go.Figure:
    """Percentile bands by year: the widest pair outermost, the median as a line.

    `percentiles` columns: year and any pNN columns (e.g. p5, p50, p95, or p5 p25 p50 p75 p95);
    symmetric pairs (p5-p95, p25-p75) become bands. `base` (year, value) draws the plan with
    the dataset's central values. `share`: format the y axis as percent.
    """
    if percentiles.empty:
        return empty_figure(title, "No Monte Carlo draws.")
    data = percentiles.sort_values("year")
    qs = sorted(int(c[1:]) for c in data.columns if c.startswith("p") and c[1:].isdigit())
    pairs = [(lo, 100 - lo) for lo in qs if lo < 50 and (100 - lo) in qs]
    fig = go.Figure()
    alphas = [0.18, 0.35, 0.5]
    for i, (lo, hi) in enumerate(pairs):  # outermost first
        colour = pal.with_alpha(pal.COALITION, alphas[min(i, len(alphas) - 1)])
        fig.add_trace(
            go.Scatter(
                x=data["year"],
                y=data[f"p{hi}"],
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
                meta={"kind": "band_upper", "q": hi},
            )
        )
        fig.add_trace(
            go.Scatter(
                x=data["year"],
                y=data[f"p{lo}"],
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor=colour,
                name=f"{lo}th-{hi}th percentile",
                customdata=data[f"p{hi}"],
                hovertemplate=f"%{{x}}: p{lo} %{{y:{'.1%' if share else ',.3f'}}}"
                f" - p{hi} %{{customdata:{'.1%' if share else ',.3f'}}}<extra></extra>",
                meta={"kind": "band", "q": (lo, hi)},
            )
        )
    if 50 in qs:
        fig.add_trace(
            go.Scatter(
                x=data["year"],
                y=data["p50"],
                mode="lines+markers",
                name="median",
                line={"color": pal.COALITION, "width": 3},
                hovertemplate=f"%{{x}}: median %{{y:{'.1%' if share else ',.3f'}}}<extra></extra>",
                meta={"kind": "median"},
            )
        )
    if base is not None and not base.empty:
        fig.add_trace(
            go.Scatter(
                x=base["year"],
                y=base["value"],
                mode="lines",
                name="plan at central values",
                line={"color": pal.BLACK, "width": 2, "dash": "dash"},
                hovertemplate=f"%{{x}}: %{{y:{'.1%' if share else ',.3f'}}} at central values<extra></extra>",
                meta={"kind": "base"},
            )
        )
    fig.update_yaxes(title_text=y_label, gridcolor="#eee", rangemode="tozero")
    if share:
        fig.update_yaxes(tickformat=".0%", range=[0, max(1.0, float(data[[f"p{q}" for q in qs]].max().max()))])
    fig.update_xaxes(title_text="year", gridcolor="#eee", **year_ticks(data["year"].nunique()))
    return _style(fig, title)


def tornado_chart(
    bars: pd.DataFrame,
    base: float | None = None,
    value_label: str = f"exposure, {SHARE_YEARS}",
    title: str = "Which assumptions matter most: exposure at each input's low and high value",
) -> go.Figure:
    """One-at-a-time sensitivity: for each input, the outcome at its low and at its high value.

    `bars` columns: parameter, low (outcome with the input at its low value), high (outcome at
    its high value); optional rows (how many dataset rows the input covers). `base` is the
    outcome at central values (bars start there); largest swing on top.
    """
    if bars.empty:
        return empty_figure(title, "No sensitivity bars.")
    data = bars.dropna(subset=["low", "high"]).copy()
    if data.empty:
        return empty_figure(title, "No sensitivity bars (every low/high solve failed).")
    data["swing"] = (data["high"] - data["low"]).abs()
    data = data.sort_values("swing").reset_index(drop=True)
    centre = float(base) if base is not None else float((data["low"] + data["high"]).mean() / 2)
    fig = go.Figure()
    for side, colour, label in (("low", pal.SKY_BLUE, "input at its low value"), ("high", pal.ORANGE, "at its high")):
        fig.add_trace(
            go.Bar(
                y=data["parameter"],
                x=data[side] - centre,
                base=centre,
                orientation="h",
                name=label,
                marker={"color": colour},
                customdata=data[side],
                hovertemplate=f"%{{y}} at its {side} value: %{{customdata:,.3f}}<extra></extra>",
                meta={"kind": side},
            )
        )
    fig.add_vline(
        x=centre,
        line={"color": "#222", "width": 1.5},
        annotation_text="central values",
        annotation_position="top",
    )
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text=value_label, gridcolor="#eee")
    _style(fig, title, height=max(340, 160 + 34 * len(data)))
    return add_note(fig, SHARE_YEARS_NOTE) if SHARE_YEARS in value_label else fig


def chart_config() -> dict[str, Any]:
    """The plotly.js config used for every chart: no logo, PNG download at slide size."""
    return {
        "displaylogo": False,
        "responsive": True,
        "toImageButtonOptions": {"format": "png", **PNG_SIZE, "scale": 2},
        "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    }

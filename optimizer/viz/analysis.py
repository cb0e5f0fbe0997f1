"""Turn the analyses' results (`optimizer.analysis`) into the plain tables the charts draw.

Each function takes the analysis result as its pydantic model or as the JSON dict that
``coalition <kind> --json`` prints and the REST service returns, and gives back the
documented DataFrame of the matching chart in `optimizer.viz.charts`. `analysis_charts`
builds every chart an analysis result supports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from optimizer.errors import CoalitionError
from optimizer.viz import charts

KINDS = ("compare", "frontier", "value", "uncertainty", "stress")


def _as_dict(result: Any) -> dict[str, Any]:
    if hasattr(result, "model_dump"):
        return result.model_dump(mode="json")
    if isinstance(result, Mapping):
        return dict(result)
    raise TypeError(f"expected an analysis result model or dict, got {type(result).__name__}")


def load_analysis(path: str | Path) -> dict[str, Any]:
    """Read an analysis result JSON (as printed by ``coalition frontier --json`` etc.)."""
    p = Path(path)
    if not p.is_file():
        raise CoalitionError(f"--analysis {p}: no such file")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CoalitionError(f"--analysis {p} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        raise CoalitionError(f"--analysis {p}: not an analysis result (its 'kind' should be one of {', '.join(KINDS)})")
    return data


def frontier_points(result: Any) -> pd.DataFrame:
    """FrontierResult -> budget_usd, exposure, cost_usd, capex_usd, is_knee, dominated (solved points only).

    The unlimited-budget plan is added as the last point when it spends more than the largest
    budget swept (its budget_usd is then its capex).
    """
    data = _as_dict(result)
    rows = []
    for p in data.get("points", []):
        if p.get("status") != "ok" or p.get("exposure_share_years") is None:
            continue
        rows.append(
            {
                "budget_usd": p.get("budget_usd"),
                "exposure": p["exposure_share_years"],
                "cost_usd": p.get("cost_usd"),
                "capex_usd": p.get("capex_usd"),
                "is_knee": bool(p.get("knee")),
                "dominated": bool(p.get("dominated")),
            }
        )
    unlimited = data.get("unlimited") or {}
    top = max((r["budget_usd"] or 0.0 for r in rows), default=0.0)
    if unlimited.get("status") == "ok" and (unlimited.get("capex_usd") or 0.0) > top * (1 + 1e-6):
        rows.append(
            {
                "budget_usd": unlimited.get("capex_usd"),
                "exposure": unlimited.get("exposure_share_years"),
                "cost_usd": unlimited.get("cost_usd"),
                "capex_usd": unlimited.get("capex_usd"),
                "is_knee": bool(unlimited.get("knee")),
                "dominated": False,
            }
        )
    columns = ["budget_usd", "exposure", "cost_usd", "capex_usd", "is_knee", "dominated"]
    return pd.DataFrame(rows, columns=columns)


def shapley_values(result: Any) -> pd.DataFrame:
    """ValueResult -> member, shapley, ci_low, ci_high, leave_one_out, standalone, share, suggested_capex_usd."""
    data = _as_dict(result)
    columns = ["member", "shapley", "ci_low", "ci_high", "leave_one_out", "standalone", "share", "suggested_capex_usd"]
    rows = [{c: m.get(c) for c in columns} for m in data.get("members", [])]
    return pd.DataFrame(rows, columns=columns)


def fan_percentiles(result: Any) -> pd.DataFrame:
    """UncertaintyResult -> year and its percentile columns (p5, p50, p95) of the mean exposed share."""
    data = _as_dict(result)
    frame = pd.DataFrame(data.get("exposed_share_by_year", []))
    if frame.empty:
        return pd.DataFrame(columns=["year", "p5", "p50", "p95"])
    keep = [
        "year",
        *sorted((c for c in frame.columns if c.startswith("p") and c[1:].isdigit()), key=lambda c: int(c[1:])),
    ]
    return frame[keep]


def tornado_bars(result: Any, metric: str = "exposure") -> tuple[pd.DataFrame, float | None]:
    """UncertaintyResult -> (parameter, low, high, rows) and the base outcome.

    `metric`: "exposure" (share-years) or "cost" (USD bn).
    """
    data = _as_dict(result)
    scale = 1e9 if metric == "cost" else 1.0
    lo_key, hi_key = ("cost_low_usd", "cost_high_usd") if metric == "cost" else ("exposure_low", "exposure_high")
    rows = [
        {
            "parameter": bar["group"],
            "low": None if bar.get(lo_key) is None else bar[lo_key] / scale,
            "high": None if bar.get(hi_key) is None else bar[hi_key] / scale,
            "rows": bar.get("rows"),
        }
        for bar in data.get("tornado", [])
    ]
    base = data.get("base") or {}
    value = base.get("cost_usd" if metric == "cost" else "exposure_share_years")
    return pd.DataFrame(rows, columns=["parameter", "low", "high", "rows"]), (None if value is None else value / scale)


def compare_exposure(result: Any) -> pd.DataFrame:
    """CompareResult -> the exposure chart's table: one label per coalition (and scenario, if several)."""
    data = _as_dict(result)
    several = len(data.get("scenarios", [])) > 1
    rows = []
    for cell in data.get("cells", []):
        if cell.get("status") not in ("ok", "infeasible"):
            continue
        label = f"{cell['coalition']} / {cell['scenario']}" if several else cell["coalition"]
        for r in cell.get("exposed_share_by_year", []):
            rows.append(
                {
                    "label": label,
                    "year": int(r["year"]),
                    "material": r["material"],
                    "exposed_share": r["exposed_share"],
                    "unmet_share": r.get("unmet_share", 0.0),
                }
            )
    return pd.DataFrame(rows, columns=["label", "year", "material", "exposed_share", "unmet_share"])


def stress_table(result: Any) -> pd.DataFrame:
    """StressResult -> one row per disruption: name, exposure and unmet change vs the baseline, worst year."""
    data = _as_dict(result)
    columns = ["name", "description", "status", "exposure_delta", "exposed_t_delta", "unmet_t_delta", "cost_delta_usd"]
    rows = [{c: s.get(c) for c in columns} | {"worst_year": s.get("worst_year")} for s in data.get("stresses", [])]
    return pd.DataFrame(rows, columns=[*columns, "worst_year"])


@dataclass
class AnalysisChart:
    """A chart made from an analysis result, with the table it draws."""

    key: str
    title: str
    figure: go.Figure
    data: pd.DataFrame
    caption: str


def analysis_charts(
    result: Any, names: Mapping[str, str] | None = None, base_by_year: pd.DataFrame | None = None
) -> list[AnalysisChart]:
    """Every chart an analysis result supports (compare, frontier, value, uncertainty; stress is a table).

    `base_by_year` (year, value): the plan's own mean exposed share, drawn on the uncertainty fan.
    """
    data = _as_dict(result)
    kind = data.get("kind")
    out: list[AnalysisChart] = []
    if kind == "compare":
        from optimizer.viz.compare import compare_charts  # it builds on this module

        out.extend(compare_charts(data))
    elif kind == "frontier":
        table = frontier_points(data)
        out.append(
            AnalysisChart(
                "frontier",
                "Cost-exposure frontier",
                charts.frontier_chart(table),
                table,
                "Least achievable exposure for each capital budget. Beyond the knee, each extra dollar buys much"
                " less exposure reduction. Grey hollow points are dominated: a smaller budget does as well.",
            )
        )
    elif kind == "value":
        table = shapley_values(data)
        method = data.get("method", "exact")
        if data.get("game") == "cost":
            label = "cost saved at fixed exposure, USD"
            what = "the cost the coalition saves while held to the exposure it reaches without any member's assets"
            chart = charts.shapley_chart(table, names=names, value_label=label)
        else:
            what = "the exposure the coalition avoids"
            chart = charts.shapley_chart(table, names=names)
        out.append(
            AnalysisChart(
                "shapley",
                "What each ally brings (Shapley values)",
                chart,
                table,
                f"Shapley value ({method}): each member's average contribution to {what}, over every order in"
                " which the coalition could form. Labels give the suggested share of the burden; diamonds show"
                " what the coalition loses if that member leaves.",
            )
        )
    elif kind == "uncertainty":
        table = fan_percentiles(data)
        out.append(
            AnalysisChart(
                "fan",
                "Uncertainty fan",
                charts.fan_chart(table, base=base_by_year),
                table,
                f"Exposed share (mean over materials) across {data.get('draws_ok', '?')} Monte Carlo draws of the"
                " dataset's low-high ranges: the band holds 90% of draws, the line is the median.",
            )
        )
        bars, base = tornado_bars(data)
        if not bars.empty:
            out.append(
                AnalysisChart(
                    "tornado",
                    "Tornado",
                    charts.tornado_chart(bars, base=base),
                    bars,
                    "Each input group set to its low and to its high value alone, everything else at central"
                    " values: the longest bars are the assumptions that matter most.",
                )
            )
    return out

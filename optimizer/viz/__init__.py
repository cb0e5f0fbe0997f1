"""Charts and the one-file HTML report for decision makers.

    >>> import optimizer
    >>> from optimizer.viz import exposure_chart, write_report
    >>> result = optimizer.solve()
    >>> exposure_chart(result).show()                 # a plotly Figure
    >>> write_report(result, "report.html")           # self-contained, opens offline

The same report from the command line: ``coalition report [RESULT_OR_SCENARIO] --out report.html``.
See docs/report.md. A comparison's charts (those of the web page, docs/ui.md):
``compare_figures(result)``, ``write_compare_report(result, "compare.html")`` or
``coalition chart compare COMPARE_JSON --out compare.html``.
"""

from __future__ import annotations

import importlib
from typing import Any

# Names load on first use, so that `coalition --help` and other commands do not import plotly.
_SOURCES = {
    "optimizer.viz.analysis": (
        "analysis_charts",
        "compare_exposure",
        "fan_percentiles",
        "frontier_points",
        "load_analysis",
        "shapley_values",
        "tornado_bars",
    ),
    "optimizer.viz.charts": (
        "adversary_share_chart",
        "capacity_chart",
        "capex_by_host_chart",
        "exposure_chart",
        "fan_chart",
        "frontier_chart",
        "sankey_chart",
        "shapley_chart",
        "tornado_chart",
    ),
    "optimizer.viz.compare": ("compare_charts", "compare_figures", "write_compare_report"),
    "optimizer.viz.data": (
        "adversary_share_table",
        "capacity_online_table",
        "capex_by_host_table",
        "exposure_table",
        "flow_table",
        "load_result",
    ),
    "optimizer.viz.report": ("build_report", "write_report"),
}
_WHERE = {name: module for module, names in _SOURCES.items() for name in names}


def __getattr__(name: str) -> Any:
    """Import the public names lazily (PEP 562)."""
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'optimizer.viz' has no attribute {name!r}")


__all__ = [
    "adversary_share_chart",
    "adversary_share_table",
    "analysis_charts",
    "build_report",
    "capacity_chart",
    "capacity_online_table",
    "capex_by_host_chart",
    "capex_by_host_table",
    "compare_charts",
    "compare_exposure",
    "compare_figures",
    "exposure_chart",
    "exposure_table",
    "fan_chart",
    "fan_percentiles",
    "flow_table",
    "frontier_chart",
    "frontier_points",
    "load_analysis",
    "load_result",
    "sankey_chart",
    "shapley_chart",
    "shapley_values",
    "tornado_bars",
    "tornado_chart",
    "write_compare_report",
    "write_report",
]

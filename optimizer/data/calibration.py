"""Calibration: whether the dataset reproduces the published picture before any optimisation.

For the baseline year, each stage's existing capacity is split by country; the
adversary's share per stage is set beside the published figure it should match.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from optimizer.data.loader import Dataset


@dataclass(frozen=True)
class PublishedShare:
    """A published share of one country in one stage, with the tolerance we hold it to."""

    stage: str
    country: str
    share_pct: float
    tolerance_pct: float
    source: str


PUBLISHED: tuple[PublishedShare, ...] = (
    PublishedShare(
        "mine", "CHN", 69.0, 1.0, "USGS Mineral Commodity Summaries 2025: 270,000 of 390,000 t REO mined in 2024"
    ),
    PublishedShare(
        "separation", "CHN", 90.0, 3.0, "IEA Global Critical Minerals Outlook 2024/2025: 91-92% of refining"
    ),
    PublishedShare("magnet", "CHN", 90.0, 4.0, "IEA (Oct 2025) 94%; US DOE ~90%; Section 232 NdFeB report ~92% (2020)"),
)


def stage_shares(dataset: Dataset, material: str | None = None) -> pd.DataFrame:
    """Share of each stage's existing capacity by country (percent), for one material or all."""
    capacity = dataset["capacity"]
    if material is not None:
        capacity = capacity[capacity["material"] == material]
    totals = capacity.groupby("stage")["capacity_t_per_yr"].sum()
    by_country = capacity.groupby(["stage", "country"], as_index=False)["capacity_t_per_yr"].sum()
    by_country["share_pct"] = 100 * by_country["capacity_t_per_yr"] / by_country["stage"].map(totals)
    order = {s: i for i, s in enumerate(dataset.stages)}
    by_country["_order"] = by_country["stage"].map(order)
    return (
        by_country.sort_values(["_order", "share_pct"], ascending=[True, False])
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def calibration_report(dataset: Dataset, material: str = "NdPr") -> pd.DataFrame:
    """Modelled vs published adversary share per stage, with a pass/fail per row."""
    shares = stage_shares(dataset, material)
    rows = []
    for published in PUBLISHED:
        hit = shares[(shares["stage"] == published.stage) & (shares["country"] == published.country)]
        modelled = float(hit["share_pct"].iloc[0]) if len(hit) else 0.0
        rows.append(
            {
                "stage": published.stage,
                "country": published.country,
                "material": material,
                "modelled_pct": round(modelled, 2),
                "published_pct": published.share_pct,
                "tolerance_pct": published.tolerance_pct,
                "within_tolerance": abs(modelled - published.share_pct) <= published.tolerance_pct,
                "source": published.source,
            }
        )
    return pd.DataFrame(rows)

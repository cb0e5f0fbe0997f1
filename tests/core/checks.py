"""Checks of a solution from its reported numbers alone (used on real and generated cases)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from optimizer import Result
from optimizer.model.inputs import EXPOSED, ModelInputs


def assert_capacity_holds(result: Result, inputs: ModelInputs, tol: float) -> None:
    """No country produces more than utilisation x (existing + ramped-up builds)."""
    production = result.tables["production"].groupby(["country", "stage", "material", "year"])["production_t"].sum()
    builds = result.builds
    for (r, s, m, t), made in production.items():
        new = 0.0
        for b in builds[(builds.country == r) & (builds.stage == s) & (builds.material == m)].itertuples():
            if t >= b.online_year:
                new += b.capacity_t_per_yr * inputs.ramp_factor(s, t - b.online_year)
        usable = inputs.utilisation[s] * (inputs.existing.get((r, s, m, t), 0.0) + new)
        assert made <= usable + tol, (r, s, m, t, made, usable)


def assert_mass_balance_holds(result: Result, inputs: ModelInputs, tol: float) -> None:
    """Output shipped, pools cleared, inputs = yield x received, demand balanced."""
    production = result.tables["production"]
    shipments = result.tables["shipments"]
    made = production.groupby(["country", "stage", "material", "year", "grade"])["production_t"].sum()
    out = (
        shipments[shipments.kind.isin(["local", "export", "lane"])]
        .groupby(["origin", "stage", "material", "year", "grade"])["quantity_t"]
        .sum()
    )
    for key, value in made.items():
        assert value == pytest.approx(out.get(key, 0.0), abs=tol), key
    exported = (
        shipments[shipments.kind == "export"]
        .groupby(["destination", "stage", "material", "year", "grade"])["quantity_t"]
        .sum()
    )
    imports = shipments[shipments.kind == "import"].copy()
    imports["pool"] = imports["origin"]
    imported = imports.groupby(["pool", "stage", "material", "year", "grade"])["quantity_t"].sum()
    for key in set(exported.index) | set(imported.index):
        assert exported.get(key, 0.0) == pytest.approx(imported.get(key, 0.0), abs=tol), key
    received = (
        shipments[shipments.kind.isin(["local", "import", "lane"])]
        .groupby(["destination", "stage", "material", "year", "grade"])["quantity_t"]
        .sum()
    )
    nxt = dict(zip(inputs.stages[:-1], inputs.stages[1:], strict=True))
    inflow: dict[tuple, float] = defaultdict(float)
    for (q, s, m, t, g), v in received.items():
        if s in nxt:
            grade = EXPOSED if q in inputs.adversaries else g
            inflow[(q, nxt[s], m, t, grade)] += v
    for (r, s, m, t, g), v in made.items():
        if s == inputs.first_stage:
            continue
        assert v == pytest.approx(inputs.yield_[(s, m)] * inflow.get((r, s, m, t, g), 0.0), abs=tol), (r, s, m, t, g)
    d = result.tables["deliveries"]
    balance = d.free_t + d.exposed_t + d.stock_release_t - d.stock_purchase_t + d.unmet_t
    assert (balance - d.demand_t).abs().max() < tol

"""The sweep engine: per-item status, progress, cancel, and identical numbers on every backend."""

from __future__ import annotations

import pytest

from optimizer.analysis import SweepEngine, SweepItem, run_analysis, run_sweep

from .conftest import scenario


def items_with_failures(tiny):
    ok = scenario(tiny, ["USA"]).model_dump(mode="json")
    impossible = scenario(tiny, ["USA"], targets=[{"from_year": 2026, "max_exposed_share": 0.0}])
    return [
        SweepItem(key="ok-1", scenario=ok),
        SweepItem(key="infeasible", scenario=impossible.model_dump(mode="json")),
        SweepItem(key="unknown-country", scenario={**ok, "coalition": ["ZZZ"]}),
        SweepItem(key="not-a-scenario", scenario={**ok, "start_year": "soon"}),
        SweepItem(key="ok-2", scenario={**ok, "budget_usd": None}),
    ]


def check_statuses(result):
    by = result.by_key()
    assert [i.key for i in result.items] == ["ok-1", "infeasible", "unknown-country", "not-a-scenario", "ok-2"]
    assert by["ok-1"].status == "ok" and by["ok-1"].digest.exposure_share_years == pytest.approx(5.0, rel=1e-6)
    assert by["ok-2"].status == "ok" and by["ok-2"].digest.exposure_share_years == pytest.approx(1.0, rel=1e-6)
    assert by["infeasible"].status == "infeasible"
    assert "target for 2026" in by["infeasible"].message
    assert by["unknown-country"].status == "error"
    assert "unknown country codes ['ZZZ']" in by["unknown-country"].message
    assert by["not-a-scenario"].status == "error"
    assert "scenario.start_year" in by["not-a-scenario"].message
    assert result.failed == 3 and not result.cancelled


def test_failed_items_do_not_fail_the_sweep(tiny):
    calls = []
    result = run_sweep(items_with_failures(tiny), progress=lambda done, total: calls.append((done, total)))
    check_statuses(result)
    assert calls == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_failed_items_do_not_fail_a_pool_sweep(tiny):
    calls = []
    result = run_sweep(items_with_failures(tiny), workers=2, progress=lambda done, total: calls.append(done))
    check_statuses(result)
    assert calls == [0, 1, 2, 3, 4, 5]


def test_cancel_stops_a_serial_sweep(tiny):
    items = [
        SweepItem(key=str(i), scenario=scenario(tiny, ["USA"], budget_usd=1000.0 * i).model_dump()) for i in range(6)
    ]
    done = []
    result = run_sweep(items, progress=lambda d, n: done.append(d), should_cancel=lambda: len(done) > 2)
    assert result.cancelled
    assert [i.status for i in result.items] == ["ok", "ok", "cancelled", "cancelled", "cancelled", "cancelled"]


def test_cancel_stops_a_pool_sweep(tiny):
    items = [
        SweepItem(key=str(i), scenario=scenario(tiny, ["USA"], budget_usd=1000.0 * i).model_dump()) for i in range(40)
    ]
    done = []
    result = run_sweep(items, workers=2, progress=lambda d, n: done.append(d), should_cancel=lambda: len(done) > 1)
    assert result.cancelled
    statuses = [i.status for i in result.items]
    assert statuses.count("cancelled") > 0
    assert all(s in ("ok", "cancelled") for s in statuses)


def test_cancelled_analysis_raises(tiny):
    from optimizer.analysis import AnalysisCancelled

    payload = {"scenario": scenario(tiny, ["USA"]).model_dump(mode="json"), "coalitions": [["USA"]], "workers": 1}
    with pytest.raises(AnalysisCancelled):
        run_analysis("compare", payload, should_cancel=lambda: True)


def test_local_and_dask_give_identical_digests(tiny):
    items = items_with_failures(tiny)
    local = run_sweep(items)
    with SweepEngine("dask", workers=1, dask_processes=False) as engine:
        dask = engine.run(items)
    assert [i.model_dump() for i in dask.items] == [i.model_dump() for i in local.items]


def _numbers(result):
    result.pop("meta")
    return result


def test_an_analysis_on_dask_equals_local(trio):
    payload = {
        "scenario": scenario(trio, "trio").model_dump(mode="json"),
        "workers": 1,
        "method": "exact",
    }
    local = run_analysis("value", payload)
    dask = run_analysis("value", {**payload, "backend": "dask"})
    assert _numbers(dask) == _numbers(local)

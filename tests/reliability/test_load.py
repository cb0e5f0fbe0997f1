"""Backpressure under load: benchmarks/load.py with small counts against a real `coalition serve`.

Promises: at most W solves run at once; past a queue of Q, submissions are refused with 429
and `Retry-After`; `/healthz` stays fast while solves run (p99 < 100 ms); no 5xx; every
accepted job succeeds.
"""

from __future__ import annotations

from benchmarks.load import HEALTHZ_P99_TARGET_MS, run, summary

WORKERS, QUEUE = 2, 4


def test_bounded_load_run():
    report = run(workers=WORKERS, queue=QUEUE, requests=40, concurrency=8, rate=8.0, duration=90.0)
    print("\n" + summary(report))
    assert report.max_concurrent_solves <= WORKERS, summary(report)
    assert report.max_concurrent_solves == WORKERS, "the load never kept both workers busy"
    assert report.rejected_429 > 0 and report.rejected_without_retry_after == 0, summary(report)
    assert report.accepted >= WORKERS + QUEUE, summary(report)
    assert report.server_errors == 0, summary(report)
    assert report.job_states == {"succeeded": report.accepted}, summary(report)
    assert report.healthz_probes_during_solves >= 50, summary(report)
    assert report.healthz_failures == 0
    assert report.healthz_p99_ms is not None and report.healthz_p99_ms < HEALTHZ_P99_TARGET_MS, summary(report)
    assert not report.timed_out and not report.problems, summary(report)

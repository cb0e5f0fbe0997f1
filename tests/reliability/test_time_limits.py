"""Time limits over HTTP: enforced server-side, clamped and echoed, and honest about the outcome.

Promises:
* a solve stopped by its time limit answers `status: time_limit` with no allocation (LP
  simplex stops at an infeasible basis; only a point HiGHS calls feasible would be returned);
* the limit is clamped to the server's maximum (`COALITION_SYNC_MAX_TIME_LIMIT_S` for
  POST /v1/solve, `COALITION_MAX_TIME_LIMIT_S` for jobs) and the effective value is echoed
  (`X-Effective-Time-Limit`, the job's `effective_time_limit_s`, the result's scenario);
  a limit outside the schema's range (0, 86400] is a 422 (tests/reliability/test_bad_input_catalogue.py);
* a sync solve not answered within its limit plus `COALITION_SYNC_WAIT_GRACE_S` turns into a
  202 with the job to poll.

The shipped dataset is used: building its model takes about a second, so a limit of a few
hundredths of a second is reached in the solve.
"""

from __future__ import annotations

import time

import pytest
from api_helpers import make_settings, running_client

import optimizer

from .helpers import wait_for

CAP_S = 0.05
ALLOCATION = ("builds", "deliveries", "production", "shipments", "financing")


@pytest.fixture
def shipped(monkeypatch):
    """The repository's datasets (the default scenario of rare_earths)."""
    monkeypatch.delenv("COALITION_DATASETS_DIR", raising=False)
    return optimizer.default_scenario().model_dump(mode="json", exclude={"options"})


def assert_stopped_without_allocation(result: dict) -> None:
    assert result["status"] == "time_limit", result["message"]
    assert "time limit" in result["message"]
    for table in ALLOCATION:
        assert result[table] == [], table
    assert result["total_cost_usd"] is None


def test_time_limit_is_capped_enforced_and_reported(sqlite_url, tmp_path, shipped):
    settings = make_settings(
        sqlite_url, tmp_path, datasets_dir=None,
        sync_max_time_limit_s=CAP_S, max_time_limit_s=CAP_S, sync_wait_grace_s=60,
    )
    with running_client(settings) as client:
        started = time.monotonic()
        sync = client.post("/v1/solve", json={**shipped, "options": {"time_limit_s": 3600}})
        elapsed = time.monotonic() - started
        assert sync.status_code == 200, sync.text
        assert sync.headers["X-Effective-Time-Limit"] == f"{CAP_S:g}"
        body = sync.json()
        assert body["scenario"]["options"]["time_limit_s"] == CAP_S  # clamped, and echoed in the result
        assert_stopped_without_allocation(body)
        assert body["model"]["seconds"]["solve"] < 2.0 and elapsed < 30
        job = client.get(f"/v1/jobs/{sync.headers['X-Job-ID']}").json()
        assert job["effective_time_limit_s"] == CAP_S and job["result_status"] == "time_limit"

        submitted = client.post("/v1/jobs", json={"kind": "solve", "payload": {**shipped, "options": {}}})
        assert submitted.status_code == 202
        assert submitted.json()["effective_time_limit_s"] == CAP_S  # no limit asked: the maximum
        assert submitted.headers["X-Effective-Time-Limit"] == f"{CAP_S:g}"
        done = wait_for(client, submitted.json()["id"])
        assert done["state"] == "succeeded" and done["result_status"] == "time_limit"
        stored = client.get(f"/v1/jobs/{done['id']}/result").json()
        assert stored["input"]["options"]["time_limit_s"] == CAP_S
        assert_stopped_without_allocation(stored["result"])

        out_of_range = client.post("/v1/solve", json={**shipped, "options": {"time_limit_s": 1e6}})
        assert out_of_range.status_code == 422
        assert out_of_range.json()["error"]["field"] == "options.time_limit_s"


def test_sync_solve_past_its_wait_becomes_a_job_to_poll(sqlite_url, tmp_path, shipped):
    settings = make_settings(
        sqlite_url, tmp_path, datasets_dir=None, sync_max_time_limit_s=CAP_S, sync_wait_grace_s=0,
    )
    with running_client(settings) as client:
        response = client.post("/v1/solve", json=shipped)
        assert response.status_code == 202, response.text  # building alone outlasts limit + grace
        job = response.json()
        assert response.headers["Location"] == f"/v1/jobs/{job['id']}"
        assert job["state"] in ("queued", "running")
        done = wait_for(client, job["id"])
        assert done["state"] == "succeeded" and done["result_status"] == "time_limit"

"""A real `coalition serve` (uvicorn + worker processes) on a loopback port."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator

import httpx
import pytest
from api_helpers import TINY, Server, Worker
from sqlalchemy import select

import optimizer
from api.storage.db import make_engine, make_sessionmaker
from api.storage.models import Worker as WorkerRow

FINAL = ("succeeded", "failed", "cancelled")
# ~40 small solves: a few seconds of work in one worker process.
SLOW_COMPARE = {
    "scenario": {**TINY},
    "coalitions": ["usa_only"] * 12,  # 120 solves: seconds, so a stop lands mid-job
    "scenarios": [{"dataset": "tiny", "name": f"copy {i}"} for i in range(10)],
}


def wait_for(http: httpx.Client, job_id: str, states: tuple[str, ...], timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = http.get(f"/v1/jobs/{job_id}").json()
        if job["state"] in states:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


@contextlib.contextmanager
def shipped_datasets() -> Iterator[None]:
    """The repository's datasets (not the tiny test ones) while the block runs."""
    saved = os.environ.pop("COALITION_DATASETS_DIR", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["COALITION_DATASETS_DIR"] = saved


@pytest.fixture(scope="module")
def default_scenario() -> dict:
    """The default scenario of the shipped dataset, as JSON."""
    with shipped_datasets():
        return optimizer.default_scenario().model_dump(mode="json")


@pytest.fixture(scope="module")
def default_result(default_scenario: dict) -> optimizer.Result:
    """The library's answer to the default scenario, as the service runs it (clamped, 1 thread)."""
    options = {**default_scenario["options"], "time_limit_s": 300.0, "threads": 1}
    with shipped_datasets():
        return optimizer.solve({**default_scenario, "options": options}, allow_paths=False)


def test_default_scenario_as_a_job(db_url, tmp_path, servers, default_scenario, default_result):
    server = Server(db_url, tmp_path / "server.log", workers=1, COALITION_DATASETS_DIR=None)
    servers.append(server)
    server.wait_ready()
    with server.client() as http:
        submitted = http.post("/v1/jobs", json={"kind": "solve", "payload": default_scenario})
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["id"]
        running = wait_for(http, job_id, ("running", *FINAL))
        started = time.monotonic()
        health = http.get("/healthz")  # stays fast while a worker process solves
        assert health.status_code == 200 and time.monotonic() - started < 1.0
        assert running["state"] in ("running", "succeeded")
        done = wait_for(http, job_id, FINAL)
        assert done["state"] == "succeeded", (done, server.log_tail())
        body = http.get(f"/v1/jobs/{job_id}/result").json()
    result, expected = body["result"], default_result.summary
    assert body["input_hash"] == expected.scenario_hash == result["scenario_hash"]
    assert result["status"] == expected.status == "optimal"
    assert result["total_cost_usd"] == pytest.approx(expected.total_cost_usd, rel=1e-6)
    for key in ("exposure_share_years", "exposed_t", "unmet_t"):
        assert result["objective"][key] == pytest.approx(expected.objective[key], rel=1e-6, abs=1e-6)
    assert len(result["builds"]) == len(expected.builds)


def test_queued_jobs_survive_a_restart(sqlite_url, datasets_dir, tmp_path, servers):
    first = Server(sqlite_url, tmp_path / "first.log", workers=0)
    servers.append(first)
    first.wait_ready(need_workers=False)
    with first.client() as http:
        ids = [http.post("/v1/jobs", json={"kind": "solve", "payload": {**TINY, "name": f"r{i}"}}).json()["id"]
               for i in range(2)]
        assert {http.get(f"/v1/jobs/{i}").json()["state"] for i in ids} == {"queued"}
    first.stop(signal.SIGTERM)
    assert first.process.returncode in (0, -signal.SIGTERM), first.log_tail()  # uvicorn re-raises it
    assert "Application shutdown complete" in first.log_tail()

    second = Server(sqlite_url, tmp_path / "second.log", workers=1)
    servers.append(second)
    second.wait_ready()
    with second.client() as http:
        for job_id in ids:
            done = wait_for(http, job_id, FINAL)
            assert done["state"] == "succeeded" and done["attempts"] == 1
            assert http.get(f"/v1/jobs/{job_id}/result").json()["result"]["status"] == "optimal"


def test_killed_worker_job_is_retried(sqlite_url, datasets_dir, tmp_path, servers):
    """SIGKILL the worker mid-job: after its lease expires another worker runs the job again."""
    api = Server(sqlite_url, tmp_path / "api.log", workers=0)
    servers.append(api)
    api.wait_ready(need_workers=False)
    quick = {"COALITION_LEASE_S": "2", "COALITION_HEARTBEAT_S": "0.3", "COALITION_POLL_S": "0.1"}
    doomed = Worker(sqlite_url, tmp_path / "worker1.log", **quick)
    try:
        with api.client() as http:
            job_id = http.post("/v1/jobs", json={"kind": "compare", "payload": SLOW_COMPARE}).json()["id"]
            deadline = time.monotonic() + 60
            while http.get(f"/v1/jobs/{job_id}").json()["progress"]["done"] < 1:
                assert time.monotonic() < deadline, doomed.log_tail()
                time.sleep(0.05)
            doomed.stop(signal.SIGKILL)
            assert http.get(f"/v1/jobs/{job_id}").json()["state"] == "running"
            rescuer = Worker(sqlite_url, tmp_path / "worker2.log", **quick)
            try:
                done = wait_for(http, job_id, FINAL)
            finally:
                rescuer.stop(signal.SIGTERM)
            assert done["state"] == "succeeded", rescuer.log_tail()
            assert done["attempts"] == 2
            log = http.get(f"/v1/jobs/{job_id}/log").json()["text"]
            assert "attempt 1 lost" in log and "attempt 2 started" in log
            assert len(http.get(f"/v1/jobs/{job_id}/result").json()["result"]["cells"]) == 120
    finally:
        doomed.stop(signal.SIGKILL)


def test_serve_restarts_a_killed_pool_worker_and_retries_its_job(sqlite_url, datasets_dir, tmp_path, servers):
    """SIGKILL a worker process of `coalition serve`: the pool restarts it and retries the job
    at once (long before its 60 s lease would expire)."""
    quick = {"COALITION_LEASE_S": "60", "COALITION_HEARTBEAT_S": "0.3"}
    server = Server(sqlite_url, tmp_path / "serve.log", workers=1, **quick)
    servers.append(server)
    server.wait_ready()
    sessions = make_sessionmaker(make_engine(sqlite_url))
    with server.client() as http:
        job_id = http.post("/v1/jobs", json={"kind": "compare", "payload": SLOW_COMPARE}).json()["id"]
        deadline = time.monotonic() + 60
        pid = None
        while pid is None:
            assert time.monotonic() < deadline, server.log_tail()
            with sessions() as session:
                pid = session.scalar(select(WorkerRow.pid).where(WorkerRow.current_job_id == job_id))
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
        done = wait_for(http, job_id, FINAL, timeout=40)
        assert done["state"] == "succeeded" and done["attempts"] == 2, server.log_tail()
        assert "restarting" in server.log_path.read_text()
        assert http.get("/readyz").status_code == 200


def test_a_running_job_is_requeued_by_a_graceful_stop(sqlite_url, datasets_dir, tmp_path, servers):
    """SIGTERM while a job runs: the worker gives it back at its next checkpoint (the attempt
    is not counted) and the next server finishes it."""
    first = Server(sqlite_url, tmp_path / "first.log", workers=1)
    servers.append(first)
    first.wait_ready()
    with first.client() as http:
        job_id = http.post("/v1/jobs", json={"kind": "compare", "payload": SLOW_COMPARE}).json()["id"]
        deadline = time.monotonic() + 60
        while http.get(f"/v1/jobs/{job_id}").json()["progress"]["done"] < 1:
            assert time.monotonic() < deadline, first.log_tail()
            time.sleep(0.05)
    first.stop(signal.SIGTERM)
    second = Server(sqlite_url, tmp_path / "second.log", workers=1)
    servers.append(second)
    second.wait_ready()
    with second.client() as http:
        done = wait_for(http, job_id, FINAL)
        assert done["state"] == "succeeded" and done["attempts"] == 1, done
        log = http.get(f"/v1/jobs/{job_id}/log").json()["text"]
        assert "requeued" in log and log.count("attempt 1 started") == 2

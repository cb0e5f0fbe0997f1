"""Faults: worker processes killed mid-job, the API and the database restarted, the database down.

Promises:
* a worker killed with SIGKILL mid-job loses no job: each ends `succeeded`, or `failed`
  with a reason once its attempts are used up; no job stays `running` past its lease;
* restarting the API (even SIGKILL of the whole server) and PostgreSQL with jobs queued
  and running loses no job and no stored result;
* with the database down, the API answers 503 with `Retry-After` (no traceback), stays
  live, and recovers by itself when the database returns.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from api_helpers import Server, postgres_url

from api.security import create_api_key
from api.storage.db import make_engine, make_sessionmaker, transaction, upgrade_schema
from api.storage.models import utcnow

from .helpers import (
    FINAL,
    TINY,
    Peek,
    TcpProxy,
    children_of,
    compare_payload,
    pg_ctl,
    pg_online,
    postgres_cluster,
    wait_for,
)

KILLS = 20
LEASE_S = 3.0
# How late a reaper may notice an expired lease: heartbeat period + the pool's 1 s check + slack.
REAP_SLACK_S = 3.0


def test_sigkill_mid_job_repeated(sqlite_url, datasets_dir, tmp_path, servers):
    """SIGKILL a worker process mid-job 20 times: no job lost, none stuck in `running`."""
    quick = {
        "COALITION_LEASE_S": str(LEASE_S),
        "COALITION_HEARTBEAT_S": "0.2",
        "COALITION_POLL_S": "0.1",
        "COALITION_MAX_ATTEMPTS": "3",
    }
    server = Server(sqlite_url, tmp_path / "serve.log", workers=2, **quick)
    servers.append(server)
    server.wait_ready()
    peek = Peek(sqlite_url)
    submitted: list[str] = []
    killed: list[tuple[int, str]] = []
    worst_overdue = 0.0
    deadline = time.monotonic() + 240
    with server.client() as http:

        def submit(count: int) -> None:
            for _ in range(count):
                response = http.post("/v1/jobs", json={"kind": "compare", "payload": compare_payload(16)})
                assert response.status_code == 202, response.text
                submitted.append(response.json()["id"])

        submit(8)
        while len(killed) < KILLS:
            assert time.monotonic() < deadline, (len(killed), server.log_tail())
            jobs = peek.jobs()
            now = utcnow()
            running = [job for job in jobs if job.state == "running"]
            for job in running:  # no job may stay running past its lease (beyond the reaper's delay)
                overdue = (now - job.lease_expires_at).total_seconds() if job.lease_expires_at else 0.0
                worst_overdue = max(worst_overdue, overdue)
                assert overdue < REAP_SLACK_S, (job.id, overdue, server.log_tail())
            if not any(job.state == "queued" for job in jobs) and len(submitted) < 60:
                submit(2)
            # Live workers only: a killed one stays listed (a zombie) until the pool reaps it.
            workers = children_of(server.process.pid) - {pid for pid, _ in killed}
            candidates = [
                (int(job.lease_owner.split(":")[1]), job.id)
                for job in running
                if job.lease_owner and job.progress_done >= 1 and int(job.lease_owner.split(":")[1]) in workers
            ]
            # The first job is killed on each of its attempts (it must fail, with a reason); the
            # others at most twice (their third attempt runs through and succeeds).
            kills = Counter(job_id for _, job_id in killed)
            candidates = [c for c in candidates if c[1] == submitted[0] or kills[c[1]] < 2]
            if not candidates:
                time.sleep(0.05)
                continue
            target = min(candidates, key=lambda c: (c[1] != submitted[0], kills[c[1]]))
            os.kill(target[0], signal.SIGKILL)
            killed.append(target)
            time.sleep(0.3)
        # Every job ends, and is accounted for.
        finished = [wait_for(http, job_id, FINAL, timeout=180) for job_id in submitted]
        assert http.get("/readyz").status_code == 200
    jobs = {job.id: job for job in peek.jobs()}
    results = peek.results()
    peek.close()
    assert set(submitted) <= set(jobs), "a submitted job vanished"
    states = {job["state"] for job in finished}
    assert states <= {"succeeded", "failed"}, states
    assert [job["id"] for job in finished if job["state"] == "failed"] == [submitted[0]]
    for job in finished:
        if job["state"] == "failed":
            assert job["error"]["code"] == "lease_expired" and job["error"]["message"], job
        else:
            assert job["id"] in results and len(results[job["id"]].body["cells"]) == 16
        assert job["attempts"] <= 3
    killed_jobs = {job_id for _, job_id in killed}
    # Each kill that landed mid-job cost one attempt (retried, or the last one: failed). A kill
    # may race with the job's own end (the job then simply succeeded): allow two such races.
    landed = sum(job.attempts - 1 for job in jobs.values()) + sum(j["state"] == "failed" for j in finished)
    assert landed >= KILLS - 2, (landed, killed)
    assert jobs[submitted[0]].state == "failed"  # killed on each of its 3 attempts
    print(
        f"\nsigkill: {len(killed)} kills ({landed} landed mid-job) over {len(killed_jobs)} jobs of {len(submitted)};"
        f" succeeded {sum(j['state'] == 'succeeded' for j in finished)},"
        f" failed(lease_expired) {sum(j['state'] == 'failed' for j in finished)};"
        f" worst lease overdue {worst_overdue:.2f} s"
    )


def _submit(http: httpx.Client, kind: str, payload: dict) -> str:
    response = http.post("/v1/jobs", json={"kind": kind, "payload": payload})
    assert response.status_code == 202, response.text
    return response.json()["id"]


def test_server_killed_with_jobs_queued_and_running_sqlite(sqlite_url, datasets_dir, tmp_path, servers):
    """SIGKILL the whole `coalition serve` (API and workers, as a power loss would) while a job
    runs and others wait; the next server finishes them all; stored results are untouched."""
    quick = {"COALITION_LEASE_S": str(LEASE_S), "COALITION_HEARTBEAT_S": "0.2", "COALITION_POLL_S": "0.1"}
    first = Server(sqlite_url, tmp_path / "first.log", workers=1, **quick)
    servers.append(first)
    first.wait_ready()
    with first.client() as http:
        done_id = _submit(http, "solve", {**TINY, "name": "before"})
        assert wait_for(http, done_id)["state"] == "succeeded"
        before = http.get(f"/v1/jobs/{done_id}/result").json()
        running_id = _submit(http, "compare", compare_payload(40))
        queued_ids = [_submit(http, "solve", {**TINY, "name": f"q{i}"}) for i in range(3)]
        wait_for(http, running_id, ("running",), timeout=60)
        while http.get(f"/v1/jobs/{running_id}").json()["progress"]["done"] < 1:
            time.sleep(0.05)
    first.stop(signal.SIGKILL)
    assert first.process.returncode == -signal.SIGKILL

    second = Server(sqlite_url, tmp_path / "second.log", workers=1, **quick)
    servers.append(second)
    second.wait_ready()
    with second.client() as http:
        assert http.get(f"/v1/jobs/{done_id}/result").json() == before
        for job_id in [running_id, *queued_ids]:
            assert wait_for(http, job_id)["state"] == "succeeded", second.log_tail()
            assert http.get(f"/v1/jobs/{job_id}/result").status_code == 200
        rerun = http.get(f"/v1/jobs/{running_id}").json()
        assert rerun["attempts"] == 2  # the killed attempt was lost (lease expired) and retried
        assert "lost" in http.get(f"/v1/jobs/{running_id}/log").json()["text"]
        assert http.get("/v1/jobs").json()["total"] == 5


@pytest.fixture
def cluster():
    """The local PostgreSQL cluster, restarted by the test and left running whatever happens."""
    postgres_url()  # skip (or fail under CI) without PostgreSQL
    found = postgres_cluster()
    if found is None:
        pytest.skip("no local PostgreSQL cluster managed by pg_ctlcluster")
    yield found
    if not pg_online(found):
        pg_ctl("start", found)


def test_api_and_postgres_restarted_with_jobs_queued_and_running(pg_url, cluster, datasets_dir, tmp_path, servers):
    """Restart PostgreSQL while a job runs and others wait, then restart the API: nothing lost."""
    env = {"COALITION_LEASE_S": "15", "COALITION_HEARTBEAT_S": "0.3", "COALITION_POLL_S": "0.1"}
    first = Server(pg_url, tmp_path / "first.log", workers=1, **env)
    servers.append(first)
    first.wait_ready()
    with first.client() as http:
        done_id = _submit(http, "solve", {**TINY, "name": "before"})
        assert wait_for(http, done_id)["state"] == "succeeded"
        before = http.get(f"/v1/jobs/{done_id}/result").json()
        running_id = _submit(http, "compare", compare_payload(40))
        queued_ids = [_submit(http, "solve", {**TINY, "name": f"q{i}"}) for i in range(3)]
        wait_for(http, running_id, ("running",), timeout=60)
        try:
            pg_ctl("restart", cluster)
        finally:
            if not pg_online(cluster):
                pg_ctl("start", cluster)
        # The API reconnects by itself (pre-ping): the first requests may see 503, then 200.
        deadline = time.monotonic() + 30
        while (status := http.get("/v1/jobs").status_code) != 200:
            assert status == 503 and time.monotonic() < deadline, status
            time.sleep(0.2)
        late_id = _submit(http, "solve", {**TINY, "name": "after db restart"})
    first.stop(signal.SIGTERM)  # the API restarts too (a running job is given back)

    second = Server(pg_url, tmp_path / "second.log", workers=1, **env)
    servers.append(second)
    second.wait_ready()
    with second.client() as http:
        assert http.get(f"/v1/jobs/{done_id}/result").json() == before
        for job_id in [running_id, *queued_ids, late_id]:
            job = wait_for(http, job_id)
            assert job["state"] == "succeeded", (job, first.log_tail(), second.log_tail())
            assert http.get(f"/v1/jobs/{job_id}/result").status_code == 200
        assert http.get("/v1/jobs").json()["total"] == 6
    log = first.log_path.read_text() + second.log_path.read_text()
    assert "unhandled error" not in log  # no request ended in the last-resort 500 handler


def test_database_down_is_503_then_recovers(datasets_dir, tmp_path, servers):
    """A real server (keys required) behind a TCP proxy to PostgreSQL: cut it, then restore it."""
    url = postgres_url()
    from api_helpers import reset_postgres

    reset_postgres(url)
    engine = make_engine(url)
    upgrade_schema(engine)
    with transaction(make_sessionmaker(engine)) as session:
        _, key = create_api_key(session, "ops", ["read", "submit"])
    engine.dispose()
    parts = urlsplit(url)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    proxy.start()
    credentials = parts.netloc.rsplit("@", 1)[0]
    proxied = urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{proxy.port}"))
    env = {"COALITION_REQUIRE_API_KEY": "true", "COALITION_HEARTBEAT_S": "0.3", "COALITION_POLL_S": "0.1"}
    server = Server(proxied, tmp_path / "serve.log", workers=1, **env)
    servers.append(server)
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.base_url, headers={"X-API-Key": key}, timeout=60) as http:
            before = _submit(http, "solve", {**TINY, "name": "before"})
            assert wait_for(http, before)["state"] == "succeeded"
            proxy.cut()
            probes = {
                "list": http.get("/v1/jobs"),
                "get": http.get(f"/v1/jobs/{before}"),
                "submit": http.post("/v1/jobs", json={"kind": "solve", "payload": TINY}),
                "solve": http.post("/v1/solve", json=TINY),
            }
            for name, response in probes.items():
                assert response.status_code == 503, (name, response.text)
                assert response.json()["error"]["code"] == "database_unavailable", name
                assert int(response.headers["Retry-After"]) > 0, name
                assert "Traceback" not in response.text and "psycopg" not in response.text, name
            ready = http.get("/readyz")
            assert ready.status_code == 503 and ready.headers["Retry-After"]
            assert ready.json()["database"] == "unavailable"
            started = time.monotonic()
            assert http.get("/healthz").status_code == 200 and time.monotonic() - started < 1.0
            proxy.start()
            deadline = time.monotonic() + 30
            while http.get("/v1/jobs").status_code != 200:
                assert time.monotonic() < deadline, "the API did not recover"
                time.sleep(0.2)
            after = _submit(http, "solve", {**TINY, "name": "after"})
            assert wait_for(http, after, timeout=60)["state"] == "succeeded", server.log_tail()
            deadline = time.monotonic() + 30
            while http.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, "readiness did not recover"
                time.sleep(0.2)
            assert http.get(f"/v1/jobs/{before}/result").status_code == 200
    finally:
        proxy.cut()

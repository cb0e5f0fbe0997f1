"""Result retention and deletion, checked in the database itself.

Promises:
* finished jobs (state, result, log) older than COALITION_RESULT_RETENTION_DAYS (default 30;
  0 keeps them forever) are deleted at startup and then every COALITION_RETENTION_CHECK_S by
  the workers; queued and running jobs are never purged, however old;
* DELETE /v1/jobs/{id} removes the job, its result and its log for real: no row is left, and
  on SQLite (secure_delete on) not even the bytes in the file.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta
from pathlib import Path

from api_helpers import make_settings, running_client
from sqlalchemy import func, select, update

from api.config import Settings
from api.storage.db import make_engine, make_sessionmaker, transaction
from api.storage.models import Job, JobLogChunk, JobResult, utcnow

from .helpers import TINY, wait_for


def counts(sessions, job_id: str) -> tuple[int, int, int]:
    """Rows of one job in jobs, job_results and job_log_chunks."""
    with sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Job).where(Job.id == job_id)),
            session.scalar(select(func.count()).select_from(JobResult).where(JobResult.job_id == job_id)),
            session.scalar(select(func.count()).select_from(JobLogChunk).where(JobLogChunk.job_id == job_id)),
        )


def age(sessions, job_id: str, days: float, **values) -> None:
    """Pretend a job finished (or was created) `days` ago."""
    past = utcnow() - timedelta(days=days)
    with transaction(sessions) as session:
        session.execute(
            update(Job).where(Job.id == job_id).values(
                **{"finished_at": past, "created_at": past, "updated_at": past, **values}
            )
        )


def test_default_retention_is_30_days():
    assert Settings().result_retention_days == 30


def test_expired_jobs_are_purged_at_startup(db_url, datasets_dir):
    with running_client(make_settings(db_url, datasets_dir)) as client:
        ids = [client.post("/v1/jobs", json={"kind": "solve", "payload": {**TINY, "name": f"j{i}"}}).json()["id"]
               for i in range(4)]
        for job_id in ids:
            assert wait_for(client, job_id)["state"] == "succeeded"
    with running_client(make_settings(db_url, datasets_dir, workers=0)) as client:
        waiting = client.post("/v1/jobs", json={"kind": "solve", "payload": {**TINY, "name": "waiting"}}).json()["id"]
    sessions = make_sessionmaker(make_engine(db_url))
    old, old_failed, recent, just_expired = ids
    age(sessions, old, 31)
    age(sessions, old_failed, 400, state="failed", error={"code": "internal_error", "message": "x"})
    age(sessions, recent, 29)
    age(sessions, just_expired, 30.01)
    age(sessions, waiting, 90, finished_at=None)  # queued for 90 days: never purged
    assert all(counts(sessions, job_id)[0] == 1 for job_id in ids)
    assert counts(sessions, old)[1:] >= (1, 1)  # a result and a log to purge

    with running_client(make_settings(db_url, datasets_dir, workers=0)) as client:
        for job_id in (old, old_failed, just_expired):
            assert counts(sessions, job_id) == (0, 0, 0), job_id
            assert client.get(f"/v1/jobs/{job_id}").status_code == 404
        assert counts(sessions, recent)[:2] == (1, 1)
        assert client.get(f"/v1/jobs/{recent}/result").status_code == 200
        assert client.get(f"/v1/jobs/{waiting}").json()["state"] == "queued"


def test_workers_purge_periodically_and_zero_keeps_forever(sqlite_url, datasets_dir):
    settings = make_settings(sqlite_url, datasets_dir, retention_check_s=0.2, result_retention_days=1)
    sessions = make_sessionmaker(make_engine(sqlite_url))
    with running_client(settings) as client:
        job_id = client.post("/v1/jobs", json={"kind": "solve", "payload": TINY}).json()["id"]
        assert wait_for(client, job_id)["state"] == "succeeded"
        age(sessions, job_id, 2)
        deadline = time.monotonic() + 10
        while counts(sessions, job_id) != (0, 0, 0):
            assert time.monotonic() < deadline, "the worker did not purge the expired job"
            time.sleep(0.1)
    forever = make_settings(sqlite_url, datasets_dir, retention_check_s=0.2, result_retention_days=0)
    with running_client(forever) as client:
        job_id = client.post("/v1/jobs", json={"kind": "solve", "payload": TINY}).json()["id"]
        assert wait_for(client, job_id)["state"] == "succeeded"
        age(sessions, job_id, 10_000)
        time.sleep(1.0)
        assert counts(sessions, job_id)[:2] == (1, 1)


def test_delete_removes_job_result_and_log_for_real(db_url, datasets_dir):
    marker = "delete-me-" + str(time.time_ns())
    with running_client(make_settings(db_url, datasets_dir)) as client:
        job_id = client.post("/v1/jobs", json={"kind": "solve", "payload": {**TINY, "name": marker}}).json()["id"]
        assert wait_for(client, job_id)["state"] == "succeeded"
        sessions = make_sessionmaker(make_engine(db_url))
        present = counts(sessions, job_id)
        assert present[0] == 1 and present[1] == 1 and present[2] >= 1
        assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
        assert counts(sessions, job_id) == (0, 0, 0)
        for path in ("", "/result", "/log"):
            assert client.get(f"/v1/jobs/{job_id}{path}").status_code == 404
        assert client.delete(f"/v1/jobs/{job_id}").status_code == 404
    if db_url.startswith("sqlite"):
        database = Path(db_url.removeprefix("sqlite:///"))
        with sqlite3.connect(database) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw = b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))
        assert marker.encode() not in raw, "the deleted job's data is still in the database file"

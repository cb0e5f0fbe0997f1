"""Every query the service and its workers run, in one place.

Job states: queued -> running -> succeeded | failed | cancelled. A running job is held by
a lease (`lease_owner`, `lease_expires_at`) that its worker extends by heartbeats; a job
whose lease expired is requeued (or failed after `max_attempts`) by `reap_expired`.
Claiming is atomic: `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, one conditional
`UPDATE` on SQLite (whose transactions take the write lock at BEGIN).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from api.storage.db import transaction
from api.storage.models import ApiKey, Job, JobLogChunk, JobResult, Worker, utcnow

logger = logging.getLogger(__name__)

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = (
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
)
STATES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)
FINISHED = frozenset({SUCCEEDED, FAILED, CANCELLED})
QUEUE_LOCK_ID = 4_242_002  # PostgreSQL advisory lock making the queue bound exact
PURGE_LOCK_ID = 4_242_003  # PostgreSQL advisory lock: one purger at a time
PURGE_BATCH, PURGE_MAX_BATCHES = 500, 200
TRUNCATION_NOTE = b"\n[log truncated: the stored log reached its size cap]\n"


# --- submission side ---------------------------------------------------------------------


def lock_queue(session: Session) -> None:
    """Serialise submissions so that the queue bound holds under concurrency."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": QUEUE_LOCK_ID})


def queue_depth(session: Session) -> int:
    """Jobs waiting for a worker."""
    return int(session.scalar(select(func.count()).select_from(Job).where(Job.state == QUEUED)) or 0)


def find_by_idempotency_key(session: Session, owner: str, key: str) -> Job | None:
    """The job an earlier submission with this key created, if any."""
    return session.scalar(select(Job).where(Job.owner == owner, Job.idempotency_key == key))


def create_job(
    session: Session,
    *,
    kind: str,
    payload: Any,
    request_hash: str,
    input_hash: str | None,
    effective_time_limit_s: float | None,
    idempotency_key: str | None,
    owner: str,
    priority: int,
    max_attempts: int,
) -> Job:
    """Insert a queued job (flushed, so that a duplicate idempotency key raises here)."""
    now = utcnow()
    job = Job(
        id=str(uuid.uuid4()),
        kind=kind,
        state=QUEUED,
        priority=priority,
        payload=payload,
        request_hash=request_hash,
        input_hash=input_hash,
        effective_time_limit_s=effective_time_limit_s,
        idempotency_key=idempotency_key,
        owner=owner,
        created_at=now,
        updated_at=now,
        attempts=0,
        max_attempts=max_attempts,
        cancel_requested=False,
        progress_done=0,
        progress_total=0,
        log_size=0,
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: str, owner: str | None = None) -> Job | None:
    """A job by id; with `owner`, only if that owner submitted it (else None, as if absent)."""
    job = session.get(Job, job_id)
    if job is None or (owner is not None and job.owner != owner):
        return None
    return job


def list_jobs(
    session: Session,
    state: str | None,
    kind: str | None,
    limit: int,
    offset: int,
    owner: str | None = None,
) -> tuple[list[Job], int]:
    """A page of jobs, newest first, and the total matching the filters (`owner`: one owner's)."""
    query = select(Job)
    count = select(func.count()).select_from(Job)
    if owner is not None:
        query, count = query.where(Job.owner == owner), count.where(Job.owner == owner)
    if state is not None:
        query, count = query.where(Job.state == state), count.where(Job.state == state)
    if kind is not None:
        query, count = query.where(Job.kind == kind), count.where(Job.kind == kind)
    rows = session.scalars(query.order_by(Job.created_at.desc(), Job.id).limit(limit).offset(offset))
    return list(rows), int(session.scalar(count) or 0)


def request_cancel(session: Session, job_id: str) -> Job | None:
    """Cancel a queued job at once; flag a running one for its worker; finished: no change."""
    now = utcnow()
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == QUEUED)
        .values(state=CANCELLED, finished_at=now, updated_at=now, cancel_requested=True)
    )
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == RUNNING, Job.cancel_requested.is_(False))
        .values(cancel_requested=True, updated_at=now)
    )
    session.expire_all()
    return session.get(Job, job_id)


def delete_job(session: Session, job_id: str) -> None:
    """Remove a job with its result and log."""
    session.execute(delete(JobLogChunk).where(JobLogChunk.job_id == job_id))
    session.execute(delete(JobResult).where(JobResult.job_id == job_id))
    session.execute(delete(Job).where(Job.id == job_id))


def purge_finished(factory: sessionmaker[Session], before: datetime) -> int:
    """Delete finished jobs (with results and logs) that finished before `before`; how many.

    Queued and running jobs are never touched. Works in batches (short transactions); on
    PostgreSQL only one process purges at a time (the others skip).
    """
    purged = 0
    for _ in range(PURGE_MAX_BATCHES):
        with transaction(factory) as session:
            if session.get_bind().dialect.name == "postgresql":
                got = session.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": PURGE_LOCK_ID})
                if not got:
                    return purged
            ids = list(
                session.scalars(
                    select(Job.id)
                    .where(Job.state.in_(sorted(FINISHED)), Job.finished_at < before)
                    .order_by(Job.finished_at)
                    .limit(PURGE_BATCH)
                )
            )
            if not ids:
                return purged
            session.execute(delete(JobLogChunk).where(JobLogChunk.job_id.in_(ids)))
            session.execute(delete(JobResult).where(JobResult.job_id.in_(ids)))
            session.execute(delete(Job).where(Job.id.in_(ids), Job.state.in_(sorted(FINISHED))))
        purged += len(ids)
    return purged


def purge_expired(factory: sessionmaker[Session], retention_days: float) -> int:
    """Apply the retention period (0 = keep forever): delete finished jobs older than it."""
    if retention_days <= 0:
        return 0
    purged = purge_finished(factory, utcnow() - timedelta(days=retention_days))
    if purged:
        logger.info("retention: deleted %d finished job(s) older than %g days", purged, retention_days)
    return purged


def get_result(session: Session, job_id: str) -> JobResult | None:
    """A finished job's stored result."""
    return session.get(JobResult, job_id)


def read_log(session: Session, job_id: str, offset: int, limit: int) -> bytes:
    """Up to `limit` bytes of a job's log from byte `offset`."""
    chunks = session.scalars(
        select(JobLogChunk)
        .where(JobLogChunk.job_id == job_id, JobLogChunk.byte_offset < offset + limit)
        .order_by(JobLogChunk.byte_offset)
    )
    out = bytearray()
    for chunk in chunks:
        end = chunk.byte_offset + len(chunk.data)
        if end <= offset:
            continue
        start = max(offset - chunk.byte_offset, 0)
        out += chunk.data[start:]
    return bytes(out[:limit])


def append_log(session: Session, job: Job, data: bytes, cap: int) -> None:
    """Append to a job's log (the caller holds the job row); past `cap` the log is cut."""
    if not data or job.log_size >= cap:
        return
    room = cap - job.log_size
    if len(data) > room:
        keep = max(room - len(TRUNCATION_NOTE), 0)
        data = data[:keep] + TRUNCATION_NOTE[: room - keep]
    session.add(JobLogChunk(job_id=job.id, byte_offset=job.log_size, data=data))
    job.log_size += len(data)


# --- worker side -------------------------------------------------------------------------


@dataclass
class Claimed:
    """What a worker needs to run a job it has claimed."""

    id: str
    kind: str
    payload: Any
    attempts: int
    token: str
    input_hash: str | None


def claim_next(factory: sessionmaker[Session], worker_id: str, lease_s: float) -> Claimed | None:
    """Atomically take the next queued job (highest priority, oldest first) under a lease."""
    token = f"{worker_id}/{uuid.uuid4().hex[:12]}"
    now = utcnow()
    values = {
        "state": RUNNING,
        "lease_owner": token,
        "lease_expires_at": now + timedelta(seconds=lease_s),
        "heartbeat_at": now,
        "started_at": now,
        "updated_at": now,
        "attempts": Job.attempts + 1,
    }
    order = (Job.priority.desc(), Job.created_at, Job.id)
    with transaction(factory) as session:
        if session.get_bind().dialect.name == "postgresql":
            job_id = session.scalar(
                select(Job.id)
                .where(Job.state == QUEUED)
                .order_by(*order)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if job_id is None:
                return None
            session.execute(update(Job).where(Job.id == job_id).values(**values))
        else:
            candidate = select(Job.id).where(Job.state == QUEUED).order_by(*order).limit(1)
            result = session.execute(
                update(Job)
                .where(Job.id == candidate.scalar_subquery(), Job.state == QUEUED)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
        job = session.scalar(select(Job).where(Job.lease_owner == token, Job.state == RUNNING))
        if job is None:
            return None
        note = f"[{now.isoformat(timespec='seconds')}] attempt {job.attempts} started on {worker_id}\n"
        append_log(session, job, note.encode(), cap=1 << 62)
        return Claimed(job.id, job.kind, job.payload, job.attempts, token, job.input_hash)


@dataclass
class Beat:
    """What a heartbeat learned: whether the lease is still ours and whether to cancel."""

    lease_held: bool
    cancel_requested: bool


def heartbeat(
    factory: sessionmaker[Session],
    claimed: Claimed,
    lease_s: float,
    progress: tuple[int, int] | None,
    log: bytes,
    log_cap: int,
) -> Beat:
    """Extend the lease, record progress and new log lines; report a cancel request."""
    now = utcnow()
    values: dict[str, Any] = {
        "lease_expires_at": now + timedelta(seconds=lease_s),
        "heartbeat_at": now,
        "updated_at": now,
    }
    if progress is not None:
        values["progress_done"], values["progress_total"] = progress
    with transaction(factory) as session:
        held = session.execute(
            update(Job)
            .where(Job.id == claimed.id, Job.lease_owner == claimed.token, Job.state == RUNNING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if held.rowcount != 1:  # type: ignore[attr-defined]
            return Beat(lease_held=False, cancel_requested=True)
        job = session.get(Job, claimed.id)
        assert job is not None
        append_log(session, job, log, log_cap)
        return Beat(lease_held=True, cancel_requested=job.cancel_requested)


def finish_job(
    factory: sessionmaker[Session],
    claimed: Claimed,
    state: str,
    *,
    log: bytes = b"",
    log_cap: int,
    error: dict[str, Any] | None = None,
    result: JobResult | None = None,
    result_status: str | None = None,
    progress: tuple[int, int] | None = None,
) -> bool:
    """Record a job's end (only while its lease is ours); False when the lease was lost."""
    now = utcnow()
    values: dict[str, Any] = {
        "state": state,
        "finished_at": now,
        "updated_at": now,
        "lease_owner": None,
        "lease_expires_at": None,
        "error": error,
        "result_status": result_status,
    }
    if progress is not None:
        values["progress_done"], values["progress_total"] = progress
    with transaction(factory) as session:
        job = session.get(Job, claimed.id, with_for_update=True)
        if job is None or job.lease_owner != claimed.token or job.state != RUNNING:
            return False
        append_log(session, job, log, log_cap)
        for key, value in values.items():
            setattr(job, key, value)
        if result is not None:
            session.execute(delete(JobResult).where(JobResult.job_id == claimed.id))
            session.add(result)
        return True


def release_job(factory: sessionmaker[Session], claimed: Claimed, reason: str, log_cap: int) -> None:
    """Give a job back to the queue without counting the attempt (graceful shutdown)."""
    now = utcnow()
    with transaction(factory) as session:
        job = session.get(Job, claimed.id, with_for_update=True)
        if job is None or job.lease_owner != claimed.token or job.state != RUNNING:
            return
        append_log(session, job, f"[{now.isoformat(timespec='seconds')}] {reason}\n".encode(), log_cap)
        job.state, job.lease_owner, job.lease_expires_at = QUEUED, None, None
        job.attempts = max(job.attempts - 1, 0)
        job.updated_at = now


def reap_expired(factory: sessionmaker[Session], log_cap: int) -> list[tuple[str, str]]:
    """Requeue (or fail, or cancel) running jobs whose lease expired; return (id, new state)."""
    now = utcnow()
    changed: list[tuple[str, str]] = []
    with transaction(factory) as session:
        query = select(Job).where(Job.state == RUNNING, Job.lease_expires_at < now)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        for job in session.scalars(query.limit(100)):
            stamp = now.isoformat(timespec="seconds")
            job.lease_owner, job.lease_expires_at, job.updated_at = None, None, now
            if job.cancel_requested:
                job.state, job.finished_at = CANCELLED, now
                note = "lease expired while cancelling; job cancelled"
            elif job.attempts >= job.max_attempts:
                job.state, job.finished_at = FAILED, now
                job.error = {
                    "code": "lease_expired",
                    "message": (
                        f"the worker running this job stopped responding (its lease expired)"
                        f" on each of {job.attempts} attempts; giving up"
                    ),
                }
                note = f"attempt {job.attempts} lost (lease expired); no attempts left: failed"
            else:
                job.state = QUEUED
                note = f"attempt {job.attempts} lost (worker stopped responding); requeued"
            append_log(session, job, f"[{stamp}] {note}\n".encode(), log_cap)
            changed.append((job.id, job.state))
    for job_id, state in changed:
        logger.warning("job %s: lease expired -> %s", job_id, state)
    return changed


# --- workers registry --------------------------------------------------------------------


def register_worker(factory: sessionmaker[Session], worker_id: str, hostname: str, pid: int) -> None:
    """Record a worker as alive (and forget workers silent for a long time)."""
    now = utcnow()
    with transaction(factory) as session:
        session.execute(delete(Worker).where(Worker.heartbeat_at < now - timedelta(hours=1)))
        session.merge(Worker(id=worker_id, hostname=hostname, pid=pid, started_at=now, heartbeat_at=now))


def worker_heartbeat(factory: sessionmaker[Session], worker_id: str, job_id: str | None) -> None:
    """Mark a worker alive, with the job it is running."""
    with transaction(factory) as session:
        session.execute(
            update(Worker)
            .where(Worker.id == worker_id)
            .values(heartbeat_at=utcnow(), current_job_id=job_id)
        )


def remove_worker(factory: sessionmaker[Session], worker_id: str) -> None:
    """Forget a worker that stopped cleanly."""
    with transaction(factory) as session:
        session.execute(delete(Worker).where(Worker.id == worker_id))


def live_workers(session: Session, within_s: float) -> int:
    """Workers that sent a heartbeat in the last `within_s` seconds."""
    since: datetime = utcnow() - timedelta(seconds=within_s)
    return int(
        session.scalar(select(func.count()).select_from(Worker).where(Worker.heartbeat_at >= since))
        or 0
    )


# --- API keys ----------------------------------------------------------------------------


def add_api_key(session: Session, name: str, prefix: str, key_hash: str, scopes: list[str]) -> ApiKey:
    """Store a new key's hash."""
    key = ApiKey(name=name, prefix=prefix, key_hash=key_hash, scopes=" ".join(sorted(set(scopes))))
    session.add(key)
    session.flush()
    return key


def api_keys_with_prefix(session: Session, prefix: str) -> list[ApiKey]:
    """Unrevoked keys whose public prefix matches."""
    query = select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
    return list(session.scalars(query))


def list_api_keys(session: Session) -> list[ApiKey]:
    """Every key, revoked or not (hashes only)."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_api_key(session: Session, key_id: int) -> bool:
    """Revoke a key; False when there is no such key."""
    key = session.get(ApiKey, key_id)
    if key is None:
        return False
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return True

"""Job submission (idempotency, queue bound) and the public view of a job."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings
from api.errors import ApiError
from api.runner import Submission, canonical_hash
from api.schemas import JobError, JobLinks, JobProgress, JobPublic
from api.security import Principal
from api.storage import repository
from api.storage.db import transaction
from api.storage.models import Job

QUEUE_RETRY_AFTER_S = 5
SYNC_PRIORITY = 10  # POST /v1/solve waits for its answer: it goes first


def request_hash(kind: str, payload: Any) -> str:
    """Hash of a submission as sent (what an Idempotency-Key is bound to)."""
    return canonical_hash({"kind": kind, "payload": payload})


def submit(
    sessions: sessionmaker[Session],
    settings: Settings,
    caller: Principal,
    submission: Submission,
    sent_hash: str,
    key: str | None,
    priority: int = 0,
) -> tuple[Job, bool]:
    """Store a queued job (or find the one this idempotency key made); (job, created)."""
    with transaction(sessions) as session:
        repository.lock_queue(session)
        if key is not None:
            existing = repository.find_by_idempotency_key(session, caller.owner, key)
            if existing is not None:
                if existing.request_hash != sent_hash:
                    raise ApiError(
                        409,
                        "idempotency_conflict",
                        "this Idempotency-Key was used with a different request body",
                        field="Idempotency-Key",
                        extra={"job_id": existing.id},
                    )
                return existing, False
        depth = repository.queue_depth(session)
        if depth >= settings.queue_max:
            raise ApiError(
                429,
                "queue_full",
                f"{depth} jobs are waiting (limit {settings.queue_max}); retry later",
                headers={"Retry-After": str(QUEUE_RETRY_AFTER_S)},
            )
        job = repository.create_job(
            session,
            kind=submission.kind,
            payload=submission.payload,
            request_hash=sent_hash,
            input_hash=submission.input_hash,
            effective_time_limit_s=submission.effective_time_limit_s,
            idempotency_key=key,
            owner=caller.owner,
            priority=priority,
            max_attempts=settings.max_attempts,
        )
        return job, True


def load_job(sessions: sessionmaker[Session], job_id: str, caller: Principal | None = None) -> Job:
    """A job by id, or 404; with `caller`, only a job that caller may see (see `visible_job`)."""
    with sessions() as session:
        job = visible_job(session, job_id, caller)
    if job is None:
        raise not_found(job_id)
    return job


def visible_job(session: Session, job_id: str, caller: Principal | None) -> Job | None:
    """A job `caller` may see: its own, or any for an admin (None: internal use, any job).

    Another owner's job is None, exactly like a missing one, so that a 404 reveals nothing.
    """
    owner = caller.job_owner_filter if caller is not None else None
    return repository.get_job(session, job_id, owner=owner)


def not_found(job_id: str) -> ApiError:
    """The 404 for an unknown job id (and for another API key's job: same body, nothing revealed)."""
    return ApiError(404, "job_not_found", f"no job with id '{job_id}'", field="job_id")


def job_public(job: Job) -> JobPublic:
    """The public view of a job row."""
    base = f"/v1/jobs/{job.id}"
    return JobPublic(
        id=job.id,
        kind=job.kind,  # type: ignore[arg-type]
        state=job.state,  # type: ignore[arg-type]
        owner=job.owner,
        progress=JobProgress(done=job.progress_done, total=job.progress_total),
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        cancel_requested=job.cancel_requested,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        updated_at=job.updated_at,
        effective_time_limit_s=job.effective_time_limit_s,
        input_hash=job.input_hash,
        result_status=job.result_status,
        error=JobError.model_validate(job.error) if job.error else None,
        links=JobLinks(self=base, result=f"{base}/result", log=f"{base}/log", cancel=f"{base}/cancel"),
    )


def job_headers(job: Job) -> dict[str, str]:
    """Headers echoed with a job: Location and the effective time limit."""
    headers = {"Location": f"/v1/jobs/{job.id}", "X-Job-ID": job.id}
    if job.effective_time_limit_s is not None:
        headers["X-Effective-Time-Limit"] = f"{job.effective_time_limit_s:g}"
    return headers

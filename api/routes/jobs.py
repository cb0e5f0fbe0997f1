"""Asynchronous jobs: submit, inspect, page, read the result and log, cancel, delete."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from api import runner
from api.bodies import JSONBodyRoute
from api.config import Settings
from api.deps import IdempotencyKey, ReadCaller, SessionsDep, SettingsDep, SubmitCaller
from api.errors import ApiError, coalition_error, invalid
from api.jobs import job_headers, job_public, load_job, not_found, request_hash, submit, visible_job
from api.schemas import (
    ErrorResponse,
    JobCreate,
    JobKind,
    JobLogPage,
    JobPage,
    JobPublic,
    JobResultPublic,
    JobState,
    error_responses,
)
from api.security import ADMIN, OWNER_PATTERN, Principal
from api.storage import repository
from api.storage.db import transaction
from api.storage.models import finite_json
from optimizer.errors import CoalitionError

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], route_class=JSONBodyRoute)
JobId = Annotated[str, Path(description="Job id (a UUID, as returned on submission).")]
NOT_READY_RETRY_S = 1
ANALYSIS_RETRY_AFTER_S = 60  # a deployment fault: not fixed in seconds, but 503s carry Retry-After


def build_submission(
    kind: str, payload: dict, settings: Settings, prefix: str = "payload"
) -> runner.Submission:
    """Check and normalise a job's payload; 422 naming the field (under `prefix`) when bad."""
    try:
        if kind == runner.SOLVE:
            return runner.prepare_solve(payload, settings.max_time_limit_s)
        return runner.prepare_analysis(kind, payload, settings.max_time_limit_s, sweep_policy(settings))
    except CoalitionError as exc:
        raise coalition_error(exc, prefix=prefix, root="payload" if kind != runner.SOLVE else "scenario") from None
    except runner.AnalysisUnavailableError as exc:
        raise ApiError(
            503,
            "analysis_unavailable",
            f"this server cannot run '{kind}' jobs: {exc}",
            field="kind",
            headers={"Retry-After": str(ANALYSIS_RETRY_AFTER_S)},
        ) from None


def sweep_policy(settings: Settings) -> runner.SweepPolicy:
    """Where analysis sweeps run on this server."""
    return runner.SweepPolicy(settings.analysis_backend, settings.dask_scheduler, settings.analysis_workers)


@router.post(
    "",
    status_code=202,
    response_model=JobPublic,
    responses=error_responses(400, 401, 403, 409, 413, 415, 422, 429, 503),
)
def create_job(
    body: JobCreate,
    response: Response,
    caller: SubmitCaller,
    key: IdempotencyKey,
    settings: SettingsDep,
    sessions: SessionsDep,
) -> JobPublic:
    """Queue a job (stored before this 202 returns); poll it at `links.self`."""
    submission = build_submission(body.kind, body.payload, settings)
    job, created = submit(sessions, settings, caller, submission, request_hash(body.kind, body.payload), key)
    response.headers.update(job_headers(job))
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return job_public(job)


def owner_filter(caller: Principal, owner: str | None) -> str | None:
    """The owner a listing is restricted to: the caller's own jobs, or (admin) all or `owner`'s.

    A non-admin key passing `owner` gets a 403 naming the field (even its own label: the
    filter is an admin tool); an admin's malformed label is a 422.
    """
    if owner is None:
        return caller.job_owner_filter
    if not caller.is_admin:
        raise ApiError(
            403,
            "forbidden",
            "the 'owner' filter needs the 'admin' scope; without it a key lists only its own jobs",
            field="owner",
            extra={"required_scope": ADMIN},
        )
    if not OWNER_PATTERN.fullmatch(owner):
        raise invalid([("owner", "must be 'key:<id>' (an API key's id, see `coalition keys list`) or 'anonymous'")])
    return owner


@router.get("", response_model=JobPage, responses=error_responses(401, 403, 422, 503))
def list_jobs(
    caller: ReadCaller,
    sessions: SessionsDep,
    state: JobState | None = None,
    kind: JobKind | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    owner: Annotated[
        str | None,
        Query(
            description=(
                "Admin keys only (403 otherwise): jobs of one owner, `key:<id>` or `anonymous`."
                " Without it a key lists its own jobs, an admin key everyone's."
            ),
            examples=["key:3"],
        ),
    ] = None,
) -> JobPage:
    """The caller's jobs (an admin's: everyone's, or one owner's), newest first, by state and kind."""
    only = owner_filter(caller, owner)
    with sessions() as session:
        rows, total = repository.list_jobs(session, state, kind, limit, offset, owner=only)
    after = offset + len(rows)
    return JobPage(
        items=[job_public(job) for job in rows],
        total=total,
        limit=limit,
        offset=offset,
        next_offset=after if after < total else None,
    )


@router.get("/{job_id}", response_model=JobPublic, responses=error_responses(401, 403, 404, 503))
def get_job(job_id: JobId, caller: ReadCaller, sessions: SessionsDep, response: Response) -> JobPublic:
    """A job's state, progress, timestamps, attempts and error (404 for another key's job)."""
    job = load_job(sessions, job_id, caller)
    response.headers.update(job_headers(job))
    return job_public(job)


@router.get(
    "/{job_id}/result",
    response_model=JobResultPublic,
    responses=error_responses(401, 403, 404, 503)
    | {409: {"model": ErrorResponse, "description": "Not ready (state given), failed or cancelled."}},
)
def get_result(job_id: JobId, caller: ReadCaller, sessions: SessionsDep) -> JSONResponse:
    """The answer of a succeeded job, with the input, its hash, solver and model versions."""
    with sessions() as session:
        job = visible_job(session, job_id, caller)
        if job is None:
            raise not_found(job_id)
        stored = repository.get_result(session, job_id) if job.state == repository.SUCCEEDED else None
    if stored is None:
        if job.state in (repository.QUEUED, repository.RUNNING):
            raise ApiError(
                409,
                "result_not_ready",
                f"job {job_id} is {job.state}; poll /v1/jobs/{job_id} until it has succeeded",
                field="job_id",
                headers={"Retry-After": str(NOT_READY_RETRY_S)},
                extra={"state": job.state, "job_id": job_id},
            )
        codes = {repository.FAILED: "job_failed", repository.CANCELLED: "job_cancelled"}
        code = codes.get(job.state, "no_result")
        raise ApiError(
            409, code, f"job {job_id} is {job.state}: it has no result", field="job_id",
            extra={"state": job.state, "job_id": job_id, "job_error": job.error},
        )
    content = {
        "job_id": job.id,
        "kind": job.kind,
        "input": stored.input,
        "input_hash": stored.input_hash,
        "solver_name": stored.solver_name,
        "solver_version": stored.solver_version,
        "model_version": stored.model_version,
        "created_at": stored.created_at.isoformat(),
        "result": finite_json(stored.body),
    }
    return JSONResponse(content, headers=job_headers(job))


@router.get("/{job_id}/log", response_model=JobLogPage, responses=error_responses(401, 403, 404, 422, 503))
def get_log(
    job_id: JobId,
    caller: ReadCaller,
    sessions: SessionsDep,
    settings: SettingsDep,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1, description="Byte offset to read from.")] = 0,
    limit: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Bytes at most (capped by the server).")
    ] = None,
) -> JobLogPage:
    """The job's solver and progress log from a byte offset (pages are capped in size)."""
    size_cap = min(limit or settings.log_page_bytes, settings.log_page_bytes)
    with sessions() as session:
        job = visible_job(session, job_id, caller)
        if job is None:
            raise not_found(job_id)
        data = repository.read_log(session, job_id, offset, size_cap)
    next_offset = offset + len(data) if data else min(offset, job.log_size)
    finished = job.state in repository.FINISHED
    return JobLogPage(
        job_id=job_id,
        offset=offset,
        next_offset=next_offset,
        size=job.log_size,
        complete=finished and next_offset >= job.log_size,
        text=data.decode("utf-8", errors="replace"),
    )


@router.post(
    "/{job_id}/cancel",
    response_model=JobPublic,
    responses=error_responses(401, 403, 404, 503)
    | {202: {"model": JobPublic, "description": "Running: the worker stops at its next checkpoint."}},
)
def cancel_job(job_id: JobId, caller: SubmitCaller, sessions: SessionsDep, response: Response) -> JobPublic:
    """Cancel (idempotent): a queued job at once, a running one at its next checkpoint."""
    with transaction(sessions) as session:
        if visible_job(session, job_id, caller) is None:
            raise not_found(job_id)
        job = repository.request_cancel(session, job_id)
        if job is None:
            raise not_found(job_id)
    if job.state == repository.RUNNING:
        response.status_code = 202
    return job_public(job)


@router.delete(
    "/{job_id}", status_code=204, response_class=Response, responses=error_responses(401, 403, 404, 409, 503)
)
def delete_job(job_id: JobId, caller: SubmitCaller, sessions: SessionsDep) -> Response:
    """Delete a job with its result and log (a running job must be cancelled first)."""
    with transaction(sessions) as session:
        job = visible_job(session, job_id, caller)
        if job is None:
            raise not_found(job_id)
        if job.state == repository.RUNNING:
            raise ApiError(
                409,
                "job_running",
                "the job is running; cancel it first (POST .../cancel), then delete it",
                field="job_id",
                extra={"state": job.state, "job_id": job_id},
            )
        repository.delete_job(session, job_id)
    return Response(status_code=204)

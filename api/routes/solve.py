"""POST /v1/solve: solve one scenario and wait for the answer (in a worker, never here)."""

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api import runner
from api.bodies import JSONBodyRoute
from api.deps import SessionsDep, SettingsDep, SubmitCaller
from api.errors import error_response
from api.jobs import SYNC_PRIORITY, job_headers, job_public, load_job, request_hash, submit
from api.schemas import SOLVE_EXAMPLE, ErrorResponse, JobPublic, error_responses
from api.storage import repository
from api.storage.db import transaction
from api.storage.models import Job, finite_json
from optimizer.schemas import ResultModel, Scenario

router = APIRouter(prefix="/v1", tags=["solve"], route_class=JSONBodyRoute)

POLL_FIRST_S, POLL_MAX_S = 0.05, 0.5

EXAMPLES = {
    "defaults": {"summary": "Every field at its default", "value": {}},
    "preset": {"summary": "A coalition preset, 30 s limit", "value": SOLVE_EXAMPLE},
    "countries": {
        "summary": "A coalition as ISO3 codes with an export ban from 2027",
        "value": {
            "coalition": ["USA", "AUS", "JPN"],
            "export_controls": [{"from_year": 2027, "max_share": 0.0}],
        },
    },
}


async def _wait(request: Request, sessions: SessionsDep, job_id: str, deadline: float) -> Job | None:
    """Poll the job until it finishes (None on timeout); cancel it if the client leaves."""
    delay = POLL_FIRST_S
    while True:
        job = await run_in_threadpool(load_job, sessions, job_id)
        if job.state in repository.FINISHED:
            return job
        if time.monotonic() >= deadline:
            return None
        if await request.is_disconnected():
            await run_in_threadpool(_cancel, sessions, job_id)
            return None
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, POLL_MAX_S)


def _cancel(sessions: SessionsDep, job_id: str) -> None:
    with transaction(sessions) as session:
        repository.request_cancel(session, job_id)


def _finished_response(job: Job, sessions: SessionsDep) -> JSONResponse:
    headers = job_headers(job)
    if job.state == repository.SUCCEEDED:
        with sessions() as session:
            stored = repository.get_result(session, job.id)
        if stored is not None:
            return JSONResponse(finite_json(stored.body), headers=headers)
    error = job.error or {}
    if job.state == repository.CANCELLED:
        return error_response(409, "job_cancelled", "the solve was cancelled", headers=headers)
    if error.get("code") == "invalid_input":
        fields = error.get("fields") or []
        fields = [{**item, "field": item["field"].removeprefix("payload.")} for item in fields]
        return error_response(
            422, "invalid_input", error.get("message", "invalid input"), fields=fields,
            field=fields[0]["field"] if fields else None, headers=headers,
        )
    return error_response(
        500,
        error.get("code", "internal_error"),
        error.get("message", "the solve failed"),
        headers=headers,
        extra={"job_id": job.id},
    )


@router.post(
    "/solve",
    response_model=ResultModel,
    responses=error_responses(400, 401, 403, 413, 415, 422, 429, 503)
    | {
        202: {"model": JobPublic, "description": "Still running at the wait deadline: poll the job."},
        409: {"model": ErrorResponse, "description": "The solve was cancelled."},
    },
)
async def solve(
    request: Request,
    scenario: Annotated[Scenario, Body(openapi_examples=EXAMPLES)],
    caller: SubmitCaller,
    settings: SettingsDep,
    sessions: SessionsDep,
) -> JSONResponse:
    """Solve a scenario synchronously; the time limit is clamped (header X-Effective-Time-Limit).

    Solver outcomes (optimal, infeasible, unbounded, time_limit, error) are in the body's
    `status`; an infeasible scenario is a 200 with the explanation in `message` and
    `violations`.
    """
    data = scenario.model_dump(mode="json", exclude_unset=True)
    submission = await run_in_threadpool(runner.prepare_solve, data, settings.sync_max_time_limit_s)
    job, _ = await run_in_threadpool(
        submit, sessions, settings, caller, submission, request_hash("solve", data), None, SYNC_PRIORITY
    )
    limit = submission.effective_time_limit_s or settings.sync_max_time_limit_s
    deadline = time.monotonic() + limit + settings.sync_wait_grace_s
    finished = await _wait(request, sessions, job.id, deadline)
    if finished is None:
        pending = await run_in_threadpool(load_job, sessions, job.id)
        return JSONResponse(
            job_public(pending).model_dump(mode="json"), status_code=202, headers=job_headers(pending)
        )
    return _finished_response(finished, sessions)


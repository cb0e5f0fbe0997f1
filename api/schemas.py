"""Request and response models of the REST API (the library's Scenario/ResultModel aside)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.runner import JOB_KINDS
from optimizer.schemas import ResultModel

JobKind = Literal["solve", "compare", "frontier", "value", "uncertainty", "stress"]
JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
assert set(JobKind.__args__) == set(JOB_KINDS)  # type: ignore[attr-defined]

SOLVE_EXAMPLE: dict[str, Any] = {
    "name": "five eyes + Japan, 2026-2040",
    "dataset": "rare_earths",
    "coalition": "five_eyes_japan",
    "adversaries": ["CHN"],
    "start_year": 2026,
    "end_year": 2040,
    "budget_usd": 20e9,
    "options": {"time_limit_s": 30},
}


# --- errors ------------------------------------------------------------------------------


class FieldError(BaseModel):
    """One bad field and what is wrong with it."""

    field: str = Field(description="Path of the field in the request body (or a header/query name).")
    message: str


class ErrorDetail(BaseModel):
    """What went wrong, with the request id to quote."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Stable machine-readable code, e.g. invalid_input, queue_full.")
    message: str
    field: str | None = Field(None, description="The first offending field, if any.")
    fields: list[FieldError] | None = Field(None, description="Every offending field (422).")
    request_id: str


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorDetail

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "code": "invalid_input",
                        "message": "coalition: unknown coalition preset 'nato'",
                        "field": "coalition",
                        "fields": [{"field": "coalition", "message": "unknown coalition preset 'nato'"}],
                        "request_id": "4f1c2b7e9a0d4d6c8e3f5a1b2c3d4e5f",
                    }
                }
            ]
        }
    )


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the given error statuses."""
    described = {
        400: "Malformed JSON or invalid UTF-8.",
        401: "Missing or unknown API key.",
        403: "The API key lacks the scope this route needs.",
        404: "No such job (another API key's job counts as none) or dataset.",
        409: "Conflict: idempotency key reused with another body, or the job is not in a state for this.",
        413: "Request body over the size limit.",
        415: "Body is not application/json.",
        422: "Invalid input; `fields` names each bad field.",
        429: "Job queue full; retry after `Retry-After` seconds.",
        503: "Database (or workers) unavailable; retry after `Retry-After` seconds.",
    }
    return {status: {"model": ErrorResponse, "description": described[status]} for status in statuses}


# --- jobs --------------------------------------------------------------------------------


class JobCreate(BaseModel):
    """A job submission: what to run and its input."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"kind": "solve", "payload": SOLVE_EXAMPLE},
                {
                    "kind": "compare",
                    "payload": {
                        "scenario": {"dataset": "rare_earths"},
                        "coalitions": ["five_eyes_japan", ["USA", "AUS"]],
                    },
                },
            ]
        },
    )

    kind: JobKind = Field(description="solve, or an analysis: compare, frontier, value, uncertainty, stress.")
    payload: dict[str, Any] = Field(
        description=(
            "kind=solve: a Scenario (see POST /v1/solve). Other kinds: the analysis request model"
            " of optimizer.analysis for that kind."
        )
    )


class JobProgress(BaseModel):
    """Items (or phases) done out of the total."""

    done: int = 0
    total: int = 0


class JobError(BaseModel):
    """Why a job failed."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    fields: list[FieldError] | None = None


class JobLinks(BaseModel):
    """Where to go next."""

    self: str
    result: str
    log: str
    cancel: str


class JobPublic(BaseModel):
    """A job as clients see it."""

    id: str
    kind: JobKind
    state: JobState
    owner: str = Field(
        description=(
            "Who submitted the job: `key:<id>` (the API key's id, see `coalition keys list`) or"
            " `anonymous` (no key). A key sees only its own jobs; an `admin` key sees all."
        )
    )
    progress: JobProgress
    attempts: int = Field(description="Attempts started (a lost worker's job is retried).")
    max_attempts: int
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    effective_time_limit_s: float | None = Field(
        description="Solver time limit after the server's clamp (null if the job has none)."
    )
    input_hash: str | None = Field(description="SHA-256 of the normalised input.")
    result_status: str | None = Field(
        description="For solves: optimal, infeasible, unbounded, time_limit or error."
    )
    error: JobError | None
    links: JobLinks


class JobPage(BaseModel):
    """A page of jobs, newest first."""

    items: list[JobPublic]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class JobResultPublic(BaseModel):
    """A finished job's answer with its provenance."""

    job_id: str
    kind: JobKind
    input: dict[str, Any] = Field(description="The normalised input the job ran.")
    input_hash: str = Field(description="SHA-256 of the input (Scenario.content_hash for solves).")
    solver_name: str
    solver_version: str
    model_version: str
    created_at: datetime
    result: Annotated[
        ResultModel | dict[str, Any],
        Field(
            union_mode="left_to_right",
            description="kind=solve: a ResultModel (as POST /v1/solve returns); others: the analysis output.",
        ),
    ]


class JobLogPage(BaseModel):
    """A slice of a job's log by byte offset."""

    job_id: str
    offset: int = Field(description="Byte offset this slice starts at.")
    next_offset: int = Field(description="Pass as ?offset= to continue.")
    size: int = Field(description="Bytes stored so far.")
    complete: bool = Field(description="True when the job has finished and the slice reaches the end.")
    text: str


# --- datasets ----------------------------------------------------------------------------


class CoalitionPreset(BaseModel):
    """A named coalition of a dataset."""

    dataset: str
    name: str
    members: list[str]
    description: str = ""


class DatasetSummary(BaseModel):
    """A shipped dataset at a glance."""

    name: str
    countries: int
    stages: list[str]
    materials: list[str]
    coalitions: dict[str, list[str]]
    scenarios: list[str]


class Country(BaseModel):
    """A country of a dataset."""

    iso3: str
    name: str
    groups: list[str] = Field(default_factory=list)


class DatasetDetail(DatasetSummary):
    """A dataset in detail: countries, table sizes and calibration against published figures."""

    country_list: list[Country]
    tables: dict[str, int] = Field(description="Rows per table.")
    calibration: list[dict[str, Any]] = Field(
        description="Modelled vs published adversary share per stage (optimizer.data.calibration)."
    )


# --- health ------------------------------------------------------------------------------


class Health(BaseModel):
    """Liveness."""

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Readiness: database reachable and workers alive."""

    status: Literal["ready", "not_ready"]
    database: Literal["ok", "unavailable"]
    workers_alive: int
    local_workers: int | None = None
    queued: int | None = None

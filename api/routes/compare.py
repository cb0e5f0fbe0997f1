"""POST /v1/compare: several coalitions (and scenarios) side by side, run as a job."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from api import runner
from api.bodies import JSONBodyRoute
from api.deps import IdempotencyKey, SessionsDep, SettingsDep, SubmitCaller
from api.jobs import job_headers, job_public, request_hash, submit
from api.routes.jobs import build_submission
from api.schemas import JobPublic, error_responses

EXAMPLES = {
    "presets": {
        "summary": "Two presets on the default scenario",
        "value": {"coalitions": ["five_eyes_japan", "quad"]},
    },
    "countries": {
        "summary": "A preset against a hand-picked coalition, on two scenarios",
        "value": {
            "coalitions": ["five_eyes_japan", ["USA", "AUS", "JPN"]],
            "scenarios": [{"name": "no controls"}, {"name": "ban", "export_controls": [{"from_year": 2027}]}],
        },
    },
}


def build_router() -> APIRouter:
    """The compare router, its body typed by optimizer.analysis's request model when present."""
    router = APIRouter(prefix="/v1", tags=["analysis"], route_class=JSONBodyRoute)
    model: Any = runner.request_model("compare") or dict[str, Any]

    @router.post(
        "/compare",
        status_code=202,
        response_model=JobPublic,
        responses=error_responses(400, 401, 403, 409, 413, 415, 422, 429, 503),
    )
    def compare(
        body: Annotated[model, Body(openapi_examples=EXAMPLES)],  # type: ignore[valid-type]
        response: Response,
        caller: SubmitCaller,
        key: IdempotencyKey,
        settings: SettingsDep,
        sessions: SessionsDep,
    ) -> JobPublic:
        """Queue a comparison of coalitions (x scenarios) as a `compare` job; returns the job."""
        payload = body if isinstance(body, dict) else body.model_dump(mode="json", exclude_unset=True)
        submission = build_submission("compare", payload, settings, prefix="")
        job, created = submit(
            sessions, settings, caller, submission, request_hash("compare", payload), key
        )
        response.headers.update(job_headers(job))
        if not created:
            response.headers["Idempotent-Replayed"] = "true"
        return job_public(job)

    return router

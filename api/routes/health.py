"""Liveness (no database) and readiness (database reachable, workers alive)."""

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from api.deps import ReadCaller
from api.schemas import Health, Readiness, error_responses
from api.storage import repository

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process answers (no database call: stays fast while solves run)."""
    return Health()


def _check(request: Request) -> Readiness:
    settings = request.app.state.settings
    pool = request.app.state.pool
    local = pool.alive() if pool is not None else None
    try:
        with request.app.state.sessions() as session:
            alive = repository.live_workers(session, within_s=max(settings.lease_s, 3 * settings.heartbeat_s))
            queued = repository.queue_depth(session)
        database = "ok"
    except SQLAlchemyError:
        alive, queued, database = 0, None, "unavailable"
    workers_ok = alive > 0 or bool(local)
    ready = database == "ok" and workers_ok
    return Readiness(
        status="ready" if ready else "not_ready",
        database=database,
        workers_alive=alive,
        local_workers=local,
        queued=queued,
    )


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Database unreachable or no live worker."}},
)
async def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers and at least one worker is alive."""
    state = await run_in_threadpool(_check, request)
    status = 200 if state.status == "ready" else 503
    headers = {"Retry-After": "5"} if status == 503 else None
    return JSONResponse(state.model_dump(mode="json"), status_code=status, headers=headers)


def keyed_openapi_router(app: FastAPI) -> APIRouter:
    """GET /openapi.json behind the `read` scope (used when API keys are required)."""
    router = APIRouter(tags=["health"])

    @router.get("/openapi.json", include_in_schema=False, responses=error_responses(401, 403))
    def openapi(caller: ReadCaller) -> JSONResponse:
        """The OpenAPI description of this service."""
        return JSONResponse(app.openapi())

    return router

"""The comparison page (issue #8): pick coalitions and a scenario, run a comparison, see charts and table.

* ``GET /`` serves the page (``api/static/index.html``); it carries no data, so it is open
  even where API keys are required: the page asks for a key and sends it as ``X-API-Key``.
* ``GET /static/plotly.min.js`` is plotly.js from the installed plotly package and
  ``GET /static/{name}`` the page's own script and style sheet: the page needs no network.
* ``GET /ui/config`` tells the page whether it needs a key (no key needed to ask).
* ``GET /ui/scenarios?dataset=`` lists a dataset's shipped scenarios in full, ready to be
  sent as the base scenario of ``POST /v1/compare``.
* ``GET /ui/jobs/{id}/figures`` turns a finished ``compare`` job into plotly figures (JSON),
  each with the CSV of the numbers it draws: `optimizer.viz.compare.compare_figures`, the
  function behind ``coalition chart compare`` too.
"""

from __future__ import annotations

import gzip
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse, Response

from api.deps import ReadCaller, SessionsDep, SettingsDep
from api.errors import ApiError, coalition_error, invalid
from api.jobs import not_found, visible_job
from api.schemas import error_responses
from api.storage import repository
from api.storage.models import finite_json
from optimizer.data.registry import NAME_PATTERN, datasets_root, list_datasets
from optimizer.errors import CoalitionError

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
STATIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
STATIC_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
# The page loads only what this app serves; plotly.js needs inline styles (it writes them itself).
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:;"
    " connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
    " frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
PLOTLY_CACHE_S = 86_400
COMPARE = "compare"

router = APIRouter(tags=["ui"])


# --- the page and its assets ---------------------------------------------------------------


def plotly_js_path() -> Path:
    """plotly.min.js inside the installed plotly package (the version the charts were made for)."""
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


@lru_cache(maxsize=1)
def _plotly_gzipped(path: str, mtime: float) -> bytes:
    """plotly.min.js gzipped once per file version (4.8 MB -> about 1.4 MB on the wire)."""
    return gzip.compress(Path(path).read_bytes(), compresslevel=6, mtime=0)


def _accepts_gzip(request: Request) -> bool:
    offered = request.headers.get("accept-encoding", "")
    return any(part.split(";")[0].strip() == "gzip" for part in offered.split(","))


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
def page() -> FileResponse:
    """The comparison page."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


@router.api_route("/static/plotly.min.js", methods=["GET", "HEAD"], include_in_schema=False)
def plotly_js(request: Request) -> Response:
    """plotly.js, served from the installed plotly package (gzipped when the browser accepts it)."""
    path = plotly_js_path()
    if not path.is_file():
        raise ApiError(404, "not_found", "plotly.min.js is missing from the installed plotly package")
    stat = path.stat()
    etag = f'"plotly-{stat.st_size:x}-{int(stat.st_mtime):x}"'
    headers = {
        "Cache-Control": f"public, max-age={PLOTLY_CACHE_S}",
        "ETag": etag,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if _accepts_gzip(request):
        body = _plotly_gzipped(str(path), stat.st_mtime)
        return Response(body, media_type="text/javascript", headers={**headers, "Content-Encoding": "gzip"})
    return FileResponse(path, media_type="text/javascript", headers=headers)


@router.api_route("/static/{name}", methods=["GET", "HEAD"], include_in_schema=False)
def static_file(name: str) -> FileResponse:
    """The page's own assets (api/static): its script and style sheet."""
    path = STATIC_DIR / name
    if not STATIC_NAME.fullmatch(name) or ".." in name or not path.is_file():
        raise ApiError(404, "not_found", f"no static file '{name}'")
    media = STATIC_TYPES.get(path.suffix, "application/octet-stream")
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    return FileResponse(path, media_type=f"{media}; charset=utf-8" if media.startswith("text") else media,
                        headers=headers)


@router.get("/ui/config")
def ui_config(settings: SettingsDep) -> dict[str, Any]:
    """What the page needs to know before it calls the API: whether a key is required."""
    return {"api_key_required": settings.api_key_required}


# --- scenarios -----------------------------------------------------------------------------


def _dataset_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise invalid([("dataset", "must be a dataset name (letters, digits, '_' or '-'), not a path")])
    if name not in list_datasets():
        known = ", ".join(list_datasets()) or "none"
        raise ApiError(404, "dataset_not_found", f"no dataset '{name}'; datasets: {known}", field="dataset")
    return name


def shipped_scenarios(dataset: str) -> list[dict[str, Any]]:
    """A dataset's shipped scenarios: name, description and the full scenario as JSON ('default' first)."""
    from optimizer.schemas import Scenario

    found = []
    for path in sorted((datasets_root() / dataset / "scenarios").glob("*.yaml")):
        try:
            scenario = Scenario.from_file(path)
        except CoalitionError as exc:
            raise coalition_error(exc, prefix=f"scenarios.{path.stem}") from None
        found.append(
            {"name": path.stem, "description": scenario.description, "scenario": scenario.model_dump(mode="json")}
        )
    found.sort(key=lambda s: (s["name"] != "default", s["name"]))
    return found


@router.get("/ui/scenarios", responses=error_responses(401, 403, 404, 422))
def scenarios(
    caller: ReadCaller,
    dataset: Annotated[str, Query(description="Shipped dataset name.", examples=["rare_earths"])] = "rare_earths",
) -> list[dict[str, Any]]:
    """The dataset's shipped scenarios in full ('default' first), to send as a comparison's base scenario."""
    return shipped_scenarios(_dataset_name(dataset))


# --- figures ---------------------------------------------------------------------------


@router.get(
    "/ui/jobs/{job_id}/figures",
    responses=error_responses(401, 403, 404, 503) | {409: {"description": "Not a finished compare job."}},
)
def figures(
    job_id: Annotated[str, PathParam(description="Id of a compare job.")],
    caller: ReadCaller,
    sessions: SessionsDep,
) -> JSONResponse:
    """A finished comparison's charts as plotly figure JSON, each with the CSV of its numbers (own jobs only)."""
    with sessions() as session:
        job = visible_job(session, job_id, caller)
        if job is None:
            raise not_found(job_id)
        stored = repository.get_result(session, job_id) if job.state == repository.SUCCEEDED else None
    if job.kind != COMPARE:
        raise ApiError(
            409,
            "not_a_comparison",
            f"job {job_id} is a '{job.kind}' job, not a comparison",
            field="job_id",
            extra={"job_id": job_id, "kind": job.kind},
        )
    if stored is None:
        waiting = job.state in (repository.QUEUED, repository.RUNNING)
        codes = {repository.FAILED: "job_failed", repository.CANCELLED: "job_cancelled"}
        raise ApiError(
            409,
            "result_not_ready" if waiting else codes.get(job.state, "no_result"),
            f"job {job_id} is {job.state}: it has no result to draw",
            field="job_id",
            headers={"Retry-After": "1"} if waiting else None,
            extra={"state": job.state, "job_id": job_id},
        )
    # imported here: plotly loads only when a chart is asked for
    from optimizer.viz.charts import chart_config
    from optimizer.viz.compare import compare_figures

    charts = compare_figures(finite_json(stored.body))
    return JSONResponse({"job_id": job_id, "config": chart_config(), "charts": charts})

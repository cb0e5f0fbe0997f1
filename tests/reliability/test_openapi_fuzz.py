"""Schemathesis over every operation of the OpenAPI document, against the ASGI app.

Promise: whatever a client sends that the OpenAPI document allows (and much it does not),
the service answers without a 5xx, with a status code the document lists for the
operation, a documented content type, and a body and headers matching the documented
schema. Keys are required (as beyond loopback): the run sends a key with both scopes.

The schema is loaded at import from the app object (no server, no lifespan yet);
the app's lifespan (migrations, one worker thread) starts with the first request and is
stopped when the module's tests end.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from api_helpers import make_settings
from hypothesis import HealthCheck, settings
from schemathesis.python import asgi

from api.main import create_app
from api.security import create_api_key
from api.storage.db import make_engine, make_sessionmaker, transaction, upgrade_schema

from factory import row, write_dataset

MAX_EXAMPLES = 20  # per operation and phase: bounded so that the whole run stays near a minute
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]

WORK = Path(tempfile.mkdtemp(prefix="coalition-fuzz-"))
atexit.register(shutil.rmtree, WORK, True)
DATASETS = WORK / "datasets"
# The tiny world under the default dataset's name, with its default preset, so that the
# schema's defaults and examples are valid and the fuzzer reaches the solver and the 2xx paths.
write_dataset(
    DATASETS / "rare_earths",
    coalitions=[
        row("coalitions", name="five_eyes_japan", members="USA;AUS", description="tiny stand-in"),
        row("coalitions", name="usa_only", members="USA", description="just the US"),
    ],
)
DATABASE_URL = f"sqlite:///{WORK / 'coalition.db'}"
_engine = make_engine(DATABASE_URL)
upgrade_schema(_engine)
with transaction(make_sessionmaker(_engine)) as _session:
    _, _key = create_api_key(_session, "fuzzer", ["read", "submit"])
_engine.dispose()
KEY = {"X-API-Key": _key}
STATS: dict[str, list[int]] = {}  # operation -> status codes seen
FUZZED: set[str] = set()
APP = create_app(
    make_settings(
        DATABASE_URL,
        DATASETS,
        datasets_dir=None,  # set for the tests only (below), not for the whole session
        require_api_key="true",
        queue_max=20,
        max_time_limit_s=5,
        sync_max_time_limit_s=5,
        sync_wait_grace_s=5,
    )
)
schema = schemathesis.openapi.from_dict(APP.openapi())
schema.app = APP


@pytest.fixture(scope="module", autouse=True)
def _tiny_datasets() -> Iterator[None]:
    saved = os.environ.get("COALITION_DATASETS_DIR")
    os.environ["COALITION_DATASETS_DIR"] = str(DATASETS)
    yield
    asgi.shutdown_lifespans()  # stops the app's worker thread
    if saved is None:
        os.environ.pop("COALITION_DATASETS_DIR", None)
    else:
        os.environ["COALITION_DATASETS_DIR"] = saved


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_conforms(case: schemathesis.Case) -> None:
    response = case.call(headers=KEY)
    FUZZED.add(f"{case.method} {case.path}")
    STATS.setdefault(f"{case.method} {case.path}", []).append(response.status_code)
    case.validate_response(response, checks=CHECKS, headers=KEY)



def _call(method: str, path: str, **parts: object) -> schemathesis.Response:
    """Call one documented operation with fixed data and run the same checks on the answer."""
    case = schema[path][method].Case(**parts)
    response = case.call(headers=KEY)
    STATS.setdefault(f"{method} {path}", []).append(response.status_code)
    case.validate_response(response, checks=CHECKS, headers=KEY)
    return response


def _wait(job_id: str) -> dict:
    deadline = time.monotonic() + 60
    while True:
        job = _call("GET", "/v1/jobs/{job_id}", path_parameters={"job_id": job_id}).json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def test_real_jobs_conform() -> None:
    """The 2xx/409 bodies of real jobs (which random ids never reach) match the document too."""
    solve = _call(
        "POST", "/v1/jobs", body={"kind": "solve", "payload": {"end_year": 2030}}, media_type="application/json"
    )
    compare = _call(
        "POST",
        "/v1/compare",
        body={"coalitions": ["five_eyes_japan", ["USA"]], "scenario": {"end_year": 2030}},
        media_type="application/json",
    )
    infeasible = _call(
        "POST",
        "/v1/solve",
        body={"end_year": 2030, "targets": [{"from_year": 2026, "max_exposed_share": 0}]},
        media_type="application/json",
    )
    assert (solve.status_code, compare.status_code, infeasible.status_code) == (202, 202, 200)
    assert infeasible.json()["status"] == "infeasible"
    for response in (solve, compare):
        job_id = response.json()["id"]
        assert _wait(job_id)["state"] == "succeeded"
        ids = {"job_id": job_id}
        assert _call("GET", "/v1/jobs/{job_id}/result", path_parameters=ids).status_code == 200
        assert _call("GET", "/v1/jobs/{job_id}/log", path_parameters=ids, query={"limit": 50}).status_code == 200
        assert _call("POST", "/v1/jobs/{job_id}/cancel", path_parameters=ids).status_code == 200
    assert _call("GET", "/v1/jobs", query={"state": "succeeded", "limit": 5}).json()["total"] >= 3
    queued = [
        _call("POST", "/v1/jobs", body={"kind": "solve", "payload": {"name": f"c{i}"}}, media_type="application/json")
        for i in range(3)
    ]
    for response in queued:
        ids = {"job_id": response.json()["id"]}
        assert _call("POST", "/v1/jobs/{job_id}/cancel", path_parameters=ids).status_code in (200, 202)
        final = _wait(ids["job_id"])
        result = _call("GET", "/v1/jobs/{job_id}/result", path_parameters=ids)
        assert result.status_code == (200 if final["state"] == "succeeded" else 409)
        assert _call("DELETE", "/v1/jobs/{job_id}", path_parameters=ids).status_code == 204
        assert _call("GET", "/v1/jobs/{job_id}", path_parameters=ids).status_code == 404


def test_every_operation_was_exercised() -> None:
    """Every operation of the document was called; the figures are printed (pytest -s)."""
    if not FUZZED:
        pytest.skip("run with the fuzz tests above")
    operations = {
        f"{method.upper()} {path}"
        for path, methods in APP.openapi()["paths"].items()
        for method in methods
    }
    assert operations <= set(STATS), operations - set(STATS)
    total = sum(len(codes) for codes in STATS.values())
    print(f"\nschemathesis: {total} requests over {len(operations)} operations")
    for operation in sorted(operations):
        print(" ", operation, dict(sorted(Counter(STATS[operation]).items())))


def test_document_describes_the_real_error_shape_and_headers() -> None:
    """Every error response is documented with the one error shape; 5xx carry Retry-After."""
    document = APP.openapi()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "500" in responses, (method, path)
            if path.startswith("/v1/"):
                assert "503" in responses and "Retry-After" in responses["503"]["headers"], (method, path)
            for status, response in responses.items():
                assert "X-Request-ID" in response["headers"], (method, path, status)
                if status.startswith(("4", "5")) and "content" in response and path.startswith("/v1/"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)

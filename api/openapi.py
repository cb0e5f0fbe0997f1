"""The OpenAPI document, corrected to say what the service really answers.

FastAPI documents a 422 with its own `HTTPValidationError` body on routes with
parameters; this service answers every error with `ErrorResponse` (api/errors.py), so
those entries are rewritten. Every operation may also answer 500 (a fault, logged with
the request id), and every `/v1` operation 503 when the database is unreachable (keys are
checked against it). Headers the service always sends are documented so that clients
(and the schemathesis run in tests/reliability) can rely on them.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
ERROR_CONTENT = {"application/json": {"schema": ERROR_REF}}


def _header(description: str, required: bool = True, kind: str = "string") -> dict[str, Any]:
    return {"description": description, "required": required, "schema": {"type": kind}}


REQUEST_ID = _header("The request id (yours from X-Request-ID if well-formed, else a new one).")
RETRY_AFTER = _header("Seconds to wait before retrying.", kind="integer")
ALWAYS_500 = {"description": "Unexpected fault: logged on the server with the request id; no traceback here."}
DATABASE_503 = {"description": "Database unreachable; retry after `Retry-After` seconds."}
# (method, path, status) -> headers that response always carries
RESPONSE_HEADERS: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {
    ("post", "/v1/jobs", "202"): {"Location": _header("The job's URL."), "X-Job-ID": _header("The job id.")},
    ("post", "/v1/compare", "202"): {"Location": _header("The job's URL."), "X-Job-ID": _header("The job id.")},
    ("post", "/v1/solve", "202"): {"Location": _header("The job's URL."), "X-Job-ID": _header("The job id.")},
    ("post", "/v1/solve", "200"): {
        "X-Job-ID": _header("The job that ran the solve."),
        "X-Effective-Time-Limit": _header("The solver time limit after the server's clamp (seconds).", kind="number"),
    },
}


def _fix_operation(method: str, path: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status, response in responses.items():
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        if status == "422" and schema.get("$ref", "").endswith("/HTTPValidationError"):
            response["description"] = "Invalid input; `fields` names each bad field."
            response["content"] = ERROR_CONTENT
    if (path.startswith("/v1/") or "401" in responses) and "503" not in responses:  # keys live in the database
        responses["503"] = {**DATABASE_503, "content": ERROR_CONTENT}
    responses.setdefault("500", {**ALWAYS_500, "content": ERROR_CONTENT})
    for status, response in responses.items():
        headers = response.setdefault("headers", {})
        headers["X-Request-ID"] = REQUEST_ID
        if status in ("429", "503"):
            headers["Retry-After"] = RETRY_AFTER
        if status == "401":
            headers["WWW-Authenticate"] = _header("`ApiKey`: send the key in X-API-Key.")
        headers.update(RESPONSE_HEADERS.get((method, path, status), {}))


def _drop_unused(document: dict[str, Any]) -> None:
    """Remove FastAPI's validation error schemas once nothing refers to them."""
    schemas = document.get("components", {}).get("schemas", {})
    text = str(document["paths"])
    for name in ("HTTPValidationError", "ValidationError"):
        if name in schemas and f"/{name}'" not in text:
            schemas.pop(name)
    if "HTTPValidationError" not in schemas:
        schemas.pop("ValidationError", None)


def corrected(document: dict[str, Any]) -> dict[str, Any]:
    """A corrected copy of FastAPI's document."""
    document = copy.deepcopy(document)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if isinstance(operation, dict) and "responses" in operation:
                _fix_operation(method, path, operation)
    _drop_unused(document)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the corrected document from /openapi.json (and the keyed route).

    FastAPI builds (and rebuilds, when routes are added) its document; the correction is
    applied to each new build and cached.
    """
    generate = app.openapi
    cache: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        source = generate()
        if cache.get("source") is not source:
            cache["source"], cache["document"] = source, corrected(source)
        return cache["document"]

    app.openapi = openapi  # type: ignore[method-assign]

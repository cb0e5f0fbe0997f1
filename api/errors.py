"""One JSON error shape for every failure, and the handlers that produce it.

    {"error": {"code": "invalid_input", "message": "...", "field": "coalition",
               "fields": [{"field": "coalition", "message": "..."}], "request_id": "..."}}

`field` names the first offending field (None when the request as a whole is at fault);
`fields` lists every one (422). No response ever carries a traceback: unexpected errors
become a 500 with the request id, and the traceback goes to the server log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from optimizer.errors import CoalitionError, DatasetError, ScenarioError
from optimizer.schemas import solver_option_refusal

logger = logging.getLogger(__name__)

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
DB_RETRY_AFTER_S = 5

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """An error the service reports on purpose, with its HTTP status and error code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        fields: Sequence[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = list(fields) if fields else None
        self.field = field if field is not None else (self.fields[0]["field"] if self.fields else None)
        self.headers = headers or {}
        self.extra = extra or {}


def invalid(fields: Iterable[tuple[str, str]], message: str | None = None) -> ApiError:
    """A 422 naming each bad field."""
    listed = [{"field": field, "message": text} for field, text in fields]
    summary = message or "; ".join(f"{item['field']}: {item['message']}" for item in listed[:5])
    return ApiError(422, "invalid_input", summary, fields=listed)


def error_body(
    code: str,
    message: str,
    field: str | None = None,
    fields: Sequence[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON error envelope, stamped with the current request id."""
    body: dict[str, Any] = {
        "code": code,
        "message": message,
        "field": field,
        "request_id": request_id_var.get(),
    }
    if fields is not None:
        body["fields"] = list(fields)
    if extra:
        body.update(extra)
    return {"error": body}


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    fields: Sequence[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """A JSONResponse carrying the error envelope."""
    return JSONResponse(
        error_body(code, message, field, fields, extra), status_code=status, headers=headers
    )


def issue_field(location: str, root: str = "scenario", prefix: str = "") -> str:
    """A library location (`scenario.options.time_limit_s`) as a body path (`options.time_limit_s`)."""
    if location == root:
        path = ""
    elif location.startswith(root + "."):
        path = location[len(root) + 1 :]
    else:
        path = location
    joined = ".".join(part for part in (prefix, path) if part)
    return joined or "body"


def coalition_error(exc: CoalitionError, prefix: str = "", root: str = "scenario") -> ApiError:
    """A library input error as a 422 naming each field (relative to the request body).

    Library locations start with `root` (`scenario.coalition`; analysis requests validated
    by the service use `payload.`); it is replaced by `prefix`.
    """
    if isinstance(exc, ScenarioError):
        pairs = [(_field(i.location, root, prefix), i.message) for i in exc.issues]
    elif isinstance(exc, DatasetError):
        field = issue_field("dataset", prefix=prefix)
        pairs = [(field, f"dataset refused: {issue}") for issue in exc.issues[:50]]
    else:
        pairs = [(prefix or "body", str(exc))]
    return invalid(pairs or [(prefix or "body", str(exc))])


def _field(location: str, root: str, prefix: str) -> str:
    """Map a location under `root` (or under `scenario`, as the library names it) to the body."""
    if location == root or location.startswith(root + "."):
        return issue_field(location, root=root, prefix=prefix)
    if root != "scenario" and (location == "scenario" or location.startswith("scenario.")):
        return issue_field(location, root="__none__", prefix=prefix)
    return issue_field(location, root=root, prefix=prefix)


def validation_fields(errors: Sequence[Any]) -> list[tuple[str, str]]:
    """FastAPI/pydantic validation errors as (body path, message) pairs."""
    pairs = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header"):
            source, loc = loc[0], loc[1:]
        else:
            source = "body"
        field = ".".join(loc) or source
        message = error.get("msg", "invalid value")
        if error.get("type") == "extra_forbidden" and len(loc) >= 2 and loc[-2] == "solver_options":
            message = solver_option_refusal(loc[-1])
        elif error.get("type") == "extra_forbidden":
            message = "unknown field; remove it or check its spelling"
        elif error.get("type") == "finite_number":
            message = "must be a finite number (NaN and infinity are not allowed)"
        pairs.append((field, message))
    return pairs


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(
        exc.status,
        exc.code,
        exc.message,
        field=exc.field,
        fields=exc.fields,
        headers=exc.headers,
        extra=exc.extra,
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    api = invalid(validation_fields(exc.errors()))
    return error_response(422, api.code, api.message, field=api.field, fields=api.fields)


async def _coalition_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CoalitionError)
    api = coalition_error(exc)
    return error_response(422, api.code, api.message, field=api.field, fields=api.fields)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, code, message, headers=headers)


async def _database_error(_request: Request, exc: Exception) -> JSONResponse:
    logger.error("database unavailable: %s", type(exc).__name__, exc_info=exc)
    return error_response(
        503,
        "database_unavailable",
        "the database is not reachable right now; retry shortly",
        headers={"Retry-After": str(DB_RETRY_AFTER_S)},
    )


def install_handlers(app: FastAPI) -> None:
    """Register a JSON handler for every kind of error (the rest: see RequestContextMiddleware)."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(CoalitionError, _coalition_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for db_error in (
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        sa_exc.TimeoutError,
        sa_exc.DisconnectionError,
    ):
        app.add_exception_handler(db_error, _database_error)

"""FastAPI dependencies as `Annotated` aliases: settings, database sessions, callers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings
from api.errors import ApiError, invalid
from api.security import ANONYMOUS, Principal, authenticate

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


def get_sessionmaker(request: Request) -> sessionmaker[Session]:
    """The app's session factory."""
    return request.app.state.sessions


def get_session(request: Request) -> Iterator[Session]:
    """A session for one request, committed when the route returns normally."""
    factory: sessionmaker[Session] = request.app.state.sessions
    with factory() as session, session.begin():
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionsDep = Annotated[sessionmaker, Depends(get_sessionmaker)]
SessionDep = Annotated[Session, Depends(get_session)]


def _caller(
    request: Request,
    api_key: Annotated[
        str | None,
        Header(
            alias="X-API-Key",
            description="API key (required when the server listens beyond loopback).",
        ),
    ] = None,
) -> Principal:
    settings: Settings = request.app.state.settings
    if api_key is None:
        if settings.api_key_required:
            raise ApiError(
                401,
                "unauthorized",
                "an API key is required: send it in the X-API-Key header",
                field="X-API-Key",
                headers={"WWW-Authenticate": "ApiKey"},
            )
        return ANONYMOUS
    factory: sessionmaker[Session] = request.app.state.sessions
    with factory() as session:
        principal = authenticate(session, api_key)
    if principal is None:
        raise ApiError(
            401,
            "unauthorized",
            "the API key is unknown or revoked",
            field="X-API-Key",
            headers={"WWW-Authenticate": "ApiKey"},
        )
    return principal


def require(scope: str) -> Callable[..., Principal]:
    """A dependency admitting callers whose key has `scope` (anyone, when keys are off)."""

    def check(principal: Annotated[Principal, Depends(_caller)]) -> Principal:
        if scope not in principal.scopes:
            raise ApiError(
                403,
                "forbidden",
                f"this API key lacks the '{scope}' scope",
                field="X-API-Key",
                extra={"required_scope": scope},
            )
        return principal

    return check


ReadCaller = Annotated[Principal, Depends(require("read"))]
SubmitCaller = Annotated[Principal, Depends(require("submit"))]


def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="1-128 characters of [A-Za-z0-9_-]; same key + same body -> same job.",
        ),
    ] = None,
) -> str | None:
    """The Idempotency-Key header, checked (422 when malformed)."""
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        raise invalid([("Idempotency-Key", "must be 1-128 characters of A-Z, a-z, 0-9, '_' or '-'")])
    return key


IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]

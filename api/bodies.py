"""Strict JSON request bodies: media type, UTF-8, syntax, finite numbers, nesting depth.

Python's json module (which Starlette uses) accepts `NaN`, `Infinity` and `1e999`; this
check runs before FastAPI parses a body and refuses them with a 422 naming the field.
Routes opt in by using `JSONBodyRoute` as their router's route class.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from api.errors import ApiError, invalid

JSON_MEDIA_TYPES = ("application/json",)


class _NonFinite:
    """Stands in for a NaN or infinite number found while parsing."""

    def __init__(self, token: str) -> None:
        self.token = token


def _parse_float(text: str) -> float | _NonFinite:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


def _path(parts: list[str]) -> str:
    return ".".join(parts) or "body"


def _scan(document: Any, max_depth: int) -> None:
    """Find the first non-finite number or too-deep nesting (iteratively: no recursion)."""
    stack: list[tuple[Any, list[str], int]] = [(document, [], 0)]
    while stack:
        node, parts, depth = stack.pop()
        if isinstance(node, _NonFinite):
            raise invalid(
                [(_path(parts), f"must be a finite number ({node.token} is not allowed)")]
            )
        if isinstance(node, dict | list):
            if depth >= max_depth:
                raise invalid([(_path(parts), f"nesting deeper than {max_depth} levels")])
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, value in items:
                stack.append((value, [*parts, str(key)], depth + 1))


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_json_body(content_type: str | None, body: bytes, max_depth: int) -> None:
    """Raise ApiError (415, 400 or 422) unless `body` is strict JSON within the depth limit."""
    if not body:
        return
    media = _media_type(content_type)
    if not (media in JSON_MEDIA_TYPES or (media.startswith("application/") and media.endswith("+json"))):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send the body as application/json (got {media or 'no content type'})",
            field="Content-Type",
        )
    charset = (content_type or "").lower().partition("charset=")[2].split(";")[0].strip(' "')
    if charset and charset not in ("utf-8", "utf8"):
        raise ApiError(415, "unsupported_media_type", "JSON bodies must be UTF-8", field="Content-Type")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(
            400, "invalid_encoding", f"body is not valid UTF-8 (byte {exc.start})", field="body"
        ) from None
    try:
        document = json.loads(text, parse_constant=_NonFinite, parse_float=_parse_float)
    except RecursionError:
        raise invalid([("body", f"nesting deeper than {max_depth} levels")]) from None
    except ValueError as exc:
        raise ApiError(400, "malformed_json", f"body is not valid JSON: {exc}", field="body") from None
    _scan(document, max_depth)


class JSONBodyRoute(APIRoute):
    """An APIRoute whose JSON body is checked strictly before FastAPI parses it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler with `check_json_body` (routes without a body are untouched)."""
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def checked(request: Request) -> Response:
            settings = request.app.state.settings
            body = await request.body()
            check_json_body(request.headers.get("content-type"), body, settings.max_json_depth)
            return await handler(request)

        return checked

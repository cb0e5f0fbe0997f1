"""Which test covers which constraint family (checked by test_registry)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

COVERED: dict[str, list[str]] = {}


def covers(*families: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a test as exercising constraint families, so none goes untested."""

    def mark(test: Callable[..., Any]) -> Callable[..., Any]:
        for family in families:
            COVERED.setdefault(family, []).append(test.__name__)
        return test

    return mark

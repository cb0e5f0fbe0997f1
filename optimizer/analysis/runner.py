"""`run_analysis`: the one entry point the REST service and `--json` share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from optimizer.analysis.compare import compare
from optimizer.analysis.frontier import frontier
from optimizer.analysis.schemas import (
    CompareRequest,
    FrontierRequest,
    StressRequest,
    UncertaintyRequest,
    ValueRequest,
)
from optimizer.analysis.stress import stress
from optimizer.analysis.uncertainty import uncertainty
from optimizer.analysis.value import member_value
from optimizer.errors import ScenarioError
from optimizer.schemas import validation_issues

REQUEST_MODELS: dict[str, type[BaseModel]] = {
    "compare": CompareRequest,
    "frontier": FrontierRequest,
    "value": ValueRequest,
    "uncertainty": UncertaintyRequest,
    "stress": StressRequest,
}

_RUNNERS: dict[str, Callable[..., BaseModel]] = {
    "compare": compare,
    "frontier": frontier,
    "value": member_value,
    "uncertainty": uncertainty,
    "stress": stress,
}


def validate_request(kind: str, payload: Any) -> BaseModel:
    """Validate a payload into the kind's request model; ScenarioError names each bad field."""
    model = REQUEST_MODELS.get(kind)
    if model is None:
        raise ScenarioError(f"unknown analysis '{kind}'; kinds: {', '.join(REQUEST_MODELS)}", location="kind")
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise ScenarioError(
            f"the request must be a mapping of fields, got {type(payload).__name__}", location="request"
        )
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ScenarioError(validation_issues(exc)) from exc


def run_analysis(
    kind: str,
    payload: dict[str, Any],
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    *,
    allow_paths: bool = True,
) -> dict[str, Any]:
    """Validate, run and return the JSON-ready result of one analysis.

    kind: compare | frontier | value | uncertainty | stress. Bad input raises ScenarioError
    (or DatasetError) before any solve; `progress(done, total)` is called as solves finish;
    when `should_cancel()` turns true the sweep stops and AnalysisCancelled is raised. The
    REST service passes ``allow_paths=False`` so that a request cannot name a directory.
    """
    request = validate_request(kind, payload)
    result = _RUNNERS[kind](request, progress=progress, should_cancel=should_cancel, allow_paths=allow_paths)
    return result.model_dump(mode="json")

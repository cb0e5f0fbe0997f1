"""What a job is: checking a submission (in the API) and running it (in a worker).

`kind == "solve"` goes to `optimizer.prepare` / `optimizer.solve_prepared`; every other
kind to `optimizer.analysis.run_analysis`. Submissions are normalised before they are
stored: solver time limits are clamped to the server's maximum, HiGHS runs with one
thread, and solver options that touch files or logging are refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from optimizer.errors import InputIssue, ScenarioError
from optimizer.schemas import Scenario, validation_issues

logger = logging.getLogger(__name__)

SOLVE = "solve"
ANALYSIS_KINDS = ("compare", "frontier", "value", "uncertainty", "stress")
JOB_KINDS = (SOLVE, *ANALYSIS_KINDS)
OPTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
FORBIDDEN_OPTION_PARTS = ("file", "write", "read", "log")
FORBIDDEN_OPTIONS = frozenset({"threads", "time_limit", "output_flag"})
SOLVE_PHASES = 3  # prepare, solve, extract

Progress = Callable[[int, int], None]
ShouldCancel = Callable[[], bool]


class JobCancelled(Exception):  # noqa: N818 - a signal, not a fault
    """Raised at a checkpoint when the job's cancel flag (or a shutdown) is set."""


class AnalysisUnavailableError(RuntimeError):
    """`optimizer.analysis` is not installed in this deployment."""


@dataclass
class Submission:
    """A checked, normalised job ready to store."""

    kind: str
    payload: dict[str, Any]
    input_hash: str
    effective_time_limit_s: float | None


@dataclass
class Outcome:
    """A job's answer and the provenance stored with it."""

    body: dict[str, Any]
    input: dict[str, Any]
    input_hash: str
    result_status: str | None


def canonical_hash(value: Any) -> str:
    """SHA-256 of a JSON value in canonical form (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def analysis_module() -> Any:
    """`optimizer.analysis`, or AnalysisUnavailableError when it is not there."""
    try:
        import optimizer.analysis as analysis
    except ImportError as exc:
        raise AnalysisUnavailableError(f"optimizer.analysis cannot be imported: {exc}") from exc
    if not hasattr(analysis, "run_analysis"):
        raise AnalysisUnavailableError("optimizer.analysis has no run_analysis")
    return analysis


def request_model(kind: str) -> type[BaseModel] | None:
    """The pydantic request model of an analysis kind, if the analysis module declares one."""
    try:
        models = getattr(analysis_module(), "REQUEST_MODELS", {})
    except AnalysisUnavailableError:
        return None
    model = models.get(kind)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _solver_option_issues(options: dict[str, Any], where: str) -> list[InputIssue]:
    issues = []
    for name in options:
        if not OPTION_NAME.fullmatch(name):
            issues.append(InputIssue(f"{where}.{name}", "not a HiGHS option name"))
        elif name in FORBIDDEN_OPTIONS or any(part in name for part in FORBIDDEN_OPTION_PARTS):
            issues.append(
                InputIssue(
                    f"{where}.{name}",
                    "not allowed through the service (files, logging, threads and time limits"
                    " are set by the server)",
                )
            )
    return issues


def clamp_options(options: dict[str, Any], max_time_limit_s: float, where: str) -> float:
    """Clamp one SolveOptions mapping in place; return its effective time limit."""
    issues = _solver_option_issues(dict(options.get("solver_options") or {}), f"{where}.solver_options")
    if issues:
        raise ScenarioError(issues)
    requested = options.get("time_limit_s")
    effective = max_time_limit_s if requested is None else min(float(requested), max_time_limit_s)
    options["time_limit_s"] = effective
    options["threads"] = 1
    return effective


def normalise_scenario(data: Any, max_time_limit_s: float, where: str = "scenario") -> Scenario:
    """Validate a scenario mapping and apply the server's solver policy to it."""
    scenario = Scenario.from_data(data, source=where)
    dumped = scenario.model_dump(mode="json")
    clamp_options(dumped["options"], max_time_limit_s, f"{where}.options")
    return Scenario.model_validate(dumped)


def check_against_dataset(scenario: Scenario) -> None:
    """Dataset-dependent checks (dataset name, presets, countries, overrides); no solve."""
    from optimizer.scenario import resolve_scenario

    resolve_scenario(scenario, allow_paths=False)


def prepare_solve(data: Any, max_time_limit_s: float) -> Submission:
    """Check a solve request completely (raises ScenarioError / DatasetError) and normalise it."""
    scenario = normalise_scenario(data, max_time_limit_s)
    check_against_dataset(scenario)
    return Submission(
        SOLVE, scenario.model_dump(mode="json"), scenario.content_hash(), scenario.options.time_limit_s
    )


def _clamp_nested(value: Any, max_time_limit_s: float, path: str, limits: list[float]) -> None:
    """Clamp every SolveOptions-like mapping (one holding `time_limit_s`) inside `value`."""
    if isinstance(value, dict):
        if "time_limit_s" in value and isinstance(value.get("threads", 1), int):
            limits.append(clamp_options(value, max_time_limit_s, path))
        for key, item in value.items():
            if isinstance(item, dict | list):
                _clamp_nested(item, max_time_limit_s, f"{path}.{key}", limits)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _clamp_nested(item, max_time_limit_s, f"{path}.{index}", limits)


@dataclass(frozen=True)
class SweepPolicy:
    """Where the server runs analysis sweeps; clients cannot choose (no scheduler addresses)."""

    backend: str = "local"
    scheduler: str | None = None
    max_workers: int = 1


def _apply_policy(payload: dict[str, Any], policy: SweepPolicy) -> None:
    """Override backend/scheduler/workers in a validated analysis payload."""
    issues = []
    if payload.get("scheduler") not in (None, policy.scheduler):
        issues.append(InputIssue("payload.scheduler", "set by the server; leave it out"))
    if payload.get("backend", policy.backend) not in ("local", policy.backend):
        issues.append(
            InputIssue("payload.backend", f"this server runs sweeps on '{policy.backend}'; leave it out")
        )
    if issues:
        raise ScenarioError(issues)
    if "backend" in payload:
        payload["backend"] = policy.backend
    if "scheduler" in payload:
        payload["scheduler"] = policy.scheduler if policy.backend == "dask" else None
    if "workers" in payload:
        payload["workers"] = max(1, min(int(payload["workers"] or 1), policy.max_workers))


def prepare_analysis(
    kind: str, data: Any, max_time_limit_s: float, policy: SweepPolicy | None = None
) -> Submission:
    """Validate an analysis request, clamp its solver limits, apply the sweep policy."""
    model = request_model(kind)
    if model is None:
        analysis_module()  # raises AnalysisUnavailableError when the module is missing
        raise AnalysisUnavailableError(f"optimizer.analysis declares no request model for '{kind}'")
    if not isinstance(data, dict):
        raise ScenarioError("payload must be a JSON object", location="payload")
    try:
        validated = model.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(validation_issues(exc, prefix="payload")) from exc
    payload = validated.model_dump(mode="json")
    _apply_policy(payload, policy or SweepPolicy())
    limits: list[float] = []
    _clamp_nested(payload, max_time_limit_s, "payload", limits)
    _check_analysis_inputs(payload)
    effective = max(limits) if limits else None
    return Submission(kind, payload, canonical_hash(payload), effective)


def _scenarios_in(payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(path, scenario mapping) of the scenarios directly inside an analysis payload."""
    found: list[tuple[str, dict[str, Any]]] = []
    single = payload.get("scenario")
    if isinstance(single, dict) and "options" in single:
        found.append(("payload.scenario", single))
    several = payload.get("scenarios")
    if isinstance(several, list):
        found += [
            (f"payload.scenarios.{index}", item)
            for index, item in enumerate(several)
            if isinstance(item, dict) and "options" in item
        ]
    return found


def _relocated(exc: ScenarioError, path: str) -> ScenarioError:
    """The same issues with `scenario.` replaced by the scenario's path in the payload."""
    return ScenarioError(
        [
            InputIssue(path + issue.location.removeprefix("scenario"), issue.message)
            if issue.location.startswith("scenario")
            else issue
            for issue in exc.issues
        ]
    )


def _check_analysis_inputs(payload: dict[str, Any]) -> None:
    """Dataset checks of an analysis payload: every coalition named, and every scenario in it.

    When the payload names coalitions (compare's `coalitions`, the others' `coalition`),
    they replace the scenarios' own, which are then not checked.
    """
    from optimizer.data.registry import get_dataset
    from optimizer.scenario import resolve_coalition

    issues: list[InputIssue] = []
    base = payload.get("scenario")
    named: list[tuple[str, Any]] = []
    if payload.get("coalition") is not None:
        named.append(("payload.coalition", payload["coalition"]))
    for index, coalition in enumerate(payload.get("coalitions") or []):
        named.append((f"payload.coalitions.{index}", coalition))
    replacement: list[str] | None = None
    if named and isinstance(base, dict):
        try:
            dataset = get_dataset(str(base.get("dataset")), allow_paths=False)
        except ScenarioError as exc:
            raise _relocated(exc, "payload.scenario") from None
        for path, coalition in named:
            try:
                members = resolve_coalition(coalition, dataset)
                replacement = replacement or members
            except ScenarioError as exc:
                issues += [InputIssue(path, issue.message) for issue in exc.issues]
    for path, data in _scenarios_in(payload):
        if named and replacement is None:
            break  # no usable coalition to check the scenarios with; its issues are listed
        checked = {**data, "coalition": replacement} if replacement else data
        try:
            check_against_dataset(Scenario.model_validate(checked))
        except ScenarioError as exc:
            issues += _relocated(exc, path).issues
    if issues:
        raise ScenarioError(issues)


# --- execution (in a worker) ---------------------------------------------------------


def execute(kind: str, payload: dict[str, Any], progress: Progress, should_cancel: ShouldCancel) -> Outcome:
    """Run one job to its answer; raises JobCancelled, CoalitionError or a fault.

    A cancel (or a lost lease, or shutdown) stops HiGHS mid-run, not only between phases.
    """
    from optimizer.solve import SolveInterrupted, interrupt_when

    try:
        with interrupt_when(should_cancel):
            return _execute(kind, payload, progress, should_cancel)
    except SolveInterrupted as exc:
        logger.info("HiGHS stopped mid-run: %s", exc)
        raise JobCancelled from exc


def _execute(kind: str, payload: dict[str, Any], progress: Progress, should_cancel: ShouldCancel) -> Outcome:
    if kind == SOLVE:
        return _execute_solve(payload, progress, should_cancel)
    analysis = analysis_module()
    cancelled = getattr(analysis, "AnalysisCancelled", JobCancelled)
    try:
        body = analysis.run_analysis(
            kind, payload, progress=progress, should_cancel=should_cancel, allow_paths=False
        )
    except cancelled as exc:
        raise JobCancelled from exc
    if should_cancel():
        raise JobCancelled
    return Outcome(body=body, input=payload, input_hash=canonical_hash(payload), result_status=None)


def _checkpoint(should_cancel: ShouldCancel) -> None:
    if should_cancel():
        raise JobCancelled


def _execute_solve(payload: dict[str, Any], progress: Progress, should_cancel: ShouldCancel) -> Outcome:
    from optimizer.run import prepare, solve_prepared

    scenario = Scenario.from_data(payload)
    progress(0, SOLVE_PHASES)
    _checkpoint(should_cancel)
    logger.info("building the model of scenario %s (%s)", scenario.name, scenario.content_hash()[:12])
    prepared = prepare(scenario, allow_paths=False)
    prepared.solver.forward_log()  # HiGHS's own log into the job log
    progress(1, SOLVE_PHASES)
    _checkpoint(should_cancel)
    result = solve_prepared(prepared)
    progress(2, SOLVE_PHASES)
    _checkpoint(should_cancel)
    body = result.to_dict()
    progress(SOLVE_PHASES, SOLVE_PHASES)
    logger.info("solve finished: status %s", result.status)
    return Outcome(
        body=body,
        input=scenario.model_dump(mode="json"),
        input_hash=scenario.content_hash(),
        result_status=result.status,
    )

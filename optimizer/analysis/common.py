"""Helpers shared by the analyses: coalitions, scenario copies, summaries of digests."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from optimizer.analysis.schemas import AnalysisRequest, RunMeta
from optimizer.analysis.sweep import Digest, Progress, SweepEngine, SweepResult
from optimizer.data.loader import Dataset
from optimizer.errors import InputIssue, ScenarioError
from optimizer.scenario import resolve_scenario
from optimizer.schemas import Scenario

logger = logging.getLogger(__name__)


class AnalysisCancelled(Exception):  # noqa: N818 - a signal, not an error
    """The caller's should_cancel returned True: the analysis stopped without a result."""


def coalition_label(spec: str | list[str]) -> str:
    """A preset's name, or the member codes joined with '+'."""
    return spec if isinstance(spec, str) else "+".join(spec)


def resolve_members(spec: str | list[str] | None, scenario: Scenario, dataset: Dataset, location: str) -> list[str]:
    """Member codes of a coalition spec, refusing empty, unknown and adversary members."""
    from optimizer.scenario import resolve_coalition

    if spec is None:
        spec = scenario.coalition
        location = "scenario.coalition"
    if (isinstance(spec, str) and not spec.strip()) or (isinstance(spec, list) and not spec):
        raise ScenarioError("the coalition is empty: name a preset or list ISO3 codes", location=location)
    try:
        members = resolve_coalition(spec, dataset)
    except ScenarioError as exc:
        raise ScenarioError([InputIssue(location, issue.message) for issue in exc.issues]) from None
    if not members:
        raise ScenarioError(f"the coalition '{coalition_label(spec)}' has no members", location=location)
    hostile = [code for code in members if code in scenario.adversaries]
    if hostile:
        raise ScenarioError(
            f"the coalition '{coalition_label(spec)}' contains the adversary {', '.join(hostile)};"
            f" adversaries are {', '.join(scenario.adversaries)}",
            location=location,
        )
    return members


def with_changes(scenario: Scenario, **changes: Any) -> Scenario:
    """A validated copy of the scenario with some fields replaced."""
    data = {**scenario.model_dump(mode="json"), **changes}
    return Scenario.from_data(data, source="scenario")


def for_coalition(scenario: Scenario, members: list[str], spec: str | list[str] | None = None) -> Scenario:
    """The scenario for another coalition; member budgets of non-members are dropped."""
    budgets = {a: b for a, b in scenario.member_budgets_usd.items() if a in members}
    coalition: str | list[str] = spec if isinstance(spec, str) else list(members)
    return with_changes(scenario, coalition=coalition, member_budgets_usd=budgets)


def base_dataset(scenario: Scenario, allow_paths: bool) -> Dataset:
    """The scenario's dataset with the scenario's own overrides applied."""
    from optimizer.data.registry import get_dataset
    from optimizer.scenario import apply_overrides

    return apply_overrides(get_dataset(scenario.dataset, allow_paths=allow_paths), scenario.overrides)


def check_resolves(scenario: Scenario, allow_paths: bool, prefix: str = "scenario") -> Scenario:
    """Check a derived scenario against its dataset before any sweep (ScenarioError naming fields).

    `prefix` replaces the leading ``scenario`` of issue locations (e.g. ``scenarios.1``).
    """
    try:
        resolve_scenario(scenario, allow_paths=allow_paths)
    except ScenarioError as exc:
        if prefix == "scenario":
            raise
        raise ScenarioError(
            [
                InputIssue(prefix + i.location.removeprefix("scenario"), i.message)
                if i.location.startswith("scenario")
                else i
                for i in exc.issues
            ]
        ) from None
    return scenario


def scenario_payload(scenario: Scenario) -> dict[str, Any]:
    """A scenario as the JSON mapping sweep items carry."""
    return scenario.model_dump(mode="json")


def engine_for(request: AnalysisRequest) -> SweepEngine:
    """The sweep engine a request asks for."""
    return SweepEngine(request.backend, request.scheduler, request.workers)


def checked(result: SweepResult) -> SweepResult:
    """Raise AnalysisCancelled when the sweep was cancelled."""
    if result.cancelled:
        raise AnalysisCancelled("the analysis was cancelled")
    return result


def meta(request: AnalysisRequest, results: list[SweepResult]) -> RunMeta:
    """How the analysis ran: backend, workers, solves, failures, seconds."""
    solves = sum(max(len(item.points), 1) for r in results for item in r.items)
    failed = sum(r.failed for r in results)
    return RunMeta(
        backend=request.backend,
        workers=request.workers,
        solves=solves,
        failed=failed,
        seconds=round(sum(r.seconds for r in results), 3),
    )


CHUNK = 16  # solves per re-used model: enough to amortise a build, small enough for progress


def chunks(values: list[Any], workers: int, size: int = CHUNK) -> list[list[Any]]:
    """Contiguous chunks of at most `size` values, at least one per worker (deterministic)."""
    if not values:
        return []
    parts = min(len(values), max(workers, -(-len(values) // size)))
    base, extra = divmod(len(values), parts)
    out, start = [], 0
    for k in range(parts):
        end = start + base + (1 if k < extra else 0)
        out.append(values[start:end])
        start = end
    return out


def offset_progress(progress: Progress | None, offset: int, total: int) -> Progress | None:
    """Report one sweep's progress as part of several sweeps."""
    if progress is None:
        return None

    def report(done: int, _n: int) -> None:
        progress(offset + done, total)

    return report


def mean_share_by_year(d: Digest) -> dict[int, tuple[float, float]]:
    """Year -> (exposed share, unmet share), each the mean over materials (the LP's weighting)."""
    acc: dict[int, list[tuple[float, float]]] = {}
    for row in d.exposure_by_year:
        acc.setdefault(row.year, []).append((row.exposed_share, row.unmet_share))
    return {
        year: (sum(e for e, _ in rows) / len(rows), sum(u for _, u in rows) / len(rows))
        for year, rows in sorted(acc.items())
    }


def metric(d: Digest | None, name: str) -> float | None:
    """A headline metric of a digest, or None when the solve gave no allocation."""
    if d is None or not d.has_allocation:
        return None
    value = getattr(d, name)
    return None if value is None else float(value)


def check_cancel(should_cancel: Callable[[], bool] | None) -> None:
    """Raise AnalysisCancelled if the caller asks to stop."""
    if should_cancel is not None and should_cancel():
        raise AnalysisCancelled("the analysis was cancelled")

"""The sweep engine: many scenario solves behind one interface, on two backends.

An item is a scenario as a JSON-ready mapping (never a Pyomo model): the worker validates
it, builds the LP and solves it, and sends back a small `Digest` of the answer (headline
metrics, exposure by year, capacity built, who pays) rather than the whole result.

Backends:

* ``local`` (default): a `concurrent.futures.ProcessPoolExecutor` of ``workers`` processes
  started with ``spawn`` (HiGHS keeps threads, and forking a process that has them is
  unsafe). With ``workers=1`` items run in this process, one after the other.
* ``dask``: a Dask distributed ``Client`` on ``scheduler`` (``tcp://host:8786``) or, when no
  address is given, on a ``LocalCluster`` of ``workers`` single-threaded workers.

Every item is solved with HiGHS ``threads=1`` (and without duals) whatever the scenario
says, so that workers do not compete for cores and both backends compute exactly the same
numbers. Each item has
its own status: ``ok``, ``infeasible`` (with the model's explanation), ``error`` (with the
message) or ``cancelled``; one failed item never fails the sweep. Results come back in item
order whatever the completion order.

Where only the capital budget changes between solves (the frontier), an item carries a
list of ``budgets``: the worker builds the model once and re-solves it warm for each
budget through the mutable parameter ``model.budget_usd``. Where only whose assets count
changes (the value game), an item carries ``without``: lists of countries whose asset
variables are fixed at zero for one re-solve each. An item with ``exposure_cap`` minimises
cost with exposure at most the cap instead of following the scenario's objective (the value
analysis's cost game; `optimizer.analysis.capped`).
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from types import TracebackType
from typing import Any, Literal

from pydantic import BaseModel, Field

logger = logging.getLogger(__name__)

ItemStatus = Literal["ok", "infeasible", "error", "cancelled"]
Backend = Literal["local", "dask"]
Progress = Callable[[int, int], None]
ShouldCancel = Callable[[], bool]

POLL_SECONDS = 0.1  # how often a parallel sweep checks should_cancel while it waits


class YearExposure(BaseModel):
    """Exposure of one material in one year, summed over the coalition's members."""

    year: int
    material: str
    demand_t: float
    exposed_t: float
    unmet_t: float
    exposed_share: float
    unmet_share: float


class BuildTotal(BaseModel):
    """New capacity of one stage and material in one host over the horizon."""

    country: str
    stage: str
    material: str
    capacity_t_per_yr: float
    capex_usd: float


class Digest(BaseModel):
    """The part of one solve's result a sweep keeps (small enough for thousands of items)."""

    solver_status: str
    message: str = ""
    budget_usd: float | None = None
    coalition: list[str] = Field(default_factory=list)
    exposure_share_years: float | None = None
    exposed_t: float | None = None
    unmet_t: float | None = None
    cost_usd: float | None = None
    capex_usd: float | None = None
    cost_breakdown_usd: dict[str, float] = Field(default_factory=dict)
    exposure_by_year: list[YearExposure] = Field(default_factory=list)
    builds: list[BuildTotal] = Field(default_factory=list)
    payers: dict[str, float] = Field(default_factory=dict)
    violations: list[str] = Field(default_factory=list)

    @property
    def has_allocation(self) -> bool:
        """True when the solve produced numbers (optimal, or a target missed but solved)."""
        return self.exposure_share_years is not None


class SweepItem(BaseModel):
    """One unit of work: a scenario, optionally re-solved warm at several budgets."""

    key: str
    scenario: dict[str, Any]
    budgets: list[float] | None = Field(
        None, description="Re-solve the one built model at each capital budget (USD), in order."
    )
    without: list[list[str]] | None = Field(
        None,
        description=(
            "Re-solve the one built model once per entry with the assets of the listed countries"
            " switched off (their production, builds, stock movements and financing fixed at 0)."
        ),
    )
    exposure_cap: float | None = Field(
        None,
        ge=0.0,
        description=(
            "Instead of the scenario's objective, minimise cost with exposure at most this many"
            " share-years, one solve each (the member-value cost game)."
        ),
    )
    allow_paths: bool = Field(True, description="Whether the scenario may name a dataset directory.")


class ItemResult(BaseModel):
    """What came of one item."""

    key: str
    status: ItemStatus
    message: str = ""
    digest: Digest | None = None
    points: list[Digest] = Field(default_factory=list)


class SweepResult(BaseModel):
    """All items' results in item order."""

    items: list[ItemResult]
    cancelled: bool = False
    seconds: float = 0.0

    def by_key(self) -> dict[str, ItemResult]:
        """Results indexed by item key."""
        return {item.key: item for item in self.items}

    @property
    def failed(self) -> int:
        """Items whose status is not ok."""
        return sum(1 for item in self.items if item.status != "ok")


# --- the worker side --------------------------------------------------------------------


def digest(result: Any, budget_usd: float | None = None) -> Digest:
    """Reduce an `optimizer.Result` to its `Digest`."""
    summary = result.summary
    obj = summary.objective
    exposure = result.tables.get("exposure_by_year")
    rows: list[YearExposure] = []
    if exposure is not None and not exposure.empty:
        rows = [
            YearExposure(
                year=int(r.year),
                material=str(r.material),
                demand_t=float(r.demand_t),
                exposed_t=float(r.exposed_t),
                unmet_t=float(r.unmet_t),
                exposed_share=float(r.exposed_share),
                unmet_share=float(r.unmet_share),
            )
            for r in exposure.itertuples()
        ]
    builds: list[BuildTotal] = []
    frame = result.tables.get("builds")
    if frame is not None and not frame.empty:
        grouped = frame.groupby(["country", "stage", "material"], as_index=False)[
            ["capacity_t_per_yr", "capex_usd"]
        ].sum()
        builds = [
            BuildTotal(
                country=str(r.country),
                stage=str(r.stage),
                material=str(r.material),
                capacity_t_per_yr=float(r.capacity_t_per_yr),
                capex_usd=float(r.capex_usd),
            )
            for r in grouped.itertuples()
        ]
    return Digest(
        solver_status=summary.status,
        message=summary.message,
        budget_usd=budget_usd,
        coalition=list(summary.coalition),
        exposure_share_years=obj.get("exposure_share_years"),
        exposed_t=obj.get("exposed_t"),
        unmet_t=obj.get("unmet_t"),
        cost_usd=obj.get("cost_usd"),
        capex_usd=summary.cost_breakdown_usd.get("capex"),
        cost_breakdown_usd=dict(summary.cost_breakdown_usd),
        exposure_by_year=rows,
        builds=builds,
        payers={str(r["payer"]): float(r["amount_usd"]) for r in summary.cost_by_payer},
        violations=[v.explanation for v in summary.violations],
    )


def status_of(d: Digest) -> tuple[ItemStatus, str]:
    """Item status and message of one solve: ok, infeasible (explained) or error."""
    if d.solver_status == "optimal":
        return "ok", d.message
    if d.solver_status in ("infeasible", "unbounded"):
        return "infeasible", d.message or "; ".join(d.violations) or f"solver status {d.solver_status}"
    if d.solver_status == "time_limit" and d.has_allocation:
        return "ok", d.message or "time limit reached; the allocation is feasible but may not be optimal"
    return "error", d.message or f"solver status {d.solver_status}"


def _multi(key: str, points: list[Digest]) -> dict[str, Any]:
    """An item of several solves: ok when all are, else the first problem."""
    statuses = [status_of(p) for p in points]
    worst = next((st for st in statuses if st[0] != "ok"), ("ok", ""))
    return ItemResult(key=key, status=worst[0], message=worst[1], points=points).model_dump(mode="json")


def asset_variables(model: Any, countries: set[str]) -> list[Any]:
    """Variables through which countries' assets serve the coalition.

    Production (existing, announced and new capacity), builds (sites and reserves), stockpile
    purchases and releases, and member financing, each indexed by country first.
    """
    found = []
    for name in ("production", "build", "purchase", "release", "finance"):
        component = getattr(model, name, None)
        if component is None:
            continue
        found += [component[index] for index in component if index[0] in countries]
    return found


def solve_without(prepared: Any, countries: list[str], exposure_cap: float | None = None) -> Any:
    """Solve the built model with the countries' assets switched off, then switch them back on.

    With `exposure_cap`, the solve minimises cost with exposure at most the cap.
    """
    from optimizer.run import solve_prepared

    variables = asset_variables(prepared.model, set(countries))
    for var in variables:
        var.fix(0.0)
    prepared.solver.update_variables(variables)
    try:
        return solve_prepared(prepared, exposure_cap)
    finally:
        for var in variables:
            var.unfix()
        prepared.solver.update_variables(variables)


def sweep_options(scenario: dict[str, Any]) -> dict[str, Any]:
    """HiGHS on one thread, and no duals (a digest does not use them)."""
    options = dict(scenario.get("options") or {})
    options["threads"] = 1
    options["duals"] = False
    return {**scenario, "options": options}


def solve_item(item: dict[str, Any]) -> dict[str, Any]:
    """Worker entry point: solve one item and return its `ItemResult` as a JSON-ready dict.

    Never raises for a bad scenario or a solver failure: they become the item's status.
    """
    from optimizer.errors import CoalitionError
    from optimizer.run import prepare, set_budget, solve_prepared
    from optimizer.schemas import Scenario

    key = str(item.get("key", "?"))
    try:
        work = SweepItem.model_validate(item)
        scenario = Scenario.from_data(sweep_options(work.scenario))
        cap = work.exposure_cap
        if work.without is not None:
            prepared = prepare(scenario, allow_paths=work.allow_paths)
            points = [digest(solve_without(prepared, countries, cap)) for countries in work.without]
            return _multi(key, points)
        if work.budgets is None:
            result = solve_prepared(prepare(scenario, allow_paths=work.allow_paths), cap)
            d = digest(result, scenario.budget_usd)
            status, message = status_of(d)
            return ItemResult(key=key, status=status, message=message, digest=d).model_dump(mode="json")
        if not work.budgets:
            raise ValueError("a budget sweep item needs at least one budget")
        # One model for every budget: each re-solve starts from the previous optimum.
        prepared = prepare(scenario, allow_paths=work.allow_paths)
        points = []
        for budget in work.budgets:
            set_budget(prepared, float(budget))
            points.append(digest(solve_prepared(prepared, cap), float(budget)))
        return _multi(key, points)
    except CoalitionError as exc:
        return ItemResult(key=key, status="error", message=str(exc)).model_dump(mode="json")
    except Exception as exc:  # a fault in one item must not end the sweep
        logger.exception("sweep item %s failed", key)
        return ItemResult(key=key, status="error", message=f"{type(exc).__name__}: {exc}").model_dump(mode="json")


# --- the driver side --------------------------------------------------------------------


class SweepEngine:
    """Runs sweeps on one backend; keeps its process pool or Dask client between sweeps.

    Use as a context manager so the pool or cluster is closed::

        with SweepEngine("local", workers=2) as engine:
            result = engine.run(items, progress=print)
    """

    def __init__(
        self,
        backend: Backend = "local",
        scheduler: str | None = None,
        workers: int = 1,
        dask_processes: bool = True,
    ) -> None:
        if backend not in ("local", "dask"):
            raise ValueError(f"unknown backend {backend!r}; use 'local' or 'dask'")
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.backend: Backend = backend
        self.scheduler = scheduler
        self.workers = workers
        self.dask_processes = dask_processes
        self._pool: ProcessPoolExecutor | None = None
        self._client: Any = None
        self._cluster: Any = None

    def __enter__(self) -> SweepEngine:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Shut the pool or the Dask client (and its LocalCluster) down."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def run(
        self,
        items: Sequence[SweepItem],
        progress: Progress | None = None,
        should_cancel: ShouldCancel | None = None,
    ) -> SweepResult:
        """Solve every item; report progress after each; stop early when asked to cancel."""
        start = time.perf_counter()
        payloads = [item.model_dump(mode="json") for item in items]
        total = len(payloads)
        if progress is not None:
            progress(0, total)
        if total == 0:
            return SweepResult(items=[], seconds=0.0)
        if self.backend == "dask":
            raw, cancelled = self._run_dask(payloads, progress, should_cancel)
        elif self.workers == 1 or total == 1:
            raw, cancelled = self._run_serial(payloads, progress, should_cancel)
        else:
            raw, cancelled = self._run_pool(payloads, progress, should_cancel)
        results = [
            ItemResult.model_validate(r)
            if r is not None
            else ItemResult(key=p["key"], status="cancelled", message="the sweep was cancelled")
            for p, r in zip(payloads, raw, strict=True)
        ]
        seconds = time.perf_counter() - start
        logger.info(
            "sweep of %d items on %s (%d workers): %.2fs%s",
            total,
            self.backend,
            self.workers,
            seconds,
            " (cancelled)" if cancelled else "",
        )
        return SweepResult(items=results, cancelled=cancelled, seconds=seconds)

    def _run_serial(
        self, payloads: list[dict[str, Any]], progress: Progress | None, should_cancel: ShouldCancel | None
    ) -> tuple[list[dict[str, Any] | None], bool]:
        raw: list[dict[str, Any] | None] = [None] * len(payloads)
        for i, payload in enumerate(payloads):
            if should_cancel is not None and should_cancel():
                return raw, True
            raw[i] = solve_item(payload)
            if progress is not None:
                progress(i + 1, len(payloads))
        return raw, False

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def _run_pool(
        self, payloads: list[dict[str, Any]], progress: Progress | None, should_cancel: ShouldCancel | None
    ) -> tuple[list[dict[str, Any] | None], bool]:
        pool = self._executor()
        futures: dict[Future[dict[str, Any]], int] = {
            pool.submit(solve_item, payload): i for i, payload in enumerate(payloads)
        }
        raw: list[dict[str, Any] | None] = [None] * len(payloads)
        pending = set(futures)
        done_count = 0
        while pending:
            if should_cancel is not None and should_cancel():
                for future in pending:
                    future.cancel()
                # Items already running finish in the background; their results are dropped.
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
                return raw, True
            done, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                i = futures[future]
                try:
                    raw[i] = future.result()
                except Exception as exc:  # the worker process died (e.g. out of memory)
                    raw[i] = ItemResult(
                        key=payloads[i]["key"], status="error", message=f"worker failed: {exc}"
                    ).model_dump(mode="json")
                done_count += 1
                if progress is not None:
                    progress(done_count, len(payloads))
        return raw, False

    def _dask_client(self) -> Any:
        if self._client is None:
            try:
                from dask.distributed import Client, LocalCluster
            except ImportError as exc:  # pragma: no cover - dask is an optional dependency
                from optimizer.errors import ScenarioError

                raise ScenarioError(
                    "backend 'dask' needs dask[distributed]: pip install 'coalition-optimizer[dask]'",
                    location="backend",
                ) from exc
            if self.scheduler:
                try:
                    self._client = Client(self.scheduler, timeout="20s")
                except (OSError, TimeoutError) as exc:
                    from optimizer.errors import ScenarioError

                    raise ScenarioError(
                        f"cannot reach the Dask scheduler at {self.scheduler}: {exc}", location="scheduler"
                    ) from exc
            else:
                self._cluster = LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=self.dask_processes,
                    dashboard_address=None,
                )
                self._client = Client(self._cluster)
        return self._client

    def _run_dask(
        self, payloads: list[dict[str, Any]], progress: Progress | None, should_cancel: ShouldCancel | None
    ) -> tuple[list[dict[str, Any] | None], bool]:
        from dask.distributed import wait as dask_wait

        client = self._dask_client()
        futures = [client.submit(solve_item, payload, pure=False) for payload in payloads]
        index = {future.key: i for i, future in enumerate(futures)}
        raw: list[dict[str, Any] | None] = [None] * len(payloads)
        pending = set(futures)
        done_count = 0
        while pending:
            if should_cancel is not None and should_cancel():
                client.cancel(list(pending))
                return raw, True
            try:
                done, pending = dask_wait(pending, timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
            except TimeoutError:
                continue
            pending = set(pending)
            for future in done:
                i = index[future.key]
                try:
                    raw[i] = future.result()
                except Exception as exc:  # the worker died or the task was lost
                    raw[i] = ItemResult(
                        key=payloads[i]["key"], status="error", message=f"worker failed: {exc}"
                    ).model_dump(mode="json")
                done_count += 1
                if progress is not None:
                    progress(done_count, len(payloads))
        return raw, False


def run_sweep(
    items: Sequence[SweepItem],
    backend: Backend = "local",
    scheduler: str | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    should_cancel: ShouldCancel | None = None,
) -> SweepResult:
    """Solve `items` on a fresh engine (see `SweepEngine` to reuse one across sweeps)."""
    with SweepEngine(backend, scheduler, workers) as engine:
        return engine.run(items, progress=progress, should_cancel=should_cancel)

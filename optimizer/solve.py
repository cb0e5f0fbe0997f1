"""Solve a built model with HiGHS, loaded once through `optimizer.handoff`.

Lexicographic mode is two solves of one HiGHS model: minimise exposure, then cap exposure
at its optimum and minimise cost; only the objective and one row change in HiGHS. The
second solve may start from the first's basis (`cost_phase_start="warm"`): that basis is
primal feasible once the cap row is added, so primal simplex continues from it. That was
3-4x faster than starting over on the synthetic benchmarks, but 1.25-3.0x slower on most
shipped scenarios, so the default is cold (dual simplex after presolve). Re-solves after
parameter changes (sweeps) start from each phase's own last basis.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import highspy
import pyomo.core as pyo

from optimizer.handoff import HighsLink
from optimizer.model.objective import USD_PER_MUSD
from optimizer.schemas import SolveOptions, Status

logger = logging.getLogger(__name__)

SLACK_TOLERANCE = 1e-6  # objective units; a slack below this is numerical noise
ABSOLUTE_EXPOSURE_TOLERANCE = 1e-9

_MODEL_STATUS: dict[highspy.HighsModelStatus, Status] = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnbounded: "unbounded",
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasible",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
}

# Chosen on measurements (docs/performance.md); users override through solver_options.
DEFAULT_HIGHS_OPTIONS: dict[str, Any] = {
    "presolve": "on",
    # Tight tolerances: at HiGHS's 1e-7 a binding budget returned exposure up to 1e-5
    # (relative) above the optimum, enough to break the frontier's monotonicity; 1e-9 was
    # exact and no slower.
    "primal_feasibility_tolerance": 1e-9,
    "dual_feasibility_tolerance": 1e-9,
}
# The exposure phase from scratch uses the interior-point method with crossover (20% less
# CPU than dual simplex on the medium benchmark, even on the default scenario); the cost
# phase and every re-solve that has a basis from an earlier solve of the same phase use
# simplex (docs/performance.md).
COLD_SOLVER, WARM_SOLVER = "ipm", "simplex"
DUAL_SIMPLEX, PRIMAL_SIMPLEX = 1, 4  # HiGHS simplex_strategy values


def solver_version() -> str:
    """HiGHS version string, e.g. '1.16.0'."""
    return f"{highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}"


@dataclass
class SolveOutcome:
    """What the solver said, in the product's terms."""

    status: Status
    message: str = ""
    exposure: float | None = None
    cost_usd: float | None = None
    slack_penalty: float | None = None
    duals: dict[Any, float] = field(default_factory=dict)
    solves: int = 0
    seconds: float = 0.0
    has_solution: bool = False
    diagnosis: dict[str, Any] = field(default_factory=dict)


def _reset_scheduler() -> None:
    """Reset HiGHS's global thread pool before loading a model.

    HiGHS fixes its thread pool at first use in a process, and a run asking for another
    thread count then ends 'Not Set'. Any other HiGHS user in the process may have started
    it; a reset costs under a microsecond.
    """
    highspy.Highs.resetGlobalScheduler(True)


_banner_shown = False
_interrupt_check: ContextVar[Callable[[], bool] | None] = ContextVar("interrupt_check", default=None)


class SolveInterrupted(RuntimeError):  # noqa: N818 - a signal, not a fault
    """A solve stopped mid-run because its `interrupt_when` check said so (a job cancelled)."""


@contextlib.contextmanager
def interrupt_when(should_stop: Callable[[], bool]) -> Iterator[None]:
    """Within this block, every HiGHS run stops within an iteration once `should_stop()` is true.

    HiGHS calls back on each simplex and interior-point iteration; the run then raises
    SolveInterrupted. This is how a cancelled job stops mid-LP instead of after it.
    """
    token = _interrupt_check.set(should_stop)
    try:
        yield
    finally:
        _interrupt_check.reset(token)


def new_highs() -> highspy.Highs:
    """A new HiGHS instance, without the banner the first one in a process prints.

    The banner goes to file descriptor 1: it would corrupt `coalition solve --json`.
    """
    global _banner_shown
    if _banner_shown:
        return highspy.Highs()
    from pyomo.common.tee import capture_output

    with capture_output(capture_fd=True):
        highs = highspy.Highs()
    _banner_shown = True
    return highs


class ModelSolver:
    """A model loaded once into HiGHS, solved and re-solved (sweeps change params in place)."""

    def __init__(self, model: pyo.ConcreteModel, options: SolveOptions) -> None:
        self.model = model
        self.options = options
        _reset_scheduler()
        self.highs = new_highs()
        self.highs_options: dict[str, Any] = {
            **DEFAULT_HIGHS_OPTIONS,
            "threads": options.threads,
            "output_flag": False,
            **options.solver_options,
        }
        self._apply_options()
        self.link = HighsLink(model, self.highs)
        self.active_objective = model.obj_exposure
        self.link.use_objective(self.active_objective)
        self.limit_active = False
        # The last optimal basis of each phase. Phases alternate (exposure, cost, exposure
        # ...), so on a re-solve each phase restarts from its own previous optimum, which a
        # small parameter change leaves nearly optimal, not from the other phase's basis.
        self._basis: dict[str, Any] = {}

    @contextlib.contextmanager
    def _interruptible(self) -> Iterator[None]:
        """Let HiGHS ask the enclosing `interrupt_when` check on every iteration of this run."""
        should_stop = _interrupt_check.get()
        if should_stop is None:
            yield
            return

        def check(event: Any) -> None:
            if should_stop():
                event.data_in.user_interrupt = True

        self.highs.cbSimplexInterrupt.subscribe(check)
        self.highs.cbIpmInterrupt.subscribe(check)
        try:
            yield
        finally:
            self.highs.cbSimplexInterrupt.unsubscribe(check)
            self.highs.cbIpmInterrupt.unsubscribe(check)

    def forward_log(self, target: logging.Logger | None = None) -> None:
        """Send HiGHS's own log, line by line, to a Python logger (the service's job log)."""
        target = target or logging.getLogger("optimizer.highs")
        pending: list[str] = []

        def on_log(event: Any) -> None:
            pending.append(event.message)
            if "\n" not in event.message:
                return
            *lines, rest = "".join(pending).split("\n")
            pending[:] = [rest] if rest else []
            for line in lines:
                target.info("%s", line)

        self.highs.cbLogging.subscribe(on_log)
        self.highs_options.update(output_flag=True, log_to_console=False)

    def _apply_options(self) -> None:
        for name, value in self.highs_options.items():
            status = self.highs.setOptionValue(name, value)
            if status != highspy.HighsStatus.kOk:
                raise SolverFailureError(f"HiGHS rejected option {name}={value!r}")

    def _start_from(self, phase: str) -> None:
        highs = self.highs
        basis = self._basis.get(phase)
        chosen = "solver" in self.options.solver_options
        # A re-solve from a phase's own basis after a parameter change keeps it dual
        # feasible: dual simplex. Only the cost phase warm from the exposure optimum starts
        # primal feasible (the cap row holds there): primal simplex (below).
        self._simplex_strategy(DUAL_SIMPLEX)
        if basis is not None:
            highs.setBasis(basis)
            if not chosen:
                self.highs_options["solver"] = WARM_SOLVER
            return
        if phase not in ("cost", "capped"):
            if not chosen:
                self.highs_options["solver"] = COLD_SOLVER
            return
        if self.options.cost_phase_start == "cold" or phase == "capped":
            # From scratch: on the shipped scenarios dual simplex cold beat primal simplex
            # warm from the exposure optimum (0.53 s vs 0.66 s on default, 0.35 vs 1.03 s on
            # total_ban_2026); on the synthetic benchmarks primal warm won 3-4x
            # (benchmarks/cost_phase.py, docs/performance.md). A capped solve has no exposure optimum to start from.
            highs.clearSolver()
        else:
            self._simplex_strategy(PRIMAL_SIMPLEX)
        if not chosen:
            # From scratch, dual simplex beat IPM on the cost phase (0.5 s vs 0.9 s on the
            # default scenario); warm, only simplex can use the exposure phase's basis.
            self.highs_options["solver"] = WARM_SOLVER

    def _simplex_strategy(self, strategy: int) -> None:
        if "simplex_strategy" not in self.options.solver_options:
            self.highs_options["simplex_strategy"] = strategy

    def _run(self, time_limit: float | None, phase: str = "exposure") -> tuple[Status, bool]:
        self._start_from(phase)
        try:
            self._apply_options()
            self.highs.setOptionValue("time_limit", highspy.kHighsInf if time_limit is None else float(time_limit))
            with self._interruptible():
                self.highs.run()
        except SolverFailureError:
            raise
        except Exception as exc:  # HiGHS failed: report, never crash
            logger.exception("HiGHS failed")
            raise SolverFailureError(str(exc)) from exc
        if self.highs.getModelStatus() == highspy.HighsModelStatus.kInterrupt:
            raise SolveInterrupted(f"interrupted during the {phase!r} solve")
        status = _MODEL_STATUS.get(self.highs.getModelStatus(), "error")
        info = self.highs.getInfo()
        # An LP stopped early usually sits at a primal-infeasible basis: only a point HiGHS
        # reports as feasible is a usable allocation.
        feasible = status == "optimal" or (status == "time_limit" and info.primal_solution_status == 2)
        if status == "optimal":
            self._basis[phase] = self.highs.getBasis()
        return status, feasible

    def _use_objective(self, objective: pyo.Objective) -> None:
        if objective is not self.active_objective:
            self.active_objective.deactivate()
            objective.activate()
            self.link.use_objective(objective)
            self.active_objective = objective

    def _exposure_limit(self, on: bool) -> None:
        if on and not self.limit_active:
            self.model.exposure_limit.activate()
            self.link.add_row(self.model.exposure_limit)
        elif not on and self.limit_active:
            self.link.remove_row(self.model.exposure_limit)
            self.model.exposure_limit.deactivate()
        self.limit_active = on

    def nonzeros(self) -> int:
        """Non-zeros of the constraint matrix HiGHS holds."""
        return int(self.highs.getNumNz())

    def write(self, path: str | Path) -> None:
        """Write the model as HiGHS holds it (.mps or .lp by extension)."""
        self.highs.writeModel(str(path))

    def update_variables(self, variables: list[Any]) -> None:
        """Push changed bounds or fixings of these variables to HiGHS."""
        self.link.update_variables(variables)

    def params_changed(self) -> None:
        """Push new values of mutable parameters to HiGHS (the basis is kept: warm start)."""
        self.link.update_params()

    def _penalty(self) -> float:
        """Slack penalty of the current HiGHS solution, loading only the few slack variables."""
        model = self.model
        slacks = [*self._slack_vars(), *model.target_slack.values()]
        self.link.load_values(slacks)
        return float(pyo.value(model.slack_penalty))

    def _objective_value(self) -> float:
        return float(self.highs.getInfo().objective_function_value)

    def solve(self, mode: str, exposure_tolerance: float) -> SolveOutcome:
        """Run the lexicographic (two solves), weighted or exposure-only (one solve) procedure."""
        start = time.perf_counter()
        limit = self.options.time_limit_s
        outcome = SolveOutcome(status="error")
        try:
            self._exposure_limit(False)
            self._use_objective(self.model.obj_weighted if mode == "weighted" else self.model.obj_exposure)
            status, feasible = self._run(limit, phase=mode)
            outcome.solves = 1
            if status == "optimal" and self._penalty() > SLACK_TOLERANCE:
                outcome.diagnosis = self._diagnose(limit, start)
                outcome.solves += 2
                status, feasible = self._run(limit, phase=mode)  # back to the within-budget relaxation
            if status == "optimal" and self.options.duals:
                outcome.duals = self.link.duals()
            if mode == "lexicographic" and status == "optimal":
                penalty = self._penalty()
                if penalty <= SLACK_TOLERANCE:
                    # The exposure objective is exposure + slack penalty: no walk over the model.
                    exposure = self._objective_value() - penalty
                    self.model.exposure_cap.set_value(exposure * (1 + exposure_tolerance) + ABSOLUTE_EXPOSURE_TOLERANCE)
                    self._exposure_limit(True)
                    self._use_objective(self.model.obj_cost)
                    remaining = None if limit is None else max(limit - (time.perf_counter() - start), 0.01)
                    status2, feasible2 = self._run(remaining, phase="cost")
                    outcome.solves += 1
                    if not (status2 == "optimal" and feasible2):
                        # Fall back to the exposure-optimal point: feasible, only not cost-minimal.
                        outcome.message = f"cost phase ended '{status2}'; the allocation is exposure-optimal only"
                        self._exposure_limit(False)
                        self._use_objective(self.model.obj_exposure)
                        self._run(None, phase=mode)
                        final = "time_limit" if status2 == "time_limit" else "optimal"
                        return self._finish(outcome, final, True, start=start)
                    cost = (self._objective_value() - self._penalty()) * USD_PER_MUSD
                    return self._finish(outcome, status, feasible, start=start, cost=cost)
            return self._finish(outcome, status, feasible, start=start)
        except SolverFailureError as exc:
            outcome.status = "error"
            outcome.message = f"solver failure: {exc}"
            outcome.seconds = time.perf_counter() - start
            return outcome

    def solve_capped(self, cap: float) -> SolveOutcome:
        r"""Minimise cost with exposure capped from outside (one solve; the cost game's step).

        .. math:: \min K/10^6 + \Sigma \quad\text{s.t.}\quad E \le \bar E

        Re-solves (another cap, other variables fixed) start from this phase's last basis.
        """
        start = time.perf_counter()
        outcome = SolveOutcome(status="error", solves=1)
        try:
            self.model.exposure_cap.set_value(cap)
            self._exposure_limit(False)  # re-added below: the row reads the new cap
            self._exposure_limit(True)
            self._use_objective(self.model.obj_cost)
            status, feasible = self._run(self.options.time_limit_s, phase="capped")
        except SolverFailureError as exc:
            outcome.message = f"solver failure: {exc}"
            outcome.seconds = time.perf_counter() - start
            return outcome
        if status == "infeasible":
            outcome.message = f"no plan keeps exposure at or below {cap:.6g} share-years"
        return self._finish(outcome, status, feasible, start=start)

    def _slack_vars(self) -> list[Any]:
        model = self.model
        return [model.budget_slack, *model.member_budget_slack.values()]

    def _diagnose(self, limit: float | None, start: float) -> dict[str, Any]:
        """Re-solve with budgets elastic: how much money closes the gap, and what money cannot."""
        slacks = self._slack_vars()
        for var in slacks:
            var.setub(None)
        self.link.update_variables(slacks)
        remaining = None if limit is None else max(limit - (time.perf_counter() - start), 0.01)
        _status, feasible = self._run(remaining, phase="diagnosis")
        diagnosis: dict[str, Any] = {}
        if feasible:
            self.link.load_values()
            model = self.model
            diagnosis = {
                "budget_needed_usd": pyo.value(model.budget_slack),
                "member_budget_needed_usd": {a: pyo.value(v) for a, v in model.member_budget_slack.items()},
                "target_gap_with_more_money_t": {k: pyo.value(v) for k, v in model.target_slack.items()},
            }
        for var in slacks:
            var.setub(0.0)
        self.link.update_variables(slacks)
        return diagnosis

    def _finish(
        self, outcome: SolveOutcome, status: Status, feasible: bool, start: float, cost: float | None = None
    ) -> SolveOutcome:
        outcome.status = status
        if feasible:
            self.link.load_values()
            outcome.has_solution = True
            outcome.exposure = pyo.value(self.model.exposure)
            outcome.cost_usd = cost if cost is not None else pyo.value(self.model.cost)
            outcome.slack_penalty = pyo.value(self.model.slack_penalty)
        elif status == "time_limit":
            outcome.message = outcome.message or "time limit reached before a feasible allocation was found"
        outcome.seconds = time.perf_counter() - start
        return outcome


class SolverFailureError(RuntimeError):
    """HiGHS or its interface raised."""


def model_size(model: pyo.ConcreteModel) -> tuple[int, int]:
    """Active variables and constraints of the model."""
    variables = sum(len(v) for v in model.component_objects(pyo.Var, active=True))
    constraints = sum(len(c) for c in model.component_objects(pyo.Constraint, active=True))
    return variables, constraints

"""The one run path: load -> check -> build -> solve -> extract.

The CLI, the REST service, the analytics and notebooks all call `solve`.
"""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyomo.core as pyo

from optimizer import results as rx
from optimizer.errors import ScenarioError
from optimizer.model import MODEL_VERSION, build_inputs, build_model
from optimizer.model.index import ModelIndex
from optimizer.model.inputs import ModelInputs
from optimizer.model.variables import update_member_parameters
from optimizer.scenario import ResolvedScenario, resolve_scenario
from optimizer.schemas import ModelInfo, PhaseTiming, ResultModel, Scenario
from optimizer.solve import ModelSolver, SolveOutcome, model_size, solver_version

logger = logging.getLogger(__name__)


@dataclass
class Result:
    """A solve's answer: tidy tables for Python users, `to_dict()` for JSON."""

    summary: ResultModel
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """optimal, infeasible, unbounded, time_limit or error."""
        return self.summary.status

    @property
    def exposure_by_year(self) -> pd.DataFrame:
        """Exposed share of coalition demand by year and material."""
        return self.tables.get("exposure_by_year", pd.DataFrame())

    @property
    def builds(self) -> pd.DataFrame:
        """New capacity by country, stage, material and start year."""
        return self.tables.get("builds", pd.DataFrame())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what `coalition solve --json` prints and the REST service returns."""
        return self.summary.model_dump(mode="json")

    def write(self, directory: str | Path) -> list[Path]:
        """Write result.json and one CSV per table into `directory`."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = [out / "result.json"]
        written[0].write_text(self.summary.model_dump_json(indent=2), encoding="utf-8")
        for name, frame in self.tables.items():
            path = out / f"{name}.csv"
            frame.to_csv(path, index=False)
            written.append(path)
        return written


@dataclass
class Prepared:
    """A scenario resolved, its inputs computed and its model built and loaded into HiGHS."""

    resolved: ResolvedScenario
    inputs: ModelInputs
    model: pyo.ConcreteModel
    index: ModelIndex
    solver: ModelSolver
    timing: PhaseTiming


def prepare(scenario: Scenario, allow_paths: bool = True, parametric_members: bool = False) -> Prepared:
    """Load and check (raises ScenarioError / DatasetError), build, and hand to HiGHS.

    With `parametric_members`, the model is built once for the scenario's coalition and
    `set_members` can then switch any subset of it on, changing parameters only, so that
    the re-solve starts warm (member values, comparisons of nested coalitions).
    """
    start = time.perf_counter()
    resolved = resolve_scenario(scenario, allow_paths=allow_paths)
    if parametric_members and scenario.member_budgets_usd:
        raise ScenarioError(
            "member budgets cannot be combined with switching members; remove member_budgets_usd",
            location="scenario.member_budgets_usd",
        )
    inputs = build_inputs(resolved, parametric_members=parametric_members)
    if not inputs.demand:
        raise ScenarioError(
            f"no coalition member ({', '.join(resolved.coalition)}) has demand in the dataset;"
            " add demand rows or choose another coalition",
            location="scenario.coalition",
        )
    loaded = time.perf_counter()
    # Building makes ~10^5 small objects that live as long as the model: the cyclic garbage
    # collector only rescans them (a quarter of build + hand-off time), so pause it.
    collecting = gc.isenabled()
    gc.disable()
    try:
        model, index = build_model(inputs, scenario.objective.cost_weight_per_musd)
        solver = ModelSolver(model, scenario.options)
    finally:
        if collecting:
            gc.enable()
    built = time.perf_counter()
    timing = PhaseTiming(load=loaded - start, build=built - loaded)
    return Prepared(resolved, inputs, model, index, solver, timing)


def set_budget(prepared: Prepared, budget_usd: float | None) -> None:
    """Change the capital budget of a built model (None = unlimited); the re-solve starts warm."""
    from optimizer.model.constraints.money import UNLIMITED_BUDGET_USD

    if budget_usd is not None and not (0 <= budget_usd < UNLIMITED_BUDGET_USD):
        raise ScenarioError(f"budget {budget_usd} must be between 0 and {UNLIMITED_BUDGET_USD:g} USD", "budget_usd")
    prepared.inputs.budget_usd = budget_usd
    prepared.model.budget_usd.set_value(UNLIMITED_BUDGET_USD if budget_usd is None else budget_usd)
    prepared.solver.params_changed()


def set_members(prepared: Prepared, members: list[str]) -> None:
    """Make a subset of the coalition the active members of a member-parametric model.

    Non-members become third parties: their demand leaves the objective, and their sales to
    the active members are capped by their third-party share and new-build offtake.
    """
    unknown = [m for m in members if m not in prepared.inputs.coalition]
    if unknown:
        raise ScenarioError(
            f"{unknown} are not in the prepared coalition {prepared.inputs.coalition}", location="members"
        )
    try:
        prepared.inputs.activate(members)
    except ValueError as exc:
        raise ScenarioError(str(exc), location="members") from exc
    update_member_parameters(prepared.model, prepared.inputs)
    prepared.solver.params_changed()


def solve_prepared(prepared: Prepared, exposure_cap: float | None = None) -> Result:
    """Solve an already built model (again, after parameter changes) and extract the result.

    With `exposure_cap` (share-years), one solve minimises cost with exposure at most the cap
    instead of the scenario's objective (the member-value cost game); an unreachable cap
    gives status `infeasible`.
    """
    scenario = prepared.resolved.scenario
    if exposure_cap is not None and not exposure_cap >= 0.0:
        raise ScenarioError(f"the exposure cap must be a non-negative number, got {exposure_cap}", "exposure_cap")
    start = time.perf_counter()
    if exposure_cap is None:
        outcome = prepared.solver.solve(scenario.objective.mode, scenario.objective.exposure_tolerance)
    else:
        outcome = prepared.solver.solve_capped(exposure_cap)
    solved = time.perf_counter()
    result = extract(prepared, outcome)
    timing = result.summary.model.seconds
    timing.load, timing.build = prepared.timing.load, prepared.timing.build
    timing.solve = solved - start
    timing.extract = time.perf_counter() - solved
    timing.total = timing.load + timing.build + timing.solve + timing.extract
    return result


def solve(scenario: Scenario | dict[str, Any] | str | Path | None = None, allow_paths: bool = True) -> Result:
    """Solve a scenario (a Scenario, a mapping, a YAML/JSON path, or None for the default).

    Bad input raises ScenarioError or DatasetError before any model is built; solver
    outcomes (infeasible, time limit ...) are reported in `Result.status`.
    """
    scenario = as_scenario(scenario)
    return solve_prepared(prepare(scenario, allow_paths=allow_paths))


def as_scenario(scenario: Scenario | dict[str, Any] | str | Path | None) -> Scenario:
    """Accept the forms users pass and return a validated Scenario."""
    if scenario is None:
        return default_scenario()
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, dict):
        return Scenario.from_data(scenario)
    if isinstance(scenario, str | Path):
        return Scenario.from_file(scenario)
    raise ScenarioError(
        f"a scenario is a Scenario, a mapping of its fields or a YAML/JSON path, not {type(scenario).__name__}"
    )


def default_scenario(dataset: str = "rare_earths") -> Scenario:
    """The default scenario of a shipped dataset (scenarios/default.yaml), else defaults."""
    from optimizer.data.registry import datasets_root

    path = datasets_root() / dataset / "scenarios" / "default.yaml"
    return Scenario.from_file(path) if path.is_file() else Scenario(dataset=dataset)


def extract(prepared: Prepared, outcome: SolveOutcome) -> Result:
    """Turn the solved model into a Result (tables only where there is an allocation)."""
    # Reading the solution makes many small objects next to the model's ~10^5 live ones: the
    # cyclic garbage collector would rescan those (a quarter of extract on the default scenario).
    collecting = gc.isenabled()
    gc.disable()
    try:
        model, inputs, ix = prepared.model, prepared.inputs, prepared.index
        resolved = prepared.resolved
        scenario = resolved.scenario
        variables, constraints = model_size(model)
        info = ModelInfo(
            variables=variables,
            constraints=constraints,
            nonzeros=prepared.solver.nonzeros(),
            solver="highs",
            solver_version=solver_version(),
            model_version=MODEL_VERSION,
            objective_mode=scenario.objective.mode,
            solves=outcome.solves,
        )
        if inputs.members != inputs.coalition:  # a subset of a member-parametric model
            scenario = scenario.model_copy(update={"coalition": list(inputs.members)})
        summary = ResultModel(
            status=outcome.status,
            message=outcome.message,
            scenario=scenario.model_dump(mode="json"),
            scenario_hash=scenario.content_hash(),
            coalition=list(inputs.members),
            adversaries=resolved.adversaries,
            model=info,
        )
        tables: dict[str, pd.DataFrame] = {}
        if not outcome.has_solution:
            if not summary.message:
                summary.message = f"no allocation: solver status {outcome.status}"
            return Result(summary, tables)

        found = rx.violations(model, inputs, outcome.diagnosis)
        if found and outcome.status == "optimal":
            summary.status = "infeasible"
            summary.message = "the scenario cannot be met as asked: " + " ".join(v.explanation for v in found)
        summary.violations = found

        builds = rx.builds_table(model, inputs)
        deliveries = rx.deliveries_table(model, inputs, ix)
        exposure = rx.exposure_by_year(deliveries)
        tables = {
            "exposure_by_year": exposure,
            "deliveries": deliveries,
            "builds": builds,
            "production": rx.production_table(model),
            "shipments": rx.shipments_table(model),
            "stockpile": rx.stockpile_table(model),
            "financing": rx.financing_table(model, inputs, builds),
            "adversary_share_by_stage": rx.adversary_share_by_stage(model, inputs, ix),
            "cost_by_host": rx.cost_by_host(builds),
        }
        unmet = deliveries.loc[deliveries["unmet_t"] > rx.TOL, ["country", "material", "year", "demand_t", "unmet_t"]]
        tables["unmet_demand"] = unmet.reset_index(drop=True)
        payer = tables["financing"].groupby("payer", as_index=False)["amount_usd"].sum()
        tables["cost_by_payer"] = payer

        summary.objective = {
            "exposure_share_years": outcome.exposure,
            "cost_usd": outcome.cost_usd,
            "slack_penalty": outcome.slack_penalty,
            "exposed_t": float(deliveries["exposed_t"].sum()),
            "unmet_t": float(deliveries["unmet_t"].sum()),
        }
        summary.total_cost_usd = outcome.cost_usd
        summary.cost_breakdown_usd = {
            "capex": rx.evaluate(model.capex_usd),
            "opex": rx.evaluate(model.opex_usd),
            "trade": rx.evaluate(model.trade_usd),
            "stock_holding": rx.evaluate(model.holding_usd),
        }
        summary.exposure_share_by_year = rx.records(exposure)
        summary.adversary_share_by_stage = rx.records(tables["adversary_share_by_stage"])
        summary.deliveries = rx.records(deliveries)
        summary.builds = rx.records(builds)
        summary.production = rx.records(tables["production"])
        summary.shipments = rx.records(tables["shipments"])
        summary.unmet_demand = rx.records(tables["unmet_demand"])
        summary.stockpile = rx.records(tables["stockpile"])
        summary.financing = rx.records(tables["financing"])
        summary.cost_by_host = rx.records(tables["cost_by_host"])
        summary.cost_by_payer = rx.records(payer)
        summary.shadow_prices = rx.shadow_prices(model, inputs, outcome.duals)
        return Result(summary, tables)
    finally:
        if collecting:
            gc.enable()

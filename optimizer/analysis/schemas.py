"""Request and result models of the analyses: the contract with the CLI and the REST service.

Requests are strict (unknown keys, NaN and infinities refused) and bounded; each embeds a
base `Scenario` (default: the default scenario of the default dataset) and says where to
run its sweep (`backend`, `scheduler`, `workers`). Results are plain pydantic models whose
``model_dump(mode="json")`` is what `run_analysis`, ``coalition ... --json`` and the REST
service return.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from optimizer.run import default_scenario
from optimizer.schemas import ISO3, Scenario, StrictModel, Year

MAX_COALITIONS = 12  # compare: coalitions side by side
MAX_SCENARIOS = 10  # compare: scenarios per coalition
MAX_EXACT_MEMBERS = 12  # value: 2^12 = 4,096 solves
MAX_SAMPLED_MEMBERS = 60
MAX_DRAWS = 10_000
MAX_STRESSES = 50
MAX_SEED = 2**32 - 1

CoalitionSpec = Annotated[
    str | list[ISO3],
    Field(description="A coalition preset name of the dataset, or a list of ISO3 member codes."),
]


# --- requests ---------------------------------------------------------------------------


class AnalysisRequest(StrictModel):
    """What every analysis request has: a base scenario and where to run the sweep."""

    scenario: Scenario = Field(
        default_factory=default_scenario,
        description="Base scenario (default: the default scenario of the default dataset).",
    )
    backend: Literal["local", "dask"] = Field(
        "local", description="local: a process pool on this machine; dask: a Dask distributed cluster."
    )
    scheduler: str | None = Field(
        None,
        max_length=500,
        description="Dask scheduler address, e.g. tcp://dask-scheduler:8786 (none = a LocalCluster).",
    )
    workers: int = Field(2, ge=1, le=64, description="Worker processes (local pool, or the LocalCluster's workers).")

    @model_validator(mode="after")
    def _scheduler_needs_dask(self) -> AnalysisRequest:
        if self.scheduler is not None and self.backend != "dask":
            raise ValueError("scheduler is used only with backend 'dask'")
        return self


class CompareRequest(AnalysisRequest):
    """N coalitions x M scenarios, side by side."""

    coalitions: list[CoalitionSpec] = Field(
        min_length=1,
        max_length=MAX_COALITIONS,
        description=f"Coalitions to compare (1 to {MAX_COALITIONS}).",
    )
    scenarios: list[Scenario] = Field(
        default_factory=list,
        max_length=MAX_SCENARIOS,
        description=(
            "Scenarios to run each coalition on (their coalition field is replaced); empty = the base scenario alone."
        ),
    )


class FrontierRequest(AnalysisRequest):
    """Cost-vs-exposure Pareto frontier by the epsilon-constraint method on the budget."""

    coalition: CoalitionSpec | None = Field(None, description="None = the scenario's coalition.")
    points: int = Field(
        11, ge=2, le=101, description="Budgets on the frontier, from budget_min_usd to the top (2 to 101)."
    )
    budget_min_usd: float = Field(0.0, ge=0.0, le=1e15, description="Lowest budget swept, USD.")
    budget_max_usd: float | None = Field(
        None,
        gt=0.0,
        le=1e15,
        description="Highest budget swept, USD (none = the capital the unlimited-budget plan spends).",
    )

    @model_validator(mode="after")
    def _range(self) -> FrontierRequest:
        if self.budget_max_usd is not None and self.budget_max_usd <= self.budget_min_usd:
            raise ValueError("budget_max_usd must be above budget_min_usd")
        return self


ValueGame = Literal["exposure", "cost"]


class ValueRequest(AnalysisRequest):
    """Each member's contribution: leave-one-out and Shapley value of the coalition game."""

    coalition: CoalitionSpec | None = Field(None, description="None = the scenario's coalition.")
    game: ValueGame = Field(
        "exposure",
        description=(
            "exposure: v(S) = E(empty) - E(S), exposure avoided (share-years); cost: v(S) = C(empty) - C(S),"
            " cost saved (USD) with exposure held at E(empty), the least exposure reachable without any"
            " member's assets."
        ),
    )
    method: Literal["exact", "sampled", "auto"] = Field(
        "exact",
        description=(
            f"exact: every subset (2^n solves, n <= {MAX_EXACT_MEMBERS}); sampled: random member"
            " orders with a confidence interval; auto: exact when allowed, else sampled."
        ),
    )
    permutations: int = Field(200, ge=10, le=5_000, description="Sampled method: random member orders drawn.")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Sampled method: random seed.")
    confidence: float = Field(0.95, ge=0.5, le=0.999, description="Sampled method: interval level.")


class UncertaintyRequest(AnalysisRequest):
    """Monte Carlo over the dataset's low-high ranges, and a one-at-a-time tornado."""

    coalition: CoalitionSpec | None = Field(None, description="None = the scenario's coalition.")
    draws: int = Field(200, ge=2, le=MAX_DRAWS, description=f"Monte Carlo draws (2 to {MAX_DRAWS:,}).")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Seed of the numpy Generator (reproducible).")
    distribution: Literal["triangular", "uniform"] = Field(
        "triangular",
        description="triangular(low, value, high) or uniform(low, high) for each ranged value.",
    )
    correlation: Literal["group", "independent"] = Field(
        "group",
        description=(
            "group: one random quantile per parameter group and draw (all capex rows high"
            " together); independent: one per row."
        ),
    )
    parameters: list[str] | None = Field(
        None, max_length=50, description="Parameter groups to vary (none = every group with ranges)."
    )
    tornado: bool = Field(True, description="Also run each group at its low and its high alone.")


class ExportControlStress(StrictModel):
    """The adversaries ban (or cap) exports of some materials/stages to the coalition."""

    kind: Literal["export_control"] = "export_control"
    name: str | None = Field(None, max_length=100)
    materials: list[str] | None = Field(None, max_length=50, description="None = every material.")
    stages: list[str] | None = Field(None, max_length=20, description="None = every stage.")
    from_year: Year | None = Field(None, description="First year (none = the year after the start).")
    to_year: Year | None = Field(None, description="Last year (none = to the end).")
    max_share: float = Field(0.0, ge=0.0, le=1.0, description="Share still allowed (0 = ban).")
    include_reexports: bool = True


class CountryCutoffStress(StrictModel):
    """A country stops supplying the coalition for the whole horizon.

    A third party sells nothing and hosts no build; a member loses its plants, projects,
    reserves, stockpile and build sites (its demand stays); an adversary bans all exports.
    """

    kind: Literal["country_cutoff"] = "country_cutoff"
    name: str | None = Field(None, max_length=100)
    country: ISO3


class ProjectDelayStress(StrictModel):
    """Announced projects come online later."""

    kind: Literal["project_delay"] = "project_delay"
    name: str | None = Field(None, max_length=100)
    project: str | None = Field(None, max_length=200, description="Project name (none = every project).")
    years: int = Field(ge=1, le=30, description="Delay in years.")


class CapacityLossStress(StrictModel):
    """Part of a country's existing and announced capacity is lost (an outage, a closure)."""

    kind: Literal["capacity_loss"] = "capacity_loss"
    name: str | None = Field(None, max_length=100)
    country: ISO3
    stages: list[str] | None = Field(None, max_length=20, description="None = every stage.")
    fraction: float = Field(1.0, gt=0.0, le=1.0, description="Share of capacity lost.")


class DemandSurgeStress(StrictModel):
    """Coalition demand is higher than planned by a factor."""

    kind: Literal["demand_surge"] = "demand_surge"
    name: str | None = Field(None, max_length=100)
    factor: float = Field(ge=0.0, le=10.0, description="Multiplier on demand (1.25 = +25%).")
    materials: list[str] | None = Field(None, max_length=50, description="None = every material.")


StressSpec = Annotated[
    ExportControlStress | CountryCutoffStress | ProjectDelayStress | CapacityLossStress | DemandSurgeStress,
    Field(discriminator="kind"),
]


class StressRequest(AnalysisRequest):
    """Named or custom disruptions run against a coalition, each vs the undisturbed case."""

    coalition: CoalitionSpec | None = Field(None, description="None = the scenario's coalition.")
    stresses: list[str | StressSpec] | None = Field(
        None,
        min_length=1,
        max_length=MAX_STRESSES,
        description=(
            "Named stress scenarios (see `coalition stress --list`) or custom specs; none = the standard set."
        ),
    )


# --- results ----------------------------------------------------------------------------


class RunMeta(BaseModel):
    """How the analysis ran (differs between runs; the numbers elsewhere do not)."""

    backend: str
    workers: int
    solves: int
    failed: int
    seconds: float


class ItemOutcome(BaseModel):
    """Status of one solve of the sweep."""

    status: Literal["ok", "infeasible", "error", "cancelled"]
    message: str = ""


class CompareCell(BaseModel):
    """One coalition on one scenario."""

    coalition: str
    members: list[str]
    scenario: str
    status: Literal["ok", "infeasible", "error", "cancelled"]
    message: str = ""
    rank: int | None = Field(None, description="1 = least exposed within its scenario.")
    exposure_share_years: float | None = None
    mean_exposed_share: float | None = None
    final_exposed_share: float | None = None
    exposed_t: float | None = None
    unmet_t: float | None = None
    cost_usd: float | None = None
    capex_usd: float | None = None
    exposed_share_by_year: list[dict[str, Any]] = Field(
        default_factory=list, description="year, material, exposed_share, unmet_share."
    )
    capacity_by_stage: dict[str, float] = Field(default_factory=dict, description="New capacity built, t/yr, by stage.")
    builds_by_host: list[dict[str, Any]] = Field(
        default_factory=list, description="country, stage, capacity_t_per_yr, capex_usd."
    )
    paid_by: dict[str, float] = Field(default_factory=dict, description="Capex by payer, USD.")


class CompareResult(BaseModel):
    """Side-by-side table and ranking of coalitions on each scenario."""

    kind: Literal["compare"] = "compare"
    coalitions: list[str]
    scenarios: list[str]
    cells: list[CompareCell]
    ranking: dict[str, list[str]] = Field(
        description="Scenario -> coalitions from least to most exposed (ties: cheaper first)."
    )
    meta: RunMeta


class FrontierPoint(BaseModel):
    """One budget of the epsilon-constraint sweep."""

    budget_usd: float | None
    status: Literal["ok", "infeasible", "error", "cancelled"]
    message: str = ""
    exposure_share_years: float | None = None
    exposed_t: float | None = None
    unmet_t: float | None = None
    capex_usd: float | None = None
    cost_usd: float | None = None
    exposure_reduction_per_busd: float | None = Field(
        None, description="Exposure removed per USD bn since the previous point."
    )
    dominated: bool = Field(False, description="A cheaper point is as little exposed.")
    knee: bool = False


class FrontierResult(BaseModel):
    """Exposure against capital budget, minimum exposure at each budget."""

    kind: Literal["frontier"] = "frontier"
    coalition: list[str]
    points: list[FrontierPoint]
    unlimited: FrontierPoint = Field(description="The plan with no budget limit.")
    knee_index: int | None = Field(None, description="Index in points of the knee.")
    meta: RunMeta


class MemberValue(BaseModel):
    """One member's contribution to the coalition's value (in the game's `unit`)."""

    member: str
    standalone: float | None = Field(None, description="v({i}), in the game's unit.")
    leave_one_out: float | None = Field(None, description="v(N) - v(N without i), in the game's unit.")
    shapley: float = Field(description="Shapley value phi_i, in the game's unit.")
    ci_low: float | None = None
    ci_high: float | None = None
    share: float = Field(description="Suggested share of the burden: max(phi_i, 0) / sum.")
    suggested_capex_usd: float | None = None
    suggested_cost_usd: float | None = None


class ValueResult(BaseModel):
    """Shapley values of the coalition game (they add up to v(N))."""

    kind: Literal["value"] = "value"
    coalition: list[str]
    method: Literal["exact", "sampled"]
    game: ValueGame = Field("exposure", description="exposure (exposure avoided) or cost (cost saved at E(empty)).")
    unit: Literal["share-years", "USD"] = Field(
        "share-years", description="Unit of v, Shapley values, leave-one-out and standalone values."
    )
    definition: str
    exposure_without_members: float = Field(
        description="E(empty): least exposure with no member's assets, share-years."
    )
    exposure_grand: float = Field(description="E(N): least exposure with the whole coalition's assets, share-years.")
    exposure_cap: float | None = Field(
        None, description="Cost game: the exposure every C(S) is held to, E(empty)(1 + tol) + abs, share-years."
    )
    cost_without_members: float | None = Field(None, description="Cost game: C(empty), USD.")
    cost_grand: float | None = Field(None, description="Cost game: C(N), USD.")
    grand_value: float = Field(
        description="v(N): E(empty) - E(N) share-years (exposure game) or C(empty) - C(N) USD (cost game)."
    )
    shapley_sum: float
    grand_capex_usd: float | None = None
    grand_cost_usd: float | None = None
    members: list[MemberValue]
    subsets_solved: int
    permutations: int | None = None
    subsets: list[dict[str, Any]] = Field(
        default_factory=list,
        description=(
            "For each subset solved: members, exposure_share_years (E(S); cost game: the exposure of the"
            " cheapest plan), value, and in the cost game cost_usd (C(S))."
        ),
    )
    meta: RunMeta


class Percentiles(BaseModel):
    """Summary of one output's distribution over the Monte Carlo draws."""

    mean: float
    std: float
    min: float
    p5: float
    p25: float
    p50: float
    p75: float
    p95: float
    max: float


class TornadoBar(BaseModel):
    """One parameter group at its low and at its high, everything else at its value."""

    group: str
    rows: int
    exposure_low: float | None
    exposure_high: float | None
    exposure_swing: float | None
    cost_low_usd: float | None
    cost_high_usd: float | None
    cost_swing_usd: float | None


class DrawRecord(BaseModel):
    """One Monte Carlo draw."""

    draw: int
    status: Literal["ok", "infeasible", "error", "cancelled"]
    exposure_share_years: float | None = None
    exposed_t: float | None = None
    unmet_t: float | None = None
    cost_usd: float | None = None
    quantiles: dict[str, float] = Field(default_factory=dict, description="Group -> quantile drawn.")


class UncertaintyResult(BaseModel):
    """Distributions of exposure and cost, and the tornado."""

    kind: Literal["uncertainty"] = "uncertainty"
    coalition: list[str]
    seed: int
    distribution: str
    correlation: str
    groups: dict[str, int] = Field(description="Parameter group -> ranged rows varied.")
    base: DrawRecord
    draws_ok: int
    draws_failed: int
    exposure_share_years: Percentiles | None
    exposed_t: Percentiles | None
    unmet_t: Percentiles | None
    cost_usd: Percentiles | None
    exposed_share_by_year: list[dict[str, Any]] = Field(
        default_factory=list, description="year, p5, p50, p95 of the mean exposed share over materials."
    )
    tornado: list[TornadoBar] = Field(default_factory=list, description="Largest exposure swing first.")
    samples: list[DrawRecord] = Field(default_factory=list)
    meta: RunMeta


class StressOutcome(BaseModel):
    """One disruption against the undisturbed case."""

    name: str
    kind: str
    description: str
    status: Literal["ok", "infeasible", "error", "cancelled"]
    message: str = ""
    exposure_share_years: float | None = None
    exposure_delta: float | None = None
    exposed_t: float | None = None
    exposed_t_delta: float | None = None
    unmet_t: float | None = None
    unmet_t_delta: float | None = None
    cost_usd: float | None = None
    cost_delta_usd: float | None = None
    worst_year: int | None = Field(
        None, description="Year unmet demand rises most (else the exposed share), vs the baseline."
    )
    by_year: list[dict[str, Any]] = Field(
        default_factory=list,
        description="year, exposed_share, unmet_share and their change vs the baseline (mean over materials).",
    )


class StressResult(BaseModel):
    """How exposure and unmet demand respond to each disruption."""

    kind: Literal["stress"] = "stress"
    coalition: list[str]
    baseline: StressOutcome
    stresses: list[StressOutcome]
    meta: RunMeta

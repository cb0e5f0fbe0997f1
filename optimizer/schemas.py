"""Pydantic schemas shared by the library, the CLI and the REST service.

A `Scenario` is what a user asks; a `ResultModel` is what every front end returns.
Checks that need no dataset (years in order, finite numbers, well-formed codes) live
here; checks against the dataset (unknown country, adversary inside the coalition,
unknown stage in an override) run in `optimizer.scenario.resolve_scenario`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from typing_extensions import TypedDict

from optimizer.errors import InputIssue, ScenarioError

ISO3 = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 3166 alpha-3 country code")]
Year = Annotated[int, Field(ge=2000, le=2100, description="Calendar year")]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegativeUSD = Annotated[float, Field(ge=0.0, description="US dollars")]

MAX_LIST = 500  # no list in a scenario legitimately needs more entries


class StrictModel(BaseModel):
    """Base: unknown keys, NaN and infinities are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_assignment=True)


class ExportControl(StrictModel):
    """An adversary export control: from a year, shipments to the coalition are banned or capped."""

    from_year: Year = Field(description="First year the control applies.")
    to_year: Year | None = Field(None, description="Last year it applies (none = to the end).")
    stages: list[str] | None = Field(
        None, max_length=20, description="Stages whose products are controlled (none = all)."
    )
    materials: list[str] | None = Field(None, max_length=50, description="Materials controlled (none = all).")
    max_share: Share = Field(
        0.0,
        description=(
            "Most adversary product of a controlled stage that may reach the coalition each"
            " year, as a share of the coalition's demand for the material (0 = total ban)."
        ),
    )
    origins: list[ISO3] | None = Field(
        None,
        max_length=50,
        description=(
            "Countries whose shipments are controlled (none = the scenario's adversaries). Naming"
            " a non-adversary models a supplier cut off, e.g. a licence revoked from a year."
        ),
    )
    include_reexports: bool = Field(
        True,
        description=(
            "Also cap adversary-origin (exposed) material reaching the coalition through third"
            " countries, as extraterritorial controls do."
        ),
    )

    @model_validator(mode="after")
    def _years_in_order(self) -> ExportControl:
        if self.to_year is not None and self.to_year < self.from_year:
            raise ValueError("to_year must not be before from_year")
        return self


class TimelineTarget(StrictModel):
    """A dependence target: from `from_year`, at most this share of demand may be exposed or unmet.

    Formally: free (non-exposed) deliveries >= (1 - max_exposed_share) x demand, so leaving
    demand unmet does not satisfy a target.
    """

    from_year: Year
    max_exposed_share: Share = Field(description="Largest share of demand not met by free supply.")
    materials: list[str] | None = Field(None, max_length=50, description="None = each material.")


class Override(StrictModel):
    """Replace or scale values of one dataset table for this run.

    Rows are chosen by `where` (column -> value; empty = every row). `delete` removes them,
    `set` writes values,
    `scale` multiplies numeric columns (whole-number columns such as lead times are rounded);
    `add_rows` appends complete rows.
    """

    table: str = Field(description="Dataset table name, e.g. lead_times, capex, demand.")
    where: dict[str, str | int | float] = Field(default_factory=dict)
    delete: bool = Field(False, description="Delete the rows `where` selects (e.g. close a lane).")
    set: dict[str, str | int | float | None] = Field(default_factory=dict)
    scale: dict[str, Annotated[float, Field(ge=0.0)]] = Field(default_factory=dict)
    add_rows: list[dict[str, str | int | float | None]] = Field(default_factory=list, max_length=MAX_LIST)

    @model_validator(mode="after")
    def _does_something(self) -> Override:
        if not (self.set or self.scale or self.add_rows or self.delete):
            raise ValueError("an override needs at least one of set, scale, add_rows or delete")
        if self.delete and (self.set or self.scale):
            raise ValueError("delete removes the selected rows: it cannot be combined with set or scale")
        return self


class Objective(StrictModel):
    """How the two goals, low exposure and low cost, are traded off."""

    mode: Literal["lexicographic", "weighted", "exposure"] = Field(
        "lexicographic",
        description=(
            "lexicographic: minimise exposure (+ penalised unmet demand), then cost at that"
            " exposure; weighted: one solve of exposure + cost_weight x cost; exposure: the"
            " first phase only (the allocation is exposure-optimal, its cost not minimised)."
        ),
    )
    unmet_penalty: float | None = Field(
        None,
        gt=1.0,
        le=1e6,
        description=(
            "Penalty per tonne of unmet demand, in tonnes of exposure (must exceed 1 so that"
            " buying exposed supply beats leaving demand unmet). None = dataset default."
        ),
    )
    cost_weight_per_musd: float = Field(
        0.01, ge=0.0, le=1e6, description="Weighted mode: tonnes of exposure one USD million is worth."
    )
    exposure_tolerance: float = Field(
        1e-7, ge=0.0, le=0.1, description="Relative slack on exposure when minimising cost."
    )


OnOff = Literal["off", "choose", "on"]
Tolerance = Annotated[float, Field(ge=1e-10, le=1e-3)]


class HighsOptions(TypedDict, total=False):
    """The HiGHS options a scenario may set: numerical and algorithmic ones only.

    An allow-list: options that name files, logging or output, threads or time limits
    (set through `SolveOptions` or by whoever runs the solve) are refused with the option
    named, so that a scenario from elsewhere cannot write files or flood logs.
    """

    __pydantic_config__ = ConfigDict(extra="forbid", allow_inf_nan=False)  # type: ignore[misc]

    solver: Literal["choose", "simplex", "ipm", "ipx", "pdlp"]
    simplex_strategy: Annotated[int, Field(ge=0, le=4, strict=True)]
    presolve: OnOff
    parallel: OnOff
    run_crossover: OnOff
    primal_feasibility_tolerance: Tolerance
    dual_feasibility_tolerance: Tolerance
    optimality_tolerance: Tolerance
    ipm_optimality_tolerance: Annotated[float, Field(ge=1e-12, le=1e-3)]
    simplex_scale_strategy: Annotated[int, Field(ge=0, le=4, strict=True)]
    simplex_dual_edge_weight_strategy: Annotated[int, Field(ge=-1, le=2, strict=True)]
    simplex_primal_edge_weight_strategy: Annotated[int, Field(ge=-1, le=2, strict=True)]
    random_seed: Annotated[int, Field(ge=0, le=2_147_483_647, strict=True)]


ALLOWED_SOLVER_OPTIONS: tuple[str, ...] = tuple(HighsOptions.__annotations__)
# Options people reach for that have their own field (or are the server's to set).
SOLVER_OPTION_HINTS = {
    "threads": "set options.threads instead",
    "time_limit": "set options.time_limit_s instead",
}


def solver_option_refusal(name: str) -> str:
    """Why `name` is refused as a solver option, with what is allowed."""
    hint = SOLVER_OPTION_HINTS.get(name)
    allowed = ", ".join(ALLOWED_SOLVER_OPTIONS)
    return f"'{name}' is not an allowed HiGHS option ({hint + '; ' if hint else ''}allowed: {allowed})"


class SolveOptions(StrictModel):
    """Solver settings; each has a sensible default."""

    time_limit_s: float | None = Field(None, gt=0.0, le=86_400.0, description="Wall-clock cap.")
    threads: int = Field(1, ge=1, le=64, description="HiGHS threads.")
    solver_options: HighsOptions = Field(
        default_factory=lambda: HighsOptions(),
        description=(
            "HiGHS options from an allow-list of numerical and algorithmic ones, e.g."
            " {simplex_strategy: 4}; options naming files, logs, output, threads or time"
            " limits are refused."
        ),
    )
    duals: bool = Field(True, description="Compute the bottleneck report from duals.")
    cost_phase_start: Literal["cold", "warm"] = Field(
        "cold",
        description=(
            "How the lexicographic cost phase starts: from scratch by dual simplex (measured faster"
            " on the shipped scenarios) or from the exposure phase's basis by primal simplex"
            " (faster on the larger synthetic benchmarks); docs/performance.md."
        ),
    )


class Scenario(StrictModel):
    """What a user asks the optimizer: a coalition, a horizon, money, adversary policy."""

    name: str = Field("custom", max_length=100)
    description: str = Field("", max_length=2000)
    dataset: str = Field("rare_earths", max_length=500, description="Shipped dataset name or a directory path.")
    coalition: str | list[str] = Field(
        "five_eyes_japan",
        description="Preset name (see `coalition datasets`) or a list of ISO3 codes.",
    )
    adversaries: list[ISO3] = Field(default_factory=lambda: ["CHN"], min_length=1, max_length=50)
    start_year: Year = 2026
    end_year: Year = 2040
    budget_usd: NonNegativeUSD | None = Field(
        20e9, description="Capital budget for new capacity over the horizon (None = unlimited)."
    )
    member_budgets_usd: dict[str, NonNegativeUSD] = Field(
        default_factory=dict,
        description="Per-member cap on co-financing contributions; members not listed are uncapped.",
    )
    build_hosts: Literal["coalition", "coalition_and_third_parties"] = Field(
        "coalition_and_third_parties",
        description="Where new capacity may be built (never in an adversary country).",
    )
    export_controls: list[ExportControl] = Field(default_factory=list, max_length=100)
    targets: list[TimelineTarget] = Field(default_factory=list, max_length=100)
    objective: Objective = Field(default_factory=Objective)
    overrides: list[Override] = Field(default_factory=list, max_length=MAX_LIST)
    options: SolveOptions = Field(default_factory=SolveOptions)

    @field_validator("coalition")
    @classmethod
    def _coalition_shape(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list):
            if not value:
                raise ValueError("coalition is empty: name a preset or list ISO3 codes")
            if len(value) > MAX_LIST:
                raise ValueError(f"coalition lists {len(value)} countries; at most {MAX_LIST}")
            bad = [code for code in value if not (len(code) == 3 and code.isalpha() and code.isupper())]
            if bad:
                raise ValueError(f"not ISO 3166 alpha-3 codes: {bad}")
            if len(set(value)) != len(value):
                raise ValueError("coalition lists a country twice")
        elif not value.strip():
            raise ValueError("coalition is empty: name a preset or list ISO3 codes")
        return value

    @model_validator(mode="after")
    def _years_in_order(self) -> Scenario:
        if self.start_year > self.end_year:
            raise ValueError(
                f"start_year {self.start_year} is after end_year {self.end_year};"
                " the horizon needs start_year <= end_year"
            )
        if self.end_year - self.start_year > 60:
            raise ValueError("horizon longer than 60 years")
        return self

    def content_hash(self) -> str:
        """Stable SHA-256 of the scenario's content (for storage and caching)."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    @classmethod
    def from_file(cls, path: str | Path) -> Scenario:
        """Load a scenario from a YAML or JSON file, with errors naming the field."""
        path = Path(path)
        if not path.is_file():
            raise ScenarioError(f"scenario file {path} does not exist", location="scenario")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"{path} is not valid YAML/JSON: {exc}") from exc
        return cls.from_data(data, source=str(path))

    @classmethod
    def from_data(cls, data: Any, source: str = "scenario") -> Scenario:
        """Validate a mapping into a Scenario, turning pydantic errors into a ScenarioError."""
        from pydantic import ValidationError

        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ScenarioError(f"{source} must be a mapping of fields, got {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ScenarioError(validation_issues(exc, prefix="scenario")) from exc


def validation_issues(exc: Any, prefix: str = "") -> list[InputIssue]:
    """Turn a pydantic ValidationError into InputIssues with dotted field paths."""
    issues = []
    for error in exc.errors():
        loc = ".".join(str(part) for part in error["loc"])
        location = f"{prefix}.{loc}" if prefix and loc else (loc or prefix)
        message = error["msg"]
        if error["type"] == "extra_forbidden" and _is_solver_option(error["loc"]):
            message = solver_option_refusal(str(error["loc"][-1]))
        elif error["type"] == "extra_forbidden":
            message = "unknown field; remove it or check its spelling"
        elif error["type"] == "finite_number":
            message = "must be a finite number (NaN and infinity are not allowed)"
        issues.append(InputIssue(location, message))
    return issues


def _is_solver_option(loc: tuple[Any, ...]) -> bool:
    """True when a pydantic location points at one key of `options.solver_options`."""
    return len(loc) >= 2 and loc[-2] == "solver_options"


# --- results -------------------------------------------------------------------------

Status = Literal["optimal", "infeasible", "unbounded", "time_limit", "error"]
Record = dict[str, Any]


class Violation(BaseModel):
    """One elastic slack the model needed: a hard requirement that could not be met."""

    kind: Literal["target", "budget", "member_budget", "stockpile"]
    amount: float
    unit: str
    country: str | None = None
    material: str | None = None
    year: int | None = None
    explanation: str


class PhaseTiming(BaseModel):
    """Seconds spent in each step of one run."""

    load: float = 0.0
    build: float = 0.0
    solve: float = 0.0
    extract: float = 0.0
    total: float = 0.0


class ModelInfo(BaseModel):
    """Size of the LP and what solved it."""

    variables: int = 0
    constraints: int = 0
    nonzeros: int | None = None
    solver: str = "highs"
    solver_version: str = ""
    model_version: str = ""
    objective_mode: str = "lexicographic"
    solves: int = 0
    seconds: PhaseTiming = Field(default_factory=PhaseTiming)


class ResultModel(BaseModel):
    """Everything a solve returns: `Result.to_dict()`, `coalition solve --json` and the REST body."""

    status: Status
    message: str = ""
    scenario: Record
    scenario_hash: str
    coalition: list[str]
    adversaries: list[str]
    objective: dict[str, float | None] = Field(default_factory=dict)
    total_cost_usd: float | None = None
    cost_breakdown_usd: dict[str, float] = Field(default_factory=dict)
    exposure_share_by_year: list[Record] = Field(default_factory=list)
    adversary_share_by_stage: list[Record] = Field(default_factory=list)
    deliveries: list[Record] = Field(
        default_factory=list,
        description="Per member, material and year: demand, free and exposed deliveries, stock use, unmet (t).",
    )
    builds: list[Record] = Field(default_factory=list)
    production: list[Record] = Field(default_factory=list)
    shipments: list[Record] = Field(default_factory=list)
    unmet_demand: list[Record] = Field(default_factory=list)
    stockpile: list[Record] = Field(default_factory=list)
    financing: list[Record] = Field(default_factory=list)
    cost_by_host: list[Record] = Field(default_factory=list)
    cost_by_payer: list[Record] = Field(default_factory=list)
    shadow_prices: dict[str, Any] = Field(default_factory=dict)
    violations: list[Violation] = Field(default_factory=list)
    model: ModelInfo = Field(default_factory=ModelInfo)

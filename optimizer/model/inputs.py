"""Model inputs: sparse index sets and parameters, computed once from a resolved scenario.

Everything the Pyomo model needs is a plain Python dict or list here, so that building
the model is only wiring (see build.py), and tests can inspect the inputs directly.
Index sets are sparse: a (country, stage, material) exists only where capacity exists,
is announced, or may be built; trade goes through two market pools (to the coalition,
to everyone else) plus the explicit lanes of the data, so the model grows linearly in
countries rather than with their square.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from optimizer.scenario import ResolvedScenario

FREE, EXPOSED = "free", "exposed"
GRADES = (FREE, EXPOSED)
COALITION_POOL, REST_POOL = "coalition", "rest"

# Penalties of the elastic relaxation, in objective units (share-years of demand).
TARGET_SLACK_PENALTY = 1e5  # per share-year of a missed target
# In the diagnosis solve money is nearly free next to a missed target, so the budget slack
# measures how much money would close the gap, and what remains is what money cannot fix.
BUDGET_SLACK_PENALTY_PER_USD = 1e-9

Key3 = tuple[str, str, str]


@dataclass
class ModelInputs:
    """Sets and parameters of one scenario's LP."""

    countries: list[str]
    coalition: list[str]
    adversaries: list[str]
    third_parties: list[str]
    stages: list[str]
    materials: list[str]
    years: list[int]
    hosts: list[str]
    # parameters
    utilisation: dict[str, float]
    ramp: dict[str, list[float]]
    yield_: dict[tuple[str, str], float]
    existing: dict[tuple[str, str, str, int], float]  # capacity online in year t
    lead: dict[tuple[str, str], int]
    capex: dict[Key3, float]  # USD per t/yr, country factor included
    opex: dict[tuple[str, str], float]
    max_build: dict[Key3, float]
    reserve_cap: dict[tuple[str, str], float]  # most new mine capacity, t/yr
    demand: dict[tuple[str, str, int], float]
    material_weight: dict[str, float]  # 1 / mean yearly coalition demand
    unmet_penalty: float
    third_party_share: dict[str, float]  # every non-adversary, as if it were a third party
    new_build_offtake: dict[str, float]  # share of new-build output the coalition can count on
    pool_transport: dict[str, float]
    pool_tariff: dict[tuple[str, str], float]  # (origin, stage) -> USD/t into the coalition pool
    lanes: list[tuple[str, str, str, str]]  # origin, destination, stage, material
    lane_cost: dict[tuple[str, str, str, str], float]  # USD/t incl. tariff
    stock_initial: dict[tuple[str, str], float]
    stock_capacity: dict[tuple[str, str], float]
    stock_holding: dict[tuple[str, str], float]
    budget_usd: float | None
    member_budgets: dict[str, float]
    # Active members. The structure is built for `coalition`; a member-parametric model
    # (built with parametric_members) can switch any subset on by changing parameters.
    members: list[str] = field(default_factory=list)
    demand_data: dict[tuple[str, str, int], float] = field(default_factory=dict)
    parametric_members: bool = False
    # sparse index sets
    producers: list[Key3] = field(default_factory=list)  # (r, s, m) that can ever produce
    builds: list[tuple[str, str, str, int]] = field(default_factory=list)
    # control rows: (control, stage, material, year) -> (share, include_reexports, origins or None)
    controls: dict[tuple[int, str, str, int], tuple[float, bool, tuple[str, ...] | None]] = field(default_factory=dict)
    targets: dict[tuple[int, str, int], float] = field(default_factory=dict)

    @property
    def first_stage(self) -> str:
        """The stage with no input (mining)."""
        return self.stages[0]

    @property
    def last_stage(self) -> str:
        """The stage whose product meets demand."""
        return self.stages[-1]

    def previous(self, stage: str) -> str:
        """The stage that feeds `stage`."""
        return self.stages[self.stages.index(stage) - 1]

    def grades(self, country: str, stage: str) -> tuple[str, ...]:
        """Provenance grades a country can produce at a stage.

        Adversaries make only exposed output; elsewhere a mine's output is free, and later
        stages carry the grade of their input.
        """
        if country in self.adversaries:
            return (EXPOSED,)
        if stage == self.first_stage:
            return (FREE,)
        return GRADES

    @property
    def sellers_limited(self) -> list[str]:
        """Countries whose sales to the coalition are capped.

        Third parties; in a member-parametric model every non-adversary, members' caps being 1.
        """
        if self.parametric_members:
            return [r for r in self.countries if r not in self.adversaries]
        return list(self.third_parties)

    def share_caps(self, country: str) -> tuple[float, float]:
        """(existing-capacity share, new-build offtake) a seller may sell the coalition."""
        if country in self.members:
            return (1.0, 1.0)  # redundant with capacity: members sell freely
        return (self.third_party_share[country], self.new_build_offtake[country])

    def activate(self, members: list[str]) -> None:
        """Make `members` (a subset of the coalition) the active ones: demand and weights."""
        unknown = [m for m in members if m not in self.coalition]
        if unknown:
            raise ValueError(f"{unknown} are not in the model's coalition {self.coalition}")
        if not self.parametric_members and set(members) != set(self.coalition):
            raise ValueError("this model was not built member-parametric (prepare(..., parametric_members=True))")
        self.members = [q for q in self.coalition if q in members]
        active = set(self.members)
        self.demand = {k: (v if k[0] in active else 0.0) for k, v in self.demand_data.items()}
        self.material_weight = material_weights(self.demand, self.materials, len(self.years))

    def ramp_factor(self, stage: str, years_online: int) -> float:
        """Share of a build usable in its `years_online`-th year online (0-based)."""
        ramp = self.ramp[stage]
        return ramp[years_online] if years_online < len(ramp) else 1.0


def _rows(table: pd.DataFrame, *columns: str) -> Iterator[tuple[Any, ...]]:
    """The named columns row by row, with the values itertuples gives.

    itertuples makes a namedtuple class on every call and slices every column, even those
    a caller never reads; Series.tolist() hands back the same Python scalars.
    """
    return zip(*(table[col].tolist() for col in columns), strict=True)


def _lead_times(rs: ResolvedScenario, stages: list[str]) -> dict[tuple[str, str], int]:
    table = rs.dataset["lead_times"]
    rows = list(_rows(table, "country", "stage", "lead_time_years"))
    default = {stage: int(years) for country, stage, years in rows if country is None}
    specific = {(country, stage): int(years) for country, stage, years in rows if country is not None}
    return {(r, s): specific.get((r, s), default[s]) for r in rs.dataset.countries for s in stages}


def _existing_capacity(rs: ResolvedScenario, years: list[int]) -> dict[tuple[str, str, str, int], float]:
    existing: dict[tuple[str, str, str, int], float] = defaultdict(float)
    for country, stage, material, capacity in _rows(
        rs.dataset["capacity"], "country", "stage", "material", "capacity_t_per_yr"
    ):
        for t in years:
            existing[(country, stage, material, t)] += capacity
    for country, stage, material, capacity, online_year in _rows(
        rs.dataset["projects"], "country", "stage", "material", "capacity_t_per_yr", "online_year"
    ):
        for t in years:
            if t >= online_year:
                existing[(country, stage, material, t)] += capacity
    return dict(existing)


def _max_build(rs: ResolvedScenario, hosts: list[str], stages: list[str], materials: list[str]) -> dict[Key3, float]:
    rows = list(_rows(rs.dataset["build_limits"], "country", "stage", "material", "max_build_t_per_yr"))
    default = {(stage, material): limit for country, stage, material, limit in rows if country is None}
    specific = {(country, stage, material): limit for country, stage, material, limit in rows if country is not None}
    limits: dict[Key3, float] = {}
    for r in hosts:
        for s in stages:
            for m in materials:
                value = specific.get((r, s, m), default.get((s, m)))
                if value is not None:
                    limits[(r, s, m)] = value
    return limits


def _demand(rs: ResolvedScenario, years: list[int]) -> dict[tuple[str, str, int], float]:
    demand = {}
    columns = ("country", "material", "demand_t_per_yr", "growth_rate", "base_year")
    for country, material, base, growth, base_year in _rows(rs.dataset["demand"], *columns):
        if country not in rs.coalition:
            continue
        for t in years:
            demand[(country, material, t)] = base * (1 + growth) ** (t - base_year)
    return demand


def _tariff_lookup(rs: ResolvedScenario, stages: list[str]) -> dict[tuple[str, str, str], float]:
    """(importer, origin, stage) -> ad-valorem rate; a row with empty stage covers every stage."""
    rates: dict[tuple[str, str, str], float] = {}
    for importer, origin, stage, rate in _rows(rs.dataset["tariffs"], "importer", "origin", "stage", "tariff_rate"):
        for s in [stage] if stage is not None else stages:
            rates[(importer, origin, s)] = rate
    return rates


def material_weights(demand: dict[tuple[str, str, int], float], materials: list[str], years: int) -> dict[str, float]:
    """w_m = |T| / total demand of m: exposure counts in share-years of each material."""
    weight = {}
    for m in materials:
        total = sum(v for (_q, mm, _t), v in demand.items() if mm == m)
        weight[m] = years / total if total > 0 else 0.0
    return weight


def build_inputs(rs: ResolvedScenario, parametric_members: bool = False) -> ModelInputs:
    """Turn a resolved scenario into the LP's sets and parameters.

    With `parametric_members`, the model is built so that any subset of the coalition can
    be made the active members later by changing parameters only (see ModelInputs.activate).
    """
    ds, sc = rs.dataset, rs.scenario
    years = rs.years
    stages, materials = ds.stages, ds.materials
    coalition, adversaries = rs.coalition, rs.adversaries
    hosts = list(coalition) if sc.build_hosts == "coalition" else coalition + rs.third_parties
    hosts = [r for r in ds.countries if r in hosts]

    # Stage attributes by stage name (what set_index("stage")[col].to_dict() gave).
    stage_table = ds["stages"]
    stage_names = stage_table["stage"].tolist()

    def by_stage(col: str) -> dict[str, Any]:
        return dict(zip(stage_names, stage_table[col].tolist(), strict=True))

    factor = dict(zip(ds["countries"]["iso3"].tolist(), ds["countries"]["capex_factor"].tolist(), strict=True))
    capex_base = {(s, m): v for s, m, v in _rows(ds["capex"], "stage", "material", "capex_usd_per_t_yr")}
    ore_share = dict(zip(ds["materials"]["material"].tolist(), ds["materials"]["ore_share"].tolist(), strict=True))
    mine_life = ds.parameter("mine_life_years", 20.0)
    reserve_cap = {
        (country, m): reserves * ore_share[m] / mine_life
        for country, reserves in _rows(ds["reserves"], "country", "reserves_t")
        for m in materials
    }
    demand = _demand(rs, years)
    weight = material_weights(demand, materials, len(years))

    default_share = ds.parameter("default_third_party_share", 0.5)
    tp = ds["third_party"]
    tp_table = dict(zip(tp["country"].tolist(), tp["max_share_to_coalition"].tolist(), strict=True))
    offtake_table = dict(zip(tp["country"].tolist(), tp["new_build_offtake_share"].tolist(), strict=True))
    default_offtake = ds.parameter("default_new_build_offtake", 1.0)
    sellers = [r for r in ds.countries if r not in adversaries]
    offtake = {r: offtake_table.get(r, default_offtake) for r in sellers}
    # A coalition does not build where it cannot count on the output.
    hosts = [r for r in hosts if r in coalition or offtake[r] > 0]
    price = by_stage("price_usd_per_t")
    tariff = _tariff_lookup(rs, stages)
    pool_tariff = {}
    for r in ds.countries:
        if r in coalition:
            continue
        for s in stages:
            # The coalition pool is one market: charge an origin the mean of the members' rates.
            rate = sum(tariff.get((q, r, s), 0.0) for q in coalition) / len(coalition)
            if rate > 0:
                pool_tariff[(r, s)] = rate * price[s]
    lanes, lane_cost = [], {}
    lane_columns = ("origin", "destination", "stage", "material", "tariff_rate", "transport_usd_per_t")
    for origin, destination, stage, material, tariff_rate, transport in _rows(ds["lanes"], *lane_columns):
        for m in [material] if material is not None else materials:
            key = (origin, destination, stage, m)
            rate = tariff_rate + tariff.get((destination, origin, stage), 0.0)
            lanes.append(key)
            lane_cost[key] = transport + rate * price[stage]

    stock = list(
        _rows(ds["stockpiles"], "country", "material", "initial_stock_t", "capacity_t", "holding_usd_per_t_yr")
    )
    lead = _lead_times(rs, stages)
    ramp_up = by_stage("ramp_up")
    inputs = ModelInputs(
        countries=ds.countries,
        coalition=coalition,
        adversaries=adversaries,
        third_parties=rs.third_parties,
        stages=stages,
        materials=materials,
        years=years,
        hosts=hosts,
        utilisation=by_stage("max_utilisation"),
        ramp={s: [float(x) for x in (ramp_up[s] or [])] for s in stages},
        yield_={(s, m): v for s, m, v in _rows(ds["yields"], "stage", "material", "yield_t_per_t")},
        existing=_existing_capacity(rs, years),
        lead=lead,
        capex={(r, s, m): capex_base[(s, m)] * factor[r] for r in hosts for s in stages for m in materials},
        opex={(s, m): v for s, m, v in _rows(ds["opex"], "stage", "material", "opex_usd_per_t")},
        max_build=_max_build(rs, hosts, stages, materials),
        reserve_cap=reserve_cap,
        demand=demand,
        material_weight=weight,
        unmet_penalty=sc.objective.unmet_penalty or ds.parameter("unmet_penalty", 10.0),
        third_party_share={r: tp_table.get(r, default_share) for r in sellers},
        new_build_offtake=offtake,
        pool_transport=by_stage("transport_usd_per_t"),
        pool_tariff=pool_tariff,
        lanes=lanes,
        lane_cost=lane_cost,
        stock_initial={(r, m): initial for r, m, initial, _cap, _hold in stock if r in coalition},
        stock_capacity={(r, m): capacity for r, m, _init, capacity, _hold in stock if r in coalition},
        stock_holding={(r, m): holding for r, m, _init, _cap, holding in stock if r in coalition},
        budget_usd=sc.budget_usd,
        member_budgets=dict(sc.member_budgets_usd),
    )
    inputs.members = list(coalition)
    inputs.demand_data = dict(demand)
    inputs.parametric_members = parametric_members
    inputs.builds = _build_index(inputs)
    can_produce = {(r, s, m) for (r, s, m, _t) in inputs.builds}
    can_produce |= {(r, s, m) for (r, s, m, _t), v in inputs.existing.items() if v > 0}
    inputs.producers = [(r, s, m) for r in ds.countries for s in stages for m in materials if (r, s, m) in can_produce]
    inputs.controls = _controls(rs, inputs)
    inputs.targets = _targets(rs, inputs)
    return inputs


def _build_index(inputs: ModelInputs) -> list[tuple[str, str, str, int]]:
    """Builds that can come online within the horizon, where building is allowed at all."""
    end = inputs.years[-1]
    index = []
    for r in inputs.hosts:
        for s in inputs.stages:
            for m in inputs.materials:
                if inputs.max_build.get((r, s, m), float("inf")) <= 0:
                    continue
                if s == inputs.first_stage and inputs.reserve_cap.get((r, m), 0.0) <= 0:
                    continue
                for t in inputs.years:
                    if t + inputs.lead[(r, s)] <= end:
                        index.append((r, s, m, t))
    return index


def _controls(
    rs: ResolvedScenario, inputs: ModelInputs
) -> dict[tuple[int, str, str, int], tuple[float, bool, tuple[str, ...] | None]]:
    controls = {}
    for k, control in enumerate(rs.scenario.export_controls):
        for t in inputs.years:
            if t < control.from_year or (control.to_year is not None and t > control.to_year):
                continue
            for s in control.stages or inputs.stages:
                for m in control.materials or inputs.materials:
                    origins = tuple(control.origins) if control.origins is not None else None
                    controls[(k, s, m, t)] = (control.max_share, control.include_reexports, origins)
    return controls


def _targets(rs: ResolvedScenario, inputs: ModelInputs) -> dict[tuple[int, str, int], float]:
    targets = {}
    for k, target in enumerate(rs.scenario.targets):
        for m in target.materials or inputs.materials:
            for t in inputs.years:
                if t >= target.from_year:
                    targets[(k, m, t)] = target.max_exposed_share
    return targets


def demand_frame(inputs: ModelInputs) -> pd.DataFrame:
    """Coalition demand as a tidy table."""
    return pd.DataFrame(
        [(q, m, t, v) for (q, m, t), v in inputs.demand.items()],
        columns=["country", "material", "year", "demand_t"],
    )

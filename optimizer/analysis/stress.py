r"""Stress tests: named or custom disruptions run against a coalition.

Each stress is the base scenario plus a change, solved in one sweep with the undisturbed
baseline; the outcome reports exposure (share-years), exposed and unmet tonnes and cost,
and their change against the baseline, with the mean exposed and unmet share by year
(:math:`\Delta_t = share^{stress}_t - share^{base}_t`) and the worst year: the year unmet
demand rises most (an export ban turns exposed supply into shortage one for one), or, where
no demand goes unmet, the year the exposed share rises most.

Kinds of disruption:

* ``export_control``: the adversaries ban (or cap at ``max_share``) exports of some
  materials/stages to the coalition from a year (default: the year after the start).
* ``country_cutoff``: a country stops supplying the coalition for the whole horizon. A
  third party sells nothing and hosts no build; a member loses its plants, projects,
  reserves, stockpile and build sites (its demand stays); an adversary bans all exports.
* ``project_delay``: one announced project (or all) comes online N years later.
* ``capacity_loss``: a share of a country's existing and announced capacity is lost.
* ``demand_surge``: coalition demand is multiplied by a factor.

Named stresses are generated from the dataset: ``adversary_total_ban``,
``adversary_ban_<material>``, ``adversary_ban_<stage>``, ``cutoff_<iso3>``,
``all_projects_delayed_3y``, ``demand_surge_25pct`` (names are case-insensitive).
"""

from __future__ import annotations

import logging
from typing import Any

from optimizer.analysis.common import (
    base_dataset,
    check_resolves,
    checked,
    engine_for,
    for_coalition,
    mean_share_by_year,
    meta,
    metric,
    resolve_members,
    scenario_payload,
    with_changes,
)
from optimizer.analysis.overrides import check_count, remove_assets, row_overrides, third_party_cutoff
from optimizer.analysis.schemas import (
    CapacityLossStress,
    CountryCutoffStress,
    DemandSurgeStress,
    ExportControlStress,
    ProjectDelayStress,
    StressOutcome,
    StressRequest,
    StressResult,
)
from optimizer.analysis.sweep import ItemResult, Progress, ShouldCancel, SweepItem
from optimizer.data.loader import Dataset
from optimizer.errors import InputIssue, ScenarioError
from optimizer.schemas import Scenario

logger = logging.getLogger(__name__)

Stress = ExportControlStress | CountryCutoffStress | ProjectDelayStress | CapacityLossStress | DemandSurgeStress
MAX_ONLINE_YEAR = 2060  # the data dictionary's bound on projects.online_year


def named_stresses(dataset: Dataset, scenario: Scenario) -> dict[str, Stress]:
    """Every named stress scenario the dataset offers (lower-case name -> spec)."""
    named: dict[str, Stress] = {"adversary_total_ban": ExportControlStress(name="adversary_total_ban")}
    for m in dataset.materials:
        name = f"adversary_ban_{m.lower()}"
        named[name] = ExportControlStress(name=name, materials=[m])
    for s in dataset.stages:
        name = f"adversary_ban_{s.lower()}"
        named.setdefault(name, ExportControlStress(name=name, stages=[s]))
    if len(dataset["projects"]):
        named["all_projects_delayed_3y"] = ProjectDelayStress(name="all_projects_delayed_3y", years=3)
    named["demand_surge_25pct"] = DemandSurgeStress(name="demand_surge_25pct", factor=1.25)
    for code in dataset.countries:
        if code not in scenario.adversaries:
            name = f"cutoff_{code.lower()}"
            named[name] = CountryCutoffStress(name=name, country=code)
    return named


def default_stresses(dataset: Dataset, scenario: Scenario) -> list[str]:
    """The standard set run when a request names none."""
    names = ["adversary_total_ban", *(f"adversary_ban_{m.lower()}" for m in dataset.materials)]
    if len(dataset["projects"]):
        names.append("all_projects_delayed_3y")
    return [*names, "demand_surge_25pct"]


def _unknown(values: list[str] | None, allowed: list[str], location: str) -> list[InputIssue]:
    bad = [v for v in values or [] if v not in allowed]
    return [InputIssue(location, f"unknown {bad}; allowed: {allowed}")] if bad else []


def describe(spec: Stress, scenario: Scenario) -> str:
    """One line saying what the stress does."""
    if isinstance(spec, ExportControlStress):
        what = ", ".join(spec.materials or ["all materials"]) + " / " + ", ".join(spec.stages or ["all stages"])
        cap = "banned" if spec.max_share == 0 else f"capped at {spec.max_share:.0%}"
        start = spec.from_year or min(scenario.start_year + 1, scenario.end_year)
        until = f" to {spec.to_year}" if spec.to_year else ""
        return f"adversary exports to the coalition of {what} {cap} from {start}{until}"
    if isinstance(spec, CountryCutoffStress):
        return f"{spec.country} cut off from the coalition for the whole horizon"
    if isinstance(spec, ProjectDelayStress):
        which = f"project '{spec.project}'" if spec.project else "every announced project"
        return f"{which} delayed by {spec.years} year{'s' if spec.years > 1 else ''}"
    if isinstance(spec, CapacityLossStress):
        stages = ", ".join(spec.stages or ["all stages"])
        return f"{spec.fraction:.0%} of {spec.country}'s capacity ({stages}) lost"
    materials = ", ".join(spec.materials or ["all materials"])
    return f"coalition demand for {materials} x {spec.factor:g}"


def apply_stress(spec: Stress, base: Scenario, dataset: Dataset, members: list[str], location: str) -> Scenario:
    """The base scenario with the disruption applied (ScenarioError naming the field if invalid)."""
    overrides: list[dict[str, Any]] = []
    controls = base.model_dump(mode="json")["export_controls"]
    if isinstance(spec, ExportControlStress):
        issues = _unknown(spec.materials, dataset.materials, f"{location}.materials")
        issues += _unknown(spec.stages, dataset.stages, f"{location}.stages")
        start = spec.from_year or min(base.start_year + 1, base.end_year)
        if not base.start_year <= start <= base.end_year:
            issues.append(InputIssue(f"{location}.from_year", f"{start} is outside {base.start_year}-{base.end_year}"))
        if spec.to_year is not None and spec.to_year < start:
            issues.append(InputIssue(f"{location}.to_year", "must not be before from_year"))
        if issues:
            raise ScenarioError(issues)
        controls.append(
            {
                "from_year": start,
                "to_year": spec.to_year,
                "stages": spec.stages,
                "materials": spec.materials,
                "max_share": spec.max_share,
                "include_reexports": spec.include_reexports,
            }
        )
    elif isinstance(spec, CountryCutoffStress):
        code = spec.country
        if code not in dataset.countries:
            raise ScenarioError(f"unknown country '{code}'", location=f"{location}.country")
        note = f"stress: {code} cut off"
        if code in base.adversaries:
            controls.append({"from_year": base.start_year, "max_share": 0.0, "include_reexports": True})
        elif code in members:
            overrides = remove_assets(dataset, code, note)
        else:
            overrides = third_party_cutoff(dataset, code, note)
    elif isinstance(spec, ProjectDelayStress):
        projects = dataset["projects"]
        rows = projects if spec.project is None else projects[projects["project"] == spec.project]
        if rows.empty:
            known = sorted(set(projects["project"]))
            raise ScenarioError(
                f"no project named '{spec.project}'"
                + (f"; projects: {known[:20]}" if known else "; the dataset has none"),
                location=f"{location}.project",
            )
        updates = {
            i: {"online_year": min(int(r.online_year) + spec.years, MAX_ONLINE_YEAR)} for i, r in rows.iterrows()
        }
        overrides = row_overrides(dataset, "projects", updates)
    elif isinstance(spec, CapacityLossStress):
        issues = _unknown(spec.stages, dataset.stages, f"{location}.stages")
        if spec.country not in dataset.countries:
            issues.append(InputIssue(f"{location}.country", f"unknown country '{spec.country}'"))
        if issues:
            raise ScenarioError(issues)
        keep = 1.0 - spec.fraction
        for table in ("capacity", "projects"):
            frame = dataset[table]
            for stage in spec.stages or dataset.stages:
                if ((frame["country"] == spec.country) & (frame["stage"] == stage)).any():
                    overrides.append(
                        {
                            "table": table,
                            "where": {"country": spec.country, "stage": stage},
                            "scale": {"capacity_t_per_yr": keep, "low": keep, "high": keep},
                        }
                    )
        if not overrides:
            raise ScenarioError(f"{spec.country} has no capacity to lose", location=f"{location}.country")
    else:
        issues = _unknown(spec.materials, dataset.materials, f"{location}.materials")
        if issues:
            raise ScenarioError(issues)
        demand = dataset["demand"]
        for m in spec.materials or dataset.materials:
            if (demand["material"] == m).any():
                overrides.append(
                    {
                        "table": "demand",
                        "where": {"material": m},
                        "scale": {"demand_t_per_yr": spec.factor, "low": spec.factor, "high": spec.factor},
                    }
                )
    check_count(len(base.overrides), overrides, location)
    return with_changes(
        base,
        export_controls=controls,
        overrides=[*base.model_dump(mode="json")["overrides"], *overrides],
    )


def _outcome(name: str, kind: str, description: str, item: ItemResult, baseline: ItemResult | None) -> StressOutcome:
    d = item.digest
    out = StressOutcome(name=name, kind=kind, description=description, status=item.status, message=item.message)
    if d is None or not d.has_allocation:
        return out
    out.exposure_share_years, out.exposed_t = d.exposure_share_years, d.exposed_t
    out.unmet_t, out.cost_usd = d.unmet_t, d.cost_usd
    base = baseline.digest if baseline is not None else None
    shares = mean_share_by_year(d)
    base_shares = mean_share_by_year(base) if base is not None and base.has_allocation else {}

    def delta(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else a - b

    if base_shares:
        out.exposure_delta = delta(d.exposure_share_years, metric(base, "exposure_share_years"))
        out.exposed_t_delta = delta(d.exposed_t, metric(base, "exposed_t"))
        out.unmet_t_delta = delta(d.unmet_t, metric(base, "unmet_t"))
        out.cost_delta_usd = delta(d.cost_usd, metric(base, "cost_usd"))
    rise: dict[int, tuple[float, float]] = {}
    for year, (exposed, unmet) in shares.items():
        row: dict[str, Any] = {"year": year, "exposed_share": exposed, "unmet_share": unmet}
        if year in base_shares:
            b_exposed, b_unmet = base_shares[year]
            row["exposed_share_delta"] = exposed - b_exposed
            row["unmet_share_delta"] = unmet - b_unmet
            rise[year] = (round(row["unmet_share_delta"], 6), round(row["exposed_share_delta"], 6))
        out.by_year.append(row)
    worst = max(rise, key=lambda y: (rise[y], -y), default=None)
    if worst is not None and max(rise[worst]) > 0 and rise[worst] > (0.0, 0.0):
        out.worst_year = worst
    return out


def stress(
    request: StressRequest | None = None,
    progress: Progress | None = None,
    should_cancel: ShouldCancel | None = None,
    allow_paths: bool = True,
    **kwargs: Any,
) -> StressResult:
    """Run each disruption against the coalition and compare with the undisturbed case.

    Pass a `StressRequest` or its fields as keyword arguments, e.g.
    ``stress(stresses=["adversary_ban_dytb", {"kind": "project_delay", "years": 2}])``.
    """
    request = request or StressRequest(**kwargs)
    dataset = base_dataset(request.scenario, allow_paths)
    members = resolve_members(request.coalition, request.scenario, dataset, "coalition")
    base = check_resolves(
        for_coalition(request.scenario, members, request.coalition or request.scenario.coalition), allow_paths
    )
    named = named_stresses(dataset, base)
    wanted: list[str | Stress] = list(request.stresses or default_stresses(dataset, base))
    specs: list[tuple[str, Stress]] = []
    issues = []
    for i, entry in enumerate(wanted):
        if isinstance(entry, str):
            spec = named.get(entry.strip().lower())
            if spec is None:
                shown = ", ".join(sorted(named)[:40])
                issues.append(
                    InputIssue(f"stresses.{i}", f"unknown stress scenario '{entry}'; named stresses: {shown}")
                )
                continue
            specs.append((entry.strip().lower(), spec))
        else:
            specs.append((entry.name or f"{entry.kind}_{i}", entry))
    if issues:
        raise ScenarioError(issues)
    items = [SweepItem(key="baseline", scenario=scenario_payload(base), allow_paths=allow_paths)]
    for i, (name, spec) in enumerate(specs):
        location = f"stresses.{i}"
        items.append(
            SweepItem(
                key=f"{i}:{name}",
                scenario=scenario_payload(apply_stress(spec, base, dataset, members, location)),
                allow_paths=allow_paths,
            )
        )
    with engine_for(request) as engine:
        sweep = checked(engine.run(items, progress=progress, should_cancel=should_cancel))
    baseline_item = sweep.items[0]
    baseline = _outcome("baseline", "none", "the undisturbed scenario", baseline_item, None)
    outcomes = [
        _outcome(name, spec.kind, describe(spec, base), item, baseline_item)
        for (name, spec), item in zip(specs, sweep.items[1:], strict=True)
    ]
    return StressResult(coalition=members, baseline=baseline, stresses=outcomes, meta=meta(request, [sweep]))

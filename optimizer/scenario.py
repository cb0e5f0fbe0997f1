"""Resolve a Scenario against its dataset: presets, codes, overrides, all checked first."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from optimizer.data.dictionary import load_dictionary
from optimizer.data.loader import Dataset, is_blank, to_raw, validate_tables
from optimizer.data.registry import get_dataset
from optimizer.errors import DatasetError, InputIssue, ScenarioError
from optimizer.schemas import Override, Scenario


@dataclass
class ResolvedScenario:
    """A scenario with its dataset loaded, overrides applied and every code checked."""

    scenario: Scenario
    dataset: Dataset
    coalition: list[str]
    adversaries: list[str]

    @property
    def years(self) -> list[int]:
        """The planning horizon."""
        return list(range(self.scenario.start_year, self.scenario.end_year + 1))

    @property
    def third_parties(self) -> list[str]:
        """Countries neither in the coalition nor adversaries."""
        members, adversaries = set(self.coalition), set(self.adversaries)
        return [c for c in self.dataset.countries if c not in members and c not in adversaries]


def resolve_coalition(coalition: str | list[str], dataset: Dataset) -> list[str]:
    """A preset name or ISO3 list -> member codes, refusing unknown ones."""
    known = set(dataset.countries)
    if isinstance(coalition, str):
        presets = dataset.coalition_presets()
        if coalition in presets:
            return list(presets[coalition])
        if coalition in known:
            return [coalition]
        raise ScenarioError(
            f"unknown coalition preset '{coalition}'; presets: {', '.join(sorted(presets))}"
            " (or give a list of ISO3 codes)",
            location="scenario.coalition",
        )
    unknown = [code for code in coalition if code not in known]
    if unknown:
        raise ScenarioError(
            f"unknown country codes {unknown}; the dataset '{dataset.name}' has {sorted(known)}",
            location="scenario.coalition",
        )
    return list(coalition)


def _check_names(values: list[str] | None, allowed: list[str], location: str) -> list[InputIssue]:
    if values is None:
        return []
    unknown = [v for v in values if v not in allowed]
    if unknown:
        return [InputIssue(location, f"unknown {unknown}; allowed: {allowed}")]
    return []


def check_scenario(scenario: Scenario, dataset: Dataset, coalition: list[str]) -> list[InputIssue]:
    """Checks that need the dataset: adversaries, budgets, controls, targets."""
    issues: list[InputIssue] = []
    known = set(dataset.countries)
    for code in scenario.adversaries:
        if code not in known:
            issues.append(InputIssue("scenario.adversaries", f"unknown country code '{code}'"))
        if code in coalition:
            issues.append(
                InputIssue(
                    "scenario.adversaries",
                    f"'{code}' is both an adversary and a coalition member; remove it from one",
                )
            )
    for code in scenario.member_budgets_usd:
        if code not in coalition:
            issues.append(
                InputIssue(
                    f"scenario.member_budgets_usd.{code}",
                    f"'{code}' is not a coalition member ({coalition})",
                )
            )
    for i, control in enumerate(scenario.export_controls):
        where = f"scenario.export_controls.{i}"
        issues += _check_names(control.stages, dataset.stages, f"{where}.stages")
        issues += _check_names(control.materials, dataset.materials, f"{where}.materials")
        issues += _check_names(control.origins, dataset.countries, f"{where}.origins")
        inside = [c for c in control.origins or [] if c in coalition]
        if inside:
            issues.append(InputIssue(f"{where}.origins", f"{inside} are coalition members; name suppliers outside it"))
    for i, target in enumerate(scenario.targets):
        where = f"scenario.targets.{i}"
        issues += _check_names(target.materials, dataset.materials, f"{where}.materials")
        if not scenario.start_year <= target.from_year <= scenario.end_year:
            issues.append(
                InputIssue(
                    f"{where}.from_year",
                    f"{target.from_year} is outside the horizon {scenario.start_year}-{scenario.end_year}",
                )
            )
    return issues


def apply_overrides(dataset: Dataset, overrides: list[Override]) -> Dataset:
    """Apply scenario overrides to a copy of the dataset and re-validate it.

    The tables an override touches are re-checked cell by cell; references and the
    cross-table checks run over the whole dataset again.
    """
    if not overrides:
        return dataset
    specs = load_dictionary()
    raw: dict[str, pd.DataFrame] = {}
    issues: list[InputIssue] = []
    for i, override in enumerate(overrides):
        where = f"scenario.overrides.{i}"
        if override.table not in specs:
            issues.append(InputIssue(f"{where}.table", f"unknown table '{override.table}'; tables: {sorted(specs)}"))
            continue
        spec = specs[override.table]
        table = raw.get(override.table)
        if table is None:
            table = to_raw(dataset.tables[override.table])
        for part, columns in (("where", override.where), ("set", override.set), ("scale", override.scale)):
            for col in columns:
                if col not in spec.columns:
                    issues.append(
                        InputIssue(f"{where}.{part}.{col}", f"table '{override.table}' has no column '{col}'")
                    )
        for col in override.scale:
            if col in spec.columns and spec.columns[col].type not in ("float", "int"):
                issues.append(InputIssue(f"{where}.scale.{col}", "only numeric columns can be scaled"))
        if issues:
            continue
        mask = pd.Series(True, index=table.index)
        for col, value in override.where.items():
            mask &= table[col].astype(str) == str(value)
        if (override.set or override.scale or override.delete) and not mask.any():
            issues.append(InputIssue(f"{where}.where", f"matches no row of '{override.table}'; check the values"))
            continue
        if override.delete:
            table = table.loc[~mask].reset_index(drop=True)
        for col, value in override.set.items():
            table.loc[mask, col] = value
        for col, factor in override.scale.items():
            # whole-number columns (lead times in years) are rounded after scaling
            whole = spec.columns[col].type == "int"
            table.loc[mask, col] = [
                None if is_blank(v) else (round(float(v) * factor) if whole else float(v) * factor)
                for v in table.loc[mask, col]
            ]
        if override.add_rows:
            added = pd.DataFrame(override.add_rows)
            unknown = [c for c in added.columns if c not in spec.columns]
            if unknown:
                issues.append(InputIssue(f"{where}.add_rows", f"unknown columns {unknown}"))
                continue
            table = pd.concat([table, added], ignore_index=True)
        raw[override.table] = table
    if issues:
        raise ScenarioError(issues)
    try:
        untouched = {name: t for name, t in dataset.tables.items() if name not in raw}
        tables = validate_tables(raw, untouched)
    except DatasetError as exc:
        raise ScenarioError(
            [InputIssue("scenario.overrides", f"the overridden dataset is invalid: {issue}") for issue in exc.issues]
        ) from exc
    return Dataset(dataset.name, dataset.path, tables, [o.table for o in overrides])


def resolve_scenario(scenario: Scenario, allow_paths: bool = True) -> ResolvedScenario:
    """Load the dataset, apply overrides and check every code the scenario names."""
    dataset = get_dataset(scenario.dataset, allow_paths=allow_paths)
    dataset = apply_overrides(dataset, scenario.overrides)
    coalition = resolve_coalition(scenario.coalition, dataset)
    issues = check_scenario(scenario, dataset, coalition)
    if issues:
        raise ScenarioError(issues)
    return ResolvedScenario(scenario, dataset, coalition, list(scenario.adversaries))

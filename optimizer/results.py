"""Read a solved model into tidy tables, headline metrics and the bottleneck report."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd
import pyomo.core as pyo
from pyomo.common.numeric_types import native_types, nonpyomo_leaf_types
from pyomo.core.base.var import ScalarVar, VarData
from pyomo.core.expr.numeric_expr import MonomialTermExpression

from optimizer.model.index import ModelIndex
from optimizer.model.inputs import COALITION_POOL, EXPOSED, FREE, ModelInputs
from optimizer.schemas import Violation

TOL = 1e-6  # t or USD below which a value is reported as zero

_VARIABLES = (VarData, ScalarVar)


class _SlowPathError(Exception):
    """A node the fast evaluator leaves to Pyomo (an unset variable, a parameter ...)."""


def _evaluate_node(node: Any) -> Any:
    """An expression node's value, combining its arguments as Pyomo's evaluator does.

    The same `_apply_operation` on the same argument values, in the same order, so the
    result is bit-for-bit Pyomo's; only the visitor's per-node method calls are saved.
    """
    args = node.args
    values: list[Any] = []
    for i in range(node.nargs()):
        arg = args[i]
        cls = arg.__class__
        if cls in nonpyomo_leaf_types:
            values.append(arg)
        elif cls in _VARIABLES:
            value = arg.value
            if value is None:
                raise _SlowPathError  # let Pyomo raise (and log) its own error
            values.append(value)
        elif cls is MonomialTermExpression and arg.args[0].__class__ in nonpyomo_leaf_types:
            # coefficient x variable, the bulk of a cost sum: its _apply_operation is l * r.
            coef, var = arg.args
            value = var.value if var.__class__ in _VARIABLES else None
            if value is None:
                raise _SlowPathError
            values.append(coef * value)
        elif arg.is_expression_type():
            values.append(_evaluate_node(arg))
        else:
            raise _SlowPathError
    return node._apply_operation(values)


def evaluate(expr: Any) -> Any:
    """pyo.value(expr) of a solved model's variable or expression, several times faster.

    Anything unusual (an unset variable, a parameter, an arithmetic error) goes to
    pyo.value itself, so errors and their log lines stay Pyomo's own.
    """
    cls = expr.__class__
    if cls in native_types:
        return expr
    if cls in _VARIABLES:
        value = expr.value
        return value if value is not None else pyo.value(expr)
    if not expr.is_expression_type():
        return pyo.value(expr)
    try:
        result = _evaluate_node(expr)
    except Exception:  # Pyomo evaluates it again and raises (and logs) as it always did
        return pyo.value(expr)
    if result is None or (result.__class__ not in native_types and result.is_numeric_type() is True):
        return pyo.value(expr)
    return result


def _values(var: pyo.Var) -> dict[Any, float]:
    return {k: v for k, v in var.extract_values().items() if v is not None and abs(v) > TOL}


def builds_table(model: pyo.ConcreteModel, inputs: ModelInputs) -> pd.DataFrame:
    """New capacity started, where, when it comes online and what it costs."""
    # Rows as tuples, not dicts: pandas builds the same frame from either, tuples faster.
    rows = [
        (r, s, m, t, t + inputs.lead[(r, s)], v, v * inputs.capex[(r, s, m)])
        for (r, s, m, t), v in _values(model.build).items()
    ]
    columns = ["country", "stage", "material", "start_year", "online_year", "capacity_t_per_yr", "capex_usd"]
    return pd.DataFrame(rows, columns=columns).sort_values(["start_year", "country", "stage"], ignore_index=True)


def production_table(model: pyo.ConcreteModel) -> pd.DataFrame:
    """Output by country, stage, material, year and grade (t)."""
    rows = [(r, s, m, t, g, v) for (r, s, m, t, g), v in _values(model.production).items()]
    return pd.DataFrame(rows, columns=["country", "stage", "material", "year", "grade", "production_t"])


def shipments_table(model: pyo.ConcreteModel) -> pd.DataFrame:
    """Trade: own use, sales into and purchases from the market pools, and lane flows (t)."""
    rows: list[tuple[Any, ...]] = []
    for (r, s, m, t, g), v in _values(model.local).items():
        rows.append(("local", r, r, s, m, t, g, v))
    for (r, p, s, m, t, g), v in _values(model.export).items():
        rows.append(("export", r, f"pool:{p}", s, m, t, g, v))
    for (q, p, s, m, t, g), v in _values(model.import_).items():
        rows.append(("import", f"pool:{p}", q, s, m, t, g, v))
    for (o, d, s, m, t, g), v in _values(model.flow).items():
        rows.append(("lane", o, d, s, m, t, g, v))
    columns = ["kind", "origin", "destination", "stage", "material", "year", "grade", "quantity_t"]
    return pd.DataFrame(rows, columns=columns)


def deliveries_table(model: pyo.ConcreteModel, inputs: ModelInputs, ix: ModelIndex) -> pd.DataFrame:
    """Per member, material and year: demand, free and exposed deliveries, stock use, unmet (t)."""
    from optimizer.model.constraints.balance import received

    last = inputs.last_stage
    rows: list[tuple[Any, ...]] = []
    members = set(inputs.members)
    for q, m, t in inputs.demand:
        if q not in members:
            continue
        free = evaluate(received(model, ix, q, last, m, t, FREE))
        exposed = evaluate(received(model, ix, q, last, m, t, EXPOSED))
        stock_in = stock_out = 0.0
        if (q, m, t) in model.stock:
            stock_in = evaluate(model.purchase[q, m, t])
            stock_out = evaluate(model.release[q, m, t])
        unmet = evaluate(model.unmet[q, m, t])
        rows.append((q, m, t, inputs.demand[(q, m, t)], free, exposed, stock_in, stock_out, unmet))
    columns = [
        "country",
        "material",
        "year",
        "demand_t",
        "free_t",
        "exposed_t",
        "stock_purchase_t",
        "stock_release_t",
        "unmet_t",
    ]
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(rows)  # no rows: no columns, as before


def exposure_by_year(deliveries: pd.DataFrame) -> pd.DataFrame:
    """The headline: exposed share of coalition demand by year and material."""
    grouped = deliveries.groupby(["year", "material"], as_index=False)[
        ["demand_t", "free_t", "exposed_t", "unmet_t"]
    ].sum()
    grouped["exposed_share"] = (grouped["exposed_t"] / grouped["demand_t"]).where(grouped["demand_t"] > 0, 0.0)
    grouped["unmet_share"] = (grouped["unmet_t"] / grouped["demand_t"]).where(grouped["demand_t"] > 0, 0.0)
    return grouped


def adversary_share_by_stage(model: pyo.ConcreteModel, inputs: ModelInputs, ix: ModelIndex) -> pd.DataFrame:
    """For each stage, the share of the product the coalition receives that adversaries made."""
    from optimizer.model.constraints.balance import received
    from optimizer.model.constraints.policy import into_coalition

    rows: list[tuple[Any, ...]] = []
    grades = (FREE, EXPOSED)
    for s in inputs.stages:
        for m in inputs.materials:
            for t in inputs.years:
                receivers = [q for q in inputs.members if q in ix.consumers.get((s, m), [])]
                total = sum(evaluate(received(model, ix, q, s, m, t, g)) for q in receivers for g in grades)
                from_adv = evaluate(into_coalition(model, ix, inputs, inputs.adversaries, s, m, t, grades))
                rows.append((s, m, t, total, from_adv, from_adv / total if total > TOL else 0.0))
    columns = ["stage", "material", "year", "received_t", "from_adversaries_t", "adversary_share"]
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(rows)  # no rows: no columns, as before


def stockpile_table(model: pyo.ConcreteModel) -> pd.DataFrame:
    """Stock level, purchases and releases by member, material and year (t)."""
    rows = [
        {
            "country": q,
            "material": m,
            "year": t,
            "stock_t": evaluate(model.stock[q, m, t]),
            "purchase_t": evaluate(model.purchase[q, m, t]),
            "release_t": evaluate(model.release[q, m, t]),
        }
        for (q, m, t) in model.stock
    ]
    return pd.DataFrame(rows, columns=["country", "material", "year", "stock_t", "purchase_t", "release_t"])


def financing_table(model: pyo.ConcreteModel, inputs: ModelInputs, builds: pd.DataFrame) -> pd.DataFrame:
    """Who pays how much each year (USD).

    With member budgets the LP's own split is reported; without, capex is pooled and
    shown as paid by the coalition as a whole.
    """
    if inputs.member_budgets:
        rows = [{"payer": a, "year": t, "amount_usd": v} for (a, t), v in _values(model.finance).items()]
    else:
        spent = builds.groupby("start_year")["capex_usd"].sum() if len(builds) else pd.Series(dtype=float)
        rows = [{"payer": "coalition (pooled)", "year": int(t), "amount_usd": float(v)} for t, v in spent.items()]
    return pd.DataFrame(rows, columns=["payer", "year", "amount_usd"])


def violations(model: pyo.ConcreteModel, inputs: ModelInputs, diagnosis: dict[str, Any]) -> list[Violation]:
    """Name every requirement the scenario cannot meet, in domain words.

    Target shortfalls come from the within-budget relaxation; the diagnosis solve (budgets
    elastic) says how much money would close them and what remains that money cannot fix.
    """
    found: list[Violation] = []
    after_money = diagnosis.get("target_gap_with_more_money_t", {})
    lead = min((inputs.lead[(r, s)] for r in inputs.hosts for s in inputs.stages), default=0)
    for (m, t), v in _values(model.target_slack).items():
        share = min(x for (_k, mm, tt), x in inputs.targets.items() if mm == m and tt == t)
        total = sum(d for (_q, mm, tt), d in inputs.demand.items() if mm == m and tt == t)
        left = after_money.get((m, t), v)
        if left > TOL:
            why = (
                f" Even with unlimited money {left:,.0f} t stay short: free capacity cannot be online by"
                f" {t} given existing and announced plants, build lead times (shortest {lead} yr from"
                f" {inputs.years[0]}), build-rate limits and reserves."
            )
        else:
            why = " More money would close this gap (see the budget line)."
        found.append(
            Violation(
                kind="target",
                amount=v,
                unit="t",
                material=m,
                year=t,
                explanation=(
                    f"{m} target for {t} (at most {share:.0%} of demand exposed or unmet) is missed by"
                    f" {v:,.0f} t, {v / total:.1%} of the coalition's {total:,.0f} t demand.{why}"
                ),
            )
        )
    needed = diagnosis.get("budget_needed_usd", 0.0)
    if needed > 1.0:
        found.append(
            Violation(
                kind="budget",
                amount=needed,
                unit="USD",
                explanation=(
                    f"meeting the targets as far as time allows needs USD {needed / 1e9:,.2f} bn more"
                    f" capital than the budget of USD {(inputs.budget_usd or 0) / 1e9:,.2f} bn."
                ),
            )
        )
    for a, v in diagnosis.get("member_budget_needed_usd", {}).items():
        if v > 1.0:
            found.append(
                Violation(
                    kind="member_budget",
                    amount=v,
                    unit="USD",
                    country=a,
                    explanation=(
                        f"{a} would have to contribute USD {v / 1e9:,.2f} bn beyond its budget of"
                        f" USD {inputs.member_budgets[a] / 1e9:,.2f} bn."
                    ),
                )
            )
    return found


def shadow_prices(
    model: pyo.ConcreteModel, inputs: ModelInputs, duals: dict[Any, float], top: int = 15
) -> dict[str, Any]:
    """The bottleneck report, from the exposure phase's duals.

    Objective units are share-years (one year of one material's demand fully exposed = 1).
    A capacity dual says how much exposure one more t/yr of capacity in that year removes;
    summed over the horizon it is the value of one more t/yr available throughout.
    """
    if not duals:
        return {}
    report: dict[str, Any] = {"unit": "share-years of demand (1 = one year of one material fully exposed)"}
    if hasattr(model, "budget"):
        dual = duals.get(model.budget, 0.0)
        report["budget"] = {
            "exposure_reduction_per_busd": -dual * 1e9,
            "interpretation": (
                "share-years of exposure removed by one more USD bn of capital budget"
                if abs(dual) > 1e-15
                else "the budget does not bind: more money would not lower exposure"
            ),
        }
    capacity: dict[tuple[str, str, str], float] = defaultdict(float)
    for (r, s, m, _t), con in model.capacity.items():
        d = duals.get(con, 0.0)
        if d:
            capacity[(r, s, m)] += -d * inputs.utilisation[s]
    ranked = sorted(capacity.items(), key=lambda kv: kv[1], reverse=True)
    report["capacity"] = [
        {
            "country": r,
            "stage": s,
            "material": m,
            "exposure_reduction_per_t_per_yr": v,
            "exposure_reduction_t_per_t": v / inputs.material_weight[m] if inputs.material_weight[m] else 0.0,
        }
        for (r, s, m), v in ranked[:top]
        if v > 1e-12
    ]
    return report


def cost_by_host(builds: pd.DataFrame) -> pd.DataFrame:
    """Capex by host country and stage (USD)."""
    if builds.empty:
        return pd.DataFrame(columns=["country", "stage", "capex_usd"])
    return builds.groupby(["country", "stage"], as_index=False)["capex_usd"].sum()


# Cells that need no boxing: what to_dict(orient="records") and `.item()` would leave as they are.
_PLAIN_CELLS = (str, float, int, bool, type(None))


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame as JSON-ready records (numpy scalars turned into Python ones)."""
    # Column by column: Series.tolist() already gives Python scalars for numeric columns,
    # and other columns are taken as they are only when every cell is a plain Python value.
    columns = [str(name) for name in frame.columns]
    values = [series.tolist() for _name, series in frame.items()]
    plain = all(type(v) in _PLAIN_CELLS for column in values for v in column)
    if not plain or not columns or len(set(columns)) != len(columns) or columns != list(frame.columns):
        return [
            {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")
        ]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def coalition_pool_sales(model: pyo.ConcreteModel) -> dict[str, float]:
    """Total tonnes each origin sold into the coalition pool (all stages)."""
    sales: dict[str, float] = defaultdict(float)
    for (r, p, _s, _m, _t, _g), v in _values(model.export).items():
        if p == COALITION_POOL:
            sales[r] += v
    return dict(sales)

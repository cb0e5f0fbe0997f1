"""Hand a built Pyomo LP to HiGHS as arrays, and keep the map back to the model.

Pyomo's `LinearRepnVisitor` (the walk its own LP writers make) turns each constraint body
into {variable: coefficient} + constant; the rows then go to HiGHS in one `passModel` call.
This replaces Pyomo's persistent appsi interface, which adds rows one Python call at a time
and tracks every expression for updates: ~3x slower to load, ~2x the memory
(docs/performance.md). What appsi's tracking gave, re-solves after changed parameters, is
kept by re-walking only the rows, bounds and objectives that hold a mutable parameter.

Every variable of the model is a column (a fixed variable is a column with equal bounds),
so the column set never changes and a saved basis stays valid across re-solves.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from typing import Any

import highspy
import numpy as np
import pyomo.core as pyo
from pyomo.common.numeric_types import native_numeric_types, native_types
from pyomo.core.base.var import ScalarVar, VarData
from pyomo.core.expr.numeric_expr import (
    LinearExpression,
    MonomialTermExpression,
    NegationExpression,
    ProductExpression,
    SumExpression,
)
from pyomo.core.expr.visitor import identify_mutable_parameters
from pyomo.repn.linear import LinearRepnVisitor

INF = highspy.kHighsInf


class _ModelVariables:
    """The visitor's variable recorder: every variable of the model is known in advance."""

    def __init__(self, var_map: dict[int, Any]) -> None:
        # The visitor only tests membership here (it maps ids to columns for us): the
        # id -> column dict serves, and saves a second dict of the size of the model.
        self.var_map = var_map

    def add(self, var: Any) -> None:
        raise ValueError(f"variable {var.name} is not part of the model handed to HiGHS")


_VARIABLES = (VarData, ScalarVar)
_SUMS = (LinearExpression, SumExpression)


class _NotPlain(Exception):  # noqa: N818 - a signal to take the general path
    """An expression node the plain-sum reader leaves to Pyomo's visitor."""


def _plain(expr: Any, column_of: dict[int, int]) -> tuple[dict[int, Any], Any, Any]:
    """(coefficients by column, constant, multiplier) of a plain linear expression.

    Plain: sums, negations, number x expression, variables, numbers: what the model's rows
    are made of. It is `LinearRepnVisitor`'s own arithmetic (a factor multiplies the
    sub-result's pending multiplier, which is applied when the sub-result joins a sum), in
    the same order, so the floats are identical; it only skips the visitor's per-node
    dispatch (about 3x faster on the shipped model). Anything else (a parameter, a named
    expression ...) raises _NotPlain and the row goes to the visitor.
    """
    cls = expr.__class__
    if cls in _VARIABLES:
        column = column_of.get(id(expr))
        if column is None:
            raise _NotPlain
        return {column: 1}, 0, 1
    if cls is MonomialTermExpression:
        coef, var = expr.args
        column = column_of.get(id(var))
        if coef.__class__ not in native_numeric_types or column is None:
            raise _NotPlain
        return ({column: coef} if coef else {}), 0, 1
    if cls in _SUMS:
        linear: dict[int, Any] = {}
        constant: Any = 0
        for arg in expr.args:
            kind = arg.__class__
            # Variables, monomials and numbers inline: a call per term was half the time.
            if kind is MonomialTermExpression:
                coef, var = arg.args
                column = column_of.get(id(var))
                if coef.__class__ not in native_numeric_types or column is None:
                    raise _NotPlain
            elif kind in _VARIABLES:
                coef, column = 1, column_of.get(id(arg))
                if column is None:
                    raise _NotPlain
            elif kind in native_numeric_types:
                constant += arg
                continue
            else:
                terms, sub_constant, multiplier = _plain(arg, column_of)
                if multiplier == 1:
                    constant += sub_constant
                    for column, coef in terms.items():
                        linear[column] = linear[column] + coef if column in linear else coef
                elif multiplier:
                    if sub_constant:
                        constant += multiplier * sub_constant
                    for column, coef in terms.items():
                        scaled = multiplier * coef
                        linear[column] = linear[column] + scaled if column in linear else scaled
                continue
            if column in linear:
                linear[column] += coef
            elif coef:
                linear[column] = coef
        return linear, constant, 1
    if cls is NegationExpression:
        terms, constant, multiplier = _plain(expr.args[0], column_of)
        return terms, constant, multiplier * -1
    if cls is ProductExpression:
        left, right = expr.args
        if left.__class__ in native_numeric_types and right.__class__ not in native_numeric_types:
            terms, constant, multiplier = _plain(right, column_of)
            return terms, constant, multiplier * left
        if right.__class__ in native_numeric_types and left.__class__ not in native_numeric_types:
            terms, constant, multiplier = _plain(left, column_of)
            return terms, constant, multiplier * right
    raise _NotPlain


def _plain_linear(expr: Any, column_of: dict[int, int]) -> tuple[dict[int, Any], Any]:
    """Coefficients (zeros dropped) and constant of a plain expression, as the visitor ends."""
    if expr.__class__ in native_numeric_types:
        return {}, expr
    terms, constant, multiplier = _plain(expr, column_of)
    if multiplier == 1:
        return {column: coef for column, coef in terms.items() if coef}, constant
    if not multiplier:
        return {}, 0
    scaled = {column: multiplier * coef for column, coef in terms.items()}
    return {column: coef for column, coef in scaled.items() if coef}, (constant * multiplier if constant else constant)


def _bound(value: Any, default: float) -> float:
    if value is None:
        return default
    return float(value if value.__class__ in native_types else pyo.value(value))


def _has_params(expr: Any) -> bool:
    if expr is None or expr.__class__ in native_types:
        return False
    return next(identify_mutable_parameters(expr), None) is not None


class HighsLink:
    """One Pyomo model loaded into one HiGHS instance: rows, columns and objectives mapped.

    `rows` are the model's active constraints at load time (one HiGHS row each, ranged rows
    included); `extra` constraints (e.g. an inactive cap row) can be added and removed later.
    """

    def __init__(self, model: pyo.ConcreteModel, highs: highspy.Highs) -> None:
        self.model = model
        self.highs = highs
        self.columns: list[Any] = list(model.component_data_objects(pyo.Var, descend_into=True))
        self.column_of: dict[int, int] = {id(var): i for i, var in enumerate(self.columns)}
        self.constraints: list[Any] = list(model.component_data_objects(pyo.Constraint, active=True))
        self._row_of: dict[int, int] | None = None  # built when first needed: a one-shot solve never does
        self._objectives: dict[int, tuple[np.ndarray, float]] = {}
        self._parametric: tuple[list[Any], list[Any], set[int]] | None = None
        self._row_entries: dict[int, dict[int, float]] = {}
        self._added: list[Any] = []
        self.objective: Any = None
        self._load()

    # --- compiling -------------------------------------------------------------------------

    def _visitor(self) -> LinearRepnVisitor:
        # A fresh subexpression cache per pass: named expressions are cached with the
        # parameter values they had when first walked.
        return LinearRepnVisitor({}, var_recorder=_ModelVariables(self.column_of))

    @property
    def row_of(self) -> dict[int, int]:
        """HiGHS row of each constraint in HiGHS, by id of the constraint."""
        if self._row_of is None:
            self._row_of = {id(con): i for i, con in enumerate(self.constraints)}
        return self._row_of

    def linear(self, expr: Any, visitor: LinearRepnVisitor | None = None) -> tuple[list[int], list[float], float]:
        """Columns, coefficients and constant of a linear expression at current parameter values."""
        try:
            terms, constant = _plain_linear(expr, self.column_of)
        except _NotPlain:
            pass
        else:
            return list(terms), list(terms.values()), float(constant)
        repn = (visitor or self._visitor()).walk_expression(expr)
        if repn.nonlinear is not None:
            raise ValueError(f"expression {expr} is not linear")
        column_of = self.column_of
        return [column_of[i] for i in repn.linear], list(repn.linear.values()), float(repn.constant)

    def row(self, con: Any, visitor: LinearRepnVisitor | None = None) -> tuple[list[int], list[float], float, float]:
        """Columns, coefficients and bounds of a constraint as a HiGHS row (lower <= a.x <= upper)."""
        lower, body, upper = con.to_bounded_expression()
        columns, coefs, constant = self.linear(body, visitor)
        return columns, coefs, _bound(lower, -INF) - constant, _bound(upper, INF) - constant

    def column_bounds(self, var: Any) -> tuple[float, float]:
        """A variable's bounds as HiGHS column bounds (a fixed variable: both at its value)."""
        if var.fixed:
            return float(var.value), float(var.value)
        lower, upper = var.bounds  # evaluated (a bound may be an expression of parameters)
        return (-INF if lower is None else float(lower)), (INF if upper is None else float(upper))

    def _load(self) -> None:
        visitor = self._visitor()
        # C arrays, not lists of Python numbers: a third of the memory at the peak.
        lengths, columns, coefs = array("i"), array("i"), array("d")
        lower = np.empty(len(self.constraints))
        upper = np.empty(len(self.constraints))
        for i, con in enumerate(self.constraints):
            cols, values, lower[i], upper[i] = self.row(con, visitor)
            lengths.append(len(cols))
            columns.extend(cols)
            coefs.extend(values)
        index = np.frombuffer(columns, dtype=np.int32)
        value = np.frombuffer(coefs, dtype=np.float64)
        row_index = np.repeat(np.arange(len(lengths), dtype=np.int32), np.frombuffer(lengths, dtype=np.int32))
        # HiGHS takes the matrix column-wise: a stable sort by column keeps rows ascending.
        order = np.argsort(index, kind="stable")
        n_cols = len(self.columns)
        starts = np.zeros(n_cols + 1, dtype=np.int32)
        np.cumsum(np.bincount(index, minlength=n_cols), out=starts[1:])

        bounds = [self.column_bounds(var) for var in self.columns]
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n_cols, len(self.constraints)
        lp.col_cost_ = np.zeros(n_cols)
        lp.col_lower_ = np.fromiter((b[0] for b in bounds), dtype=np.float64, count=n_cols)
        lp.col_upper_ = np.fromiter((b[1] for b in bounds), dtype=np.float64, count=n_cols)
        lp.row_lower_, lp.row_upper_ = lower, upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = starts
        lp.a_matrix_.index_ = row_index[order]
        lp.a_matrix_.value_ = value[order]
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_cols, len(self.constraints)
        self.highs.passModel(lp)

    # --- objectives ------------------------------------------------------------------------

    def use_objective(self, objective: Any) -> None:
        """Make `objective` (minimised) the HiGHS objective: costs and offset."""
        key = id(objective)
        if key not in self._objectives:
            cols, values, constant = self.linear(objective.expr)
            cost = np.zeros(len(self.columns))
            cost[cols] = values
            self._objectives[key] = (cost, constant)
        cost, constant = self._objectives[key]
        self.highs.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
        self.highs.changeObjectiveOffset(constant)
        self.objective = objective

    # --- rows added after loading ----------------------------------------------------------

    def add_row(self, con: Any) -> None:
        """Append a constraint as a new last row."""
        cols, values, lower, upper = self.row(con)
        if self._row_of is not None:
            self._row_of[id(con)] = len(self.constraints)
        self.constraints.append(con)
        self._added.append(con)
        self.highs.addRow(lower, upper, len(cols), np.array(cols, dtype=np.int32), np.array(values))

    def remove_row(self, con: Any) -> None:
        """Remove a constraint's row; rows after it move up one."""
        # Rows added later sit at the end: search from there, without building the map.
        row = next(i for i in range(len(self.constraints) - 1, -1, -1) if self.constraints[i] is con)
        self._added = [added for added in self._added if added is not con]
        self.highs.deleteRows(1, np.array([row], dtype=np.int32))
        del self.constraints[row]
        if self._row_of is not None:
            del self._row_of[id(con)]
            for later in self.constraints[row:]:
                self._row_of[id(later)] -= 1
        self._row_entries.pop(row, None)
        self._row_entries = {(r - 1 if r > row else r): e for r, e in self._row_entries.items()}

    # --- changes after loading -------------------------------------------------------------

    def update_variables(self, variables: Iterable[Any]) -> None:
        """Push the current bounds (or fixing) of these variables to HiGHS."""
        variables = list(variables)
        if not variables:
            return
        index = np.array([self.column_of[id(var)] for var in variables], dtype=np.int32)
        bounds = np.array([self.column_bounds(var) for var in variables], dtype=np.float64)
        self.highs.changeColsBounds(len(index), index, bounds[:, 0].copy(), bounds[:, 1].copy())

    def _find_parametric(self) -> tuple[list[Any], list[Any], set[int]]:
        """Rows, variables (bounds) and objectives whose values depend on mutable parameters."""
        if self._parametric is None:
            added = {id(con) for con in self._added}
            rows = [con for con in self.constraints if id(con) not in added and _has_params(con.expr)]
            variables = [var for var in self.columns if _has_params(var.lower) or _has_params(var.upper)]
            objectives = {id(obj) for obj in self.model.component_data_objects(pyo.Objective) if _has_params(obj.expr)}
            self._parametric = (rows, variables, objectives)
        return self._parametric

    def _entries(self, row: int) -> dict[int, float]:
        entries = self._row_entries.get(row)
        if entries is None:
            _status, index, value = self.highs.getRowEntries(row)
            entries = dict(zip((int(i) for i in index), (float(v) for v in value), strict=True))
        return entries

    def update_params(self) -> None:
        """Re-evaluate everything that holds a mutable parameter and push what changed."""
        rows, variables, objectives = self._find_parametric()
        visitor = self._visitor()
        for con in [*rows, *(added for added in self._added if _has_params(added.expr))]:
            row = self.row_of.get(id(con))
            if row is None:  # a constraint not (or no longer) in HiGHS
                continue
            cols, values, lower, upper = self.row(con, visitor)
            new = dict(zip(cols, values, strict=True))
            old = self._entries(row)
            for col in old.keys() - new.keys():
                self.highs.changeCoeff(row, col, 0.0)
            for col, coef in new.items():
                if old.get(col) != coef:
                    self.highs.changeCoeff(row, col, coef)
            self._row_entries[row] = new
            self.highs.changeRowBounds(row, lower, upper)
        self.update_variables(variables)
        for key in objectives:
            self._objectives.pop(key, None)
        if self.objective is not None and id(self.objective) in objectives:
            self.use_objective(self.objective)

    # --- reading the solution --------------------------------------------------------------

    def load_values(self, variables: Sequence[Any] | None = None) -> None:
        """Copy HiGHS's primal solution into the Pyomo variables (all, or these)."""
        values = self.highs.getSolution().col_value
        if variables is None:
            for var, x in zip(self.columns, values, strict=True):
                var.set_value(x, skip_validation=True)
            return
        for var in variables:
            var.set_value(values[self.column_of[id(var)]], skip_validation=True)

    def duals(self) -> dict[Any, float]:
        """Row duals of HiGHS's solution by constraint (HiGHS's sign convention)."""
        row_dual = self.highs.getSolution().row_dual
        return {con: row_dual[i] for i, con in enumerate(self.constraints)}

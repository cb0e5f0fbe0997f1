"""The hand-off to HiGHS (optimizer/handoff.py): the matrix HiGHS holds is the model's, and
changes after loading (parameters, fixings, added and removed rows) reach HiGHS."""

from __future__ import annotations

import highspy
import numpy as np
import pyomo.environ as pyo
import pytest

from optimizer.handoff import HighsLink
from optimizer.run import default_scenario, prepare


def quiet_highs() -> highspy.Highs:
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    return highs


def optimum(link: HighsLink) -> tuple[float, list[float]]:
    link.highs.run()
    assert link.highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return link.highs.getInfo().objective_function_value, list(link.highs.getSolution().col_value)


def test_rows_hold_the_constraint_bodies_of_the_default_model() -> None:
    """At a random point, every HiGHS row activity equals the Pyomo body minus its constant."""
    prepared = prepare(default_scenario())
    link = prepared.solver.link
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 10, len(link.columns))
    lp = link.highs.getLp()
    matrix = lp.a_matrix_
    starts, index, value = np.array(matrix.start_), np.array(matrix.index_), np.array(matrix.value_)
    activity = np.zeros(lp.num_row_)
    for col in range(lp.num_col_):
        span = slice(starts[col], starts[col + 1])
        np.add.at(activity, index[span], value[span] * x[col])
    for var, v in zip(link.columns, x, strict=True):
        var.set_value(float(v), skip_validation=True)
    lower, upper = np.array(lp.row_lower_), np.array(lp.row_upper_)
    checked = 0
    for con in link.constraints[::97]:
        row = link.row_of[id(con)]
        body = pyo.value(con.body)
        bound = con.upper if con.upper is not None else con.lower
        side = upper[row] if con.upper is not None else lower[row]
        # body - bound == activity - side: both are the row's slack against the same side
        assert body - pyo.value(bound) == pytest.approx(activity[row] - side, rel=1e-9, abs=1e-6), con.name
        checked += 1
    assert checked > 100
    assert link.highs.getNumNz() == len(index)


def small_model() -> pyo.ConcreteModel:
    r"""min x + 2y  s.t.  p*x + y >= 4,  x <= cap,  x, y >= 0  (x's bound a parameter too)."""
    m = pyo.ConcreteModel()
    m.p = pyo.Param(mutable=True, initialize=1.0)
    m.cap = pyo.Param(mutable=True, initialize=10.0)
    m.x = pyo.Var(within=pyo.NonNegativeReals)
    m.y = pyo.Var(within=pyo.NonNegativeReals)
    m.x.setub(m.cap)
    m.demand = pyo.Constraint(expr=m.p * m.x + m.y >= 4)
    m.obj = pyo.Objective(expr=m.x + 2 * m.y)
    return m


def test_parameter_changes_reach_coefficients_bounds_and_zero_entries() -> None:
    m = small_model()
    link = HighsLink(m, quiet_highs())
    link.use_objective(m.obj)
    assert optimum(link)[0] == pytest.approx(4.0)  # x = 4
    m.p.set_value(0.5)  # x now covers half: x = 8 -> cost 8
    link.update_params()
    assert optimum(link)[0] == pytest.approx(8.0)
    m.cap.set_value(2.0)  # x <= 2 covers 1, y = 3 -> 2 + 6
    link.update_params()
    assert optimum(link)[0] == pytest.approx(8.0)
    assert link.highs.getLp().col_upper_[link.column_of[id(m.x)]] == 2.0
    m.p.set_value(0.0)  # the coefficient vanishes: y = 4 -> 8, x = 0
    link.update_params()
    value, x = optimum(link)
    assert value == pytest.approx(8.0) and x[link.column_of[id(m.x)]] == pytest.approx(0.0)
    m.p.set_value(2.0)  # and comes back: x = 2 covers all -> 2
    m.cap.set_value(10.0)
    link.update_params()
    assert optimum(link)[0] == pytest.approx(2.0)


def test_fixed_variables_stay_columns_and_unfix_restores_their_bounds() -> None:
    m = small_model()
    m.x.fix(1.0)  # fixed before loading: still a column, at its value
    link = HighsLink(m, quiet_highs())
    link.use_objective(m.obj)
    assert optimum(link)[0] == pytest.approx(1 + 2 * 3)
    m.x.unfix()
    link.update_variables([m.x])
    assert optimum(link)[0] == pytest.approx(4.0)
    link.load_values()
    assert pyo.value(m.x) == pytest.approx(4.0) and pyo.value(m.y) == pytest.approx(0.0)


def test_rows_added_and_removed_keep_the_map_in_step() -> None:
    m = small_model()
    m.extra = pyo.Constraint(expr=m.x <= 1)
    m.extra.deactivate()
    link = HighsLink(m, quiet_highs())
    link.use_objective(m.obj)
    link.add_row(m.extra)  # x <= 1: y = 3 -> 1 + 6
    assert optimum(link)[0] == pytest.approx(7.0)
    assert link.duals()[m.extra] == pytest.approx(-1.0)  # one more unit of x saves 2 - 1
    link.remove_row(m.extra)
    assert optimum(link)[0] == pytest.approx(4.0)
    assert link.highs.getNumRow() == 1 and id(m.extra) not in link.row_of


def test_interrupt_when_stops_highs_within_a_few_iterations() -> None:
    """Inside `interrupt_when`, HiGHS asks the check on every iteration and stops when it is true."""
    from optimizer.run import solve_prepared
    from optimizer.solve import SolveInterrupted, interrupt_when

    prepared = prepare(default_scenario())
    asked = []

    def after_five() -> bool:
        asked.append(1)
        return len(asked) > 5

    with interrupt_when(after_five), pytest.raises(SolveInterrupted, match="interrupted during"):
        solve_prepared(prepared)
    info = prepared.solver.highs.getInfo()
    assert len(asked) == 6 and info.ipm_iteration_count + info.simplex_iteration_count <= 6
    # Outside the block a new model solves to the end.
    assert solve_prepared(prepare(default_scenario())).status == "optimal"


@pytest.mark.parametrize("parametric", [False, True])
def test_plain_rows_read_without_the_visitor_are_bit_identical(parametric: bool) -> None:
    """`_plain_linear` (the fast reader of plain sums) gives exactly the visitor's coefficients."""
    from pyomo.repn.linear import LinearRepnVisitor

    from optimizer.handoff import _ModelVariables, _NotPlain, _plain_linear

    link = prepare(default_scenario(), parametric_members=parametric).solver.link
    visitor = LinearRepnVisitor({}, var_recorder=_ModelVariables(link.column_of))
    fast = general = 0
    for con in link.constraints:
        _lower, body, _upper = con.to_bounded_expression()
        repn = visitor.walk_expression(body)
        expected = {link.column_of[i]: c for i, c in repn.linear.items()}
        try:
            terms, constant = _plain_linear(body, link.column_of)
        except _NotPlain:
            general += 1
            continue
        fast += 1
        assert terms == expected, con.name  # exact, not approx
        assert constant == repn.constant, con.name
    assert fast > 0.8 * len(link.constraints)  # nearly every row of the shipped model is plain
    assert (general > 0) == parametric  # parameters in coefficients go to the visitor

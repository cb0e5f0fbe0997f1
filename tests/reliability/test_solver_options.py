"""SolveOptions.solver_options: an allow-list of numerical and algorithmic HiGHS options.

Every allowed option, with a valid value, must solve (the list holds nothing that breaks a
run); anything else (files, logs, output, threads, time limits, unknown names) is refused
by the library itself, naming the option; the service refuses it too, in the same words.
The refusals are also rows of the bad-input catalogue (test_bad_input_catalogue.py).
"""

from __future__ import annotations

import pytest

import optimizer
from optimizer.schemas import ALLOWED_SOLVER_OPTIONS

from .helpers import TINY

VALID = {
    "solver": "ipm",
    "simplex_strategy": 4,
    "presolve": "off",
    "parallel": "off",
    "run_crossover": "on",
    "primal_feasibility_tolerance": 1e-8,
    "dual_feasibility_tolerance": 1e-8,
    "optimality_tolerance": 1e-8,
    "ipm_optimality_tolerance": 1e-9,
    "simplex_scale_strategy": 1,
    "simplex_dual_edge_weight_strategy": 1,
    "simplex_primal_edge_weight_strategy": 0,
    "random_seed": 7,
}
REFUSED = [
    "log_file", "write_solution_to_file", "solution_file", "write_model_file", "read_solution_file",
    "output_flag", "log_to_console", "threads", "time_limit", "highs_debug_level", "no_such_option",
    "objective_bound", "simplex_iteration_limit", "mip_rel_gap",
]


def test_every_allowed_option_is_listed_here():
    assert set(VALID) == set(ALLOWED_SOLVER_OPTIONS)


@pytest.mark.parametrize(("name", "value"), sorted(VALID.items()))
def test_allowed_option_solves(datasets_dir, name, value):
    result = optimizer.solve({**TINY, "end_year": 2030, "options": {"solver_options": {name: value}}})
    assert result.status == "optimal", (name, result.summary.message)


@pytest.mark.parametrize("name", REFUSED)
def test_other_options_are_refused_by_name(name):
    with pytest.raises(optimizer.ScenarioError) as caught:
        optimizer.Scenario.from_data({"options": {"solver_options": {name: 1}}})
    text = str(caught.value)
    assert f"scenario.options.solver_options.{name}" in text and f"'{name}' is not an allowed HiGHS option" in text


@pytest.mark.parametrize(
    ("options", "where"),
    [
        ({"simplex_strategy": 9}, "simplex_strategy"),
        ({"simplex_strategy": True}, "simplex_strategy"),
        ({"presolve": "maybe"}, "presolve"),
        ({"solver": "qpasm"}, "solver"),
        ({"primal_feasibility_tolerance": 0.5}, "primal_feasibility_tolerance"),
        ({"random_seed": -1}, "random_seed"),
    ],
)
def test_allowed_options_with_bad_values_are_refused(options, where):
    with pytest.raises(optimizer.ScenarioError) as caught:
        optimizer.Scenario.from_data({"options": {"solver_options": options}})
    assert f"scenario.options.solver_options.{where}" in str(caught.value)


def test_the_service_refuses_in_the_same_words(lite_client_keyless):
    response = lite_client_keyless.post("/v1/solve", json={**TINY, "options": {"solver_options": {"log_file": "x"}}})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "options.solver_options.log_file"
    assert "'log_file' is not an allowed HiGHS option" in error["message"]

"""Ways to build the model and hand it to HiGHS, timed side by side in one process.

    python benchmarks/handoff.py [--size default|small|medium|large] [--repeat 5]

Each variant builds the model from the same inputs and loads it into a HiGHS instance;
process CPU time (robust to a busy machine), medians over rounds that alternate the variants:

* appsi                 Pyomo's persistent interface (appsi Highs().set_instance), what
                        ModelSolver used before optimizer/handoff.py
* appsi, gc off         the same with Python's cyclic garbage collector off meanwhile
* only_child_vars       appsi Highs(only_child_vars=True): all columns in one call
* only_child_vars, gc off
* standard form, gc off pyomo's LinearStandardFormCompiler + one highspy passModel (no
                        persistent updates, no objective switching)
* HighsLink, gc off     what optimizer/solve.py:ModelSolver does (optimizer/handoff.py:
                        rows compiled by Pyomo's linear visitor, one passModel, the exposure
                        objective set; re-solves update only parametric rows)
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_SCENARIO = ROOT / "datasets" / "rare_earths" / "scenarios" / "default.yaml"


def appsi(model: Any, only_child_vars: bool = False) -> Any:
    """Load the model the way ModelSolver does."""
    from pyomo.contrib.appsi.solvers.highs import Highs

    opt = Highs(only_child_vars=only_child_vars)
    opt.highs_options = {"output_flag": False}
    opt.set_instance(model)
    return opt._solver_model


def standard_form(model: Any) -> Any:
    """Compile the model to a CSC matrix and pass it to HiGHS in one call."""
    import highspy
    import numpy as np
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    repn = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    matrix = repn.A.tocsc()
    lp = highspy.HighsLp()
    lp.num_row_, lp.num_col_ = matrix.shape
    lp.col_cost_ = np.asarray(repn.c.todense()).ravel()
    inf = highspy.kHighsInf
    lp.col_lower_ = np.array([-inf if v.lb is None else v.lb for v in repn.columns], dtype=float)
    lp.col_upper_ = np.array([inf if v.ub is None else v.ub for v in repn.columns], dtype=float)
    sense = np.array([row.bound_type for row in repn.rows])
    rhs = np.asarray(repn.rhs, dtype=float)
    lp.row_lower_ = np.where(sense == -1, -inf, rhs)  # -1: <=, 0: ==, 1: >=
    lp.row_upper_ = np.where(sense == 1, inf, rhs)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = matrix.indptr, matrix.indices, matrix.data
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.passModel(lp)
    return highs


def highs_link(model: Any) -> Any:
    """Load the model the way ModelSolver does."""
    import highspy

    from optimizer.handoff import HighsLink

    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    link = HighsLink(model, highs)
    link.use_objective(model.obj_exposure)
    return highs


VARIANTS: list[tuple[str, bool, Callable[[Any], Any]]] = [
    ("appsi", False, appsi),
    ("appsi, gc off", True, appsi),
    ("only_child_vars", False, lambda m: appsi(m, only_child_vars=True)),
    ("only_child_vars, gc off", True, lambda m: appsi(m, only_child_vars=True)),
    ("standard form, gc off", True, standard_form),
    ("HighsLink, gc off", True, highs_link),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="default", help="default (the shipped scenario) or a synthetic size")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from optimizer.model import build_inputs, build_model
    from optimizer.scenario import resolve_scenario
    from optimizer.schemas import Scenario

    with tempfile.TemporaryDirectory(prefix="coalition-handoff-") as tmp:
        if args.size == "default":
            scenario = Scenario.from_file(DEFAULT_SCENARIO)
        else:
            from benchmarks.synthetic import write_synthetic

            scenario = Scenario.from_file(write_synthetic(Path(tmp), args.size))
        inputs = build_inputs(resolve_scenario(scenario))
        seconds: dict[str, list[tuple[float, float]]] = {label: [] for label, _off, _load in VARIANTS}
        size = ""
        for _ in range(args.repeat):
            for label, gc_off, load in VARIANTS:
                gc.collect()
                enabled = gc.isenabled()
                if gc_off:
                    gc.disable()
                try:
                    start = time.process_time()
                    model, _index = build_model(inputs, scenario.objective.cost_weight_per_musd)
                    built = time.process_time()
                    highs = load(model)
                    loaded = time.process_time()
                finally:
                    if enabled:
                        gc.enable()
                size = f"{highs.getNumRow():,} rows, {highs.getNumCol():,} columns, {highs.getNumNz():,} non-zeros"
                seconds[label].append((built - start, loaded - built))
                del model, highs
    print(f"{args.size}: {size}; median CPU seconds of {args.repeat} alternating rounds\n")
    print("| variant | build | hand-off | both |\n|---|---|---|---|")
    for label, runs in seconds.items():
        build = statistics.median(b for b, _h in runs)
        handoff = statistics.median(h for _b, h in runs)
        both = statistics.median(b + h for b, h in runs)
        print(f"| {label} | {build:.3f} | {handoff:.3f} | {both:.3f} |")


if __name__ == "__main__":
    main()

"""One measurement in a fresh process, so that its peak memory is its own.

`run.py` starts this script once per configuration; it writes one JSON object to --out.

    pipeline  optimizer.solve(scenario), timed phase by phase, then (untimed, after the peak
              is recorded) the phase-1 LP exported as MPS and the phase-2 row and costs saved
    highs     HiGHS alone on that MPS: read, phase 1, add the exposure cap and switch the
              objective in highspy, phase 2 warm (like the pipeline), read back; then phase 2 cold
    sweep     a budget sweep: cold (solve() per budget) or warm (one prepare, re-solves)
    value     optimizer.analysis.value.member_value, exact, in this process (cold solves)
    growth    prepare only (build + hand-off) and the model size
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def code_fingerprint() -> str:
    """A short hash of the optimizer's sources: which code a measurement ran on."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((ROOT / "optimizer").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB.

    VmHWM, not getrusage's ru_maxrss: a child's ru_maxrss starts at its parent's RSS when
    it is forked, so a small child of a large parent would report the parent's peak.
    """
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def current_rss_mb() -> float:
    """Resident set size now, MB."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


class Probe:
    """Wraps library functions in place to time them; never changes what they do."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)  # process CPU time: robust to a busy machine
        self.runs: list[dict[str, Any]] = []
        self.solver: Any = None

    def wrap(
        self, owner: Any, name: str, label: str, keep: bool = False, on_enter: Callable[[], None] | None = None
    ) -> None:
        original: Callable[..., Any] = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if on_enter is not None:
                on_enter()
            start, cpu = time.perf_counter(), time.process_time()
            try:
                value = original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self.cpu[label] += time.process_time() - cpu
            if keep:
                self.solver = value
            return value

        setattr(owner, name, timed)

    def wrap_runs(self, solver_class: Any) -> None:
        """Time each HiGHS run of ModelSolver and keep HiGHS's iteration counts."""
        original = solver_class._run
        probe = self

        @functools.wraps(original)
        def timed(solver: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            value = original(solver, *args, **kwargs)
            info = solver.highs.getInfo()
            probe.runs.append(
                {
                    "phase": kwargs.get("phase", ""),
                    "seconds": time.perf_counter() - start,
                    "status": value[0],
                    "solver": solver.highs_options.get("solver", "choose"),
                    "simplex_iterations": int(info.simplex_iteration_count),
                    "ipm_iterations": int(info.ipm_iteration_count),
                    "crossover_iterations": int(info.crossover_iteration_count),
                    "objective": float(info.objective_function_value),
                }
            )
            return value

        solver_class._run = timed


def instrument() -> Probe:
    """Time the steps of optimizer.run.prepare/solve_prepared by wrapping what they call."""
    import optimizer.run as run
    from optimizer.solve import ModelSolver  # (optimizer.solve the module is shadowed by the function)

    probe = Probe()
    probe.wrap(run, "resolve_scenario", "resolve")
    probe.wrap(run, "build_inputs", "inputs")
    probe.wrap(run, "build_model", "build")
    probe.wrap(run, "ModelSolver", "handoff", keep=True)
    probe.wrap(ModelSolver, "solve", "solve")
    probe.wrap(run, "extract", "extract")
    probe.wrap_runs(ModelSolver)
    return probe


def instrument_build(probe: Probe) -> None:
    """Also time each function build_model calls (index, variables, each constraint family)."""
    import inspect

    import optimizer.model.build as build

    for name, function in vars(build).items():
        if inspect.isfunction(function) and function.__module__.startswith("optimizer.model") and name != "build_model":
            probe.wrap(build, name, f"build: {name}")


def load_scenario(path: str, options: dict[str, Any] | None = None) -> Any:
    """A scenario file, with some solve options replaced."""
    from optimizer.schemas import Scenario

    scenario = Scenario.from_file(path)
    if options:
        data = scenario.model_dump(mode="json")
        data["options"] = {**data["options"], **options}
        scenario = Scenario.from_data(data)
    return scenario


def model_size(highs: Any) -> dict[str, int]:
    """Rows, columns and non-zeros of the LP as HiGHS holds it."""
    return {"rows": int(highs.getNumRow()), "cols": int(highs.getNumCol()), "nnz": int(highs.getNumNz())}


def pipeline(args: argparse.Namespace) -> dict[str, Any]:
    """The whole product path, optimizer.solve, in this fresh process."""
    start = time.perf_counter()
    import optimizer

    imported = time.perf_counter()
    baseline = current_rss_mb()
    probe = instrument()
    scenario = load_scenario(args.scenario, json.loads(args.options))
    begin, cpu = time.perf_counter(), time.process_time()
    result = optimizer.solve(scenario)
    end_to_end, cpu = time.perf_counter() - begin, time.process_time() - cpu
    peak = peak_rss_mb()
    summary = result.summary
    highs = probe.solver.highs
    s = probe.seconds
    phases = [run["seconds"] for run in probe.runs]
    out: dict[str, Any] = {
        "status": summary.status,
        "message": summary.message,
        "import_s": imported - start,
        "end_to_end_s": end_to_end,
        "end_to_end_cpu_s": cpu,
        "load_s": s["resolve"] + s["inputs"],
        "resolve_s": s["resolve"],
        "inputs_s": s["inputs"],
        "build_s": s["build"],
        "handoff_s": s["handoff"],
        "cpu_s": dict(probe.cpu),
        "solve_s": s["solve"],
        "highs_runs_s": sum(phases),
        "solve_overhead_s": s["solve"] - sum(phases),
        "extract_s": s["extract"],
        "runs": probe.runs,
        "reported": summary.model.seconds.model_dump(),
        "variables": summary.model.variables,
        "constraints": summary.model.constraints,
        "exposure": summary.objective.get("exposure_share_years"),
        "cost_usd": summary.objective.get("cost_usd"),
        "peak_rss_mb": peak,
        "baseline_rss_mb": baseline,
        "highs_options": dict(probe.solver.highs_options),
        "time_limit_s": scenario.options.time_limit_s,
        "exposure_tolerance": scenario.objective.exposure_tolerance,
    }
    if args.export:
        out.update(export_for_highs(highs, probe, scenario, Path(args.export)))
    else:
        out.update(model_size(highs))
    return out


def export_for_highs(highs: Any, probe: Probe, scenario: Any, directory: Path) -> dict[str, Any]:
    """Write what HiGHS alone needs to solve the same two phases.

    Phase 1 is exactly `coalition export` (a fresh prepare, written before any solve). Phase 2
    is that LP plus the exposure-cap row and the cost objective, as the pipeline's own HiGHS
    holds them after its second solve: we save that row and the cost vector.
    """
    import numpy as np

    from optimizer.run import prepare

    directory.mkdir(parents=True, exist_ok=True)
    fresh = prepare(scenario)
    fresh_highs = fresh.solver.highs
    size = model_size(fresh_highs)
    mps = directory / "phase1.mps"
    fresh.solver.write(mps)
    phase2: dict[str, Any] = {"mps": str(mps), **size, "phase2": None}
    if len(probe.runs) >= 2 and highs.getNumRow() == size["rows"] + 1:
        lp = highs.getLp()
        matrix = lp.a_matrix_
        starts, index, value = np.array(matrix.start_), np.array(matrix.index_), np.array(matrix.value_)
        last = lp.num_row_ - 1
        hit = index == last
        columns = np.repeat(np.arange(lp.num_col_), np.diff(starts))[hit]
        npz = directory / "phase2.npz"
        np.savez(npz, cols=columns, vals=value[hit], cost=np.array(lp.col_cost_), offset=lp.offset_)
        phase2["phase2"] = str(npz)
    return phase2


def highs_alone(args: argparse.Namespace) -> dict[str, Any]:
    """The same LP solved by highspy directly: read, phase 1, phase 2 (warm), read back.

    Phase 1 and the cold phase 2 use the method the pipeline used for each; the warm phase 2
    uses primal simplex from phase 1's basis (primal feasible once the cap row is added).
    """
    start = time.perf_counter()
    import highspy
    import numpy as np

    imported = time.perf_counter()
    baseline = current_rss_mb()
    spec = json.loads(Path(args.spec).read_text(encoding="utf-8"))
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    for key, value in spec["highs_options"].items():
        highs.setOptionValue(key, value)
    if spec.get("time_limit_s"):
        highs.setOptionValue("time_limit", float(spec["time_limit_s"]))
    phase2 = np.load(spec["phase2"]) if spec.get("phase2") else None

    cold_solver = str(spec["highs_options"].get("solver", "choose"))

    def run(solver: str = cold_solver, strategy: int = 1) -> dict[str, Any]:
        highs.setOptionValue("solver", solver)
        highs.setOptionValue("simplex_strategy", strategy)  # 1 dual, 4 primal
        begin, cpu = time.perf_counter(), time.process_time()
        highs.run()
        info = highs.getInfo()
        return {
            "solver": solver,
            "seconds": time.perf_counter() - begin,
            "cpu_seconds": time.process_time() - cpu,
            "status": highs.modelStatusToString(highs.getModelStatus()),
            "simplex_iterations": int(info.simplex_iteration_count),
            "ipm_iterations": int(info.ipm_iteration_count),
            "objective": float(info.objective_function_value),
        }

    t0, cpu = time.perf_counter(), time.process_time()
    highs.readModel(spec["mps"])
    t1 = time.perf_counter()
    runs = [run(spec.get("phase1_solver", cold_solver))]
    t2 = time.perf_counter()
    if phase2 is not None and runs[0]["status"] == "Optimal":
        cols = phase2["cols"].astype(np.int32)
        vals = phase2["vals"]
        x = np.asarray(highs.getSolution().col_value)
        exposure = float(vals @ x[cols])
        cap = exposure * (1 + spec["exposure_tolerance"]) + 1e-9
        highs.addRow(-highspy.kHighsInf, cap, len(cols), cols, vals)
        cost = phase2["cost"]
        highs.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
        highs.changeObjectiveOffset(float(phase2["offset"]))
        warm_basis = highs.getBasis()  # phase 1's basis, the cap row basic
        # Warm: primal simplex, as the pipeline's cost_phase_start="warm" (the basis is
        # primal feasible with the cap row added; dual simplex from it took 2-7x longer).
        runs.append(run("simplex", strategy=4))
    t3 = time.perf_counter()
    solution = highs.getSolution()
    primal, dual = np.asarray(solution.col_value), np.asarray(solution.row_dual)
    t4, cpu = time.perf_counter(), time.process_time() - cpu
    peak = peak_rss_mb()
    out = {
        "import_s": imported - start,
        "read_s": t1 - t0,
        "phase1_s": t2 - t1,
        "phase2_s": t3 - t2,
        "readback_s": t4 - t3,
        "total_s": t4 - t0,
        "total_cpu_s": cpu,
        "runs": runs,
        "values": int(primal.size + dual.size),
        "peak_rss_mb": peak,
        "baseline_rss_mb": baseline,
    }
    if len(runs) == 2:
        # Phase 2 again from scratch (no basis, so presolve runs): is the warm start worth it?
        highs.clearSolver()
        out["phase2_cold"] = run(spec.get("phase2_solver", cold_solver))
        # Other ways to run phase 2, each from phase 1's basis (warm) or from nothing (cold).
        out["phase2_variants"] = []
        for solver, start in spec.get("phase2_variants", []):
            if start == "warm":
                highs.setBasis(warm_basis)
            else:
                highs.clearSolver()
            method = run("simplex", strategy=4) if solver == "primal" else run(solver)
            out["phase2_variants"].append({**method, "solver": solver, "start": start})
    return out


def sweep(args: argparse.Namespace) -> dict[str, Any]:
    """A budget sweep solved cold (solve() per item) or warm (one model, re-solved)."""
    import optimizer
    from optimizer.analysis.sweep import sweep_options
    from optimizer.run import prepare, solve_prepared
    from optimizer.schemas import Scenario

    base = load_scenario(args.scenario).model_dump(mode="json")
    base = sweep_options(base)  # threads=1, no duals: what the product's sweep workers do
    budgets = json.loads(args.budgets)
    points: list[dict[str, Any]] = []
    begin = time.perf_counter()
    if args.kind == "cold":
        for budget in budgets:
            t = time.perf_counter()
            result = optimizer.solve(Scenario.from_data({**base, "budget_usd": budget}))
            points.append(_point(result, budget, time.perf_counter() - t))
    else:
        t = time.perf_counter()
        prepared = prepare(Scenario.from_data({**base, "budget_usd": max(budgets)}))
        prepare_s = time.perf_counter() - t
        for budget in budgets:
            t = time.perf_counter()
            prepared.model.budget_usd.set_value(float(budget))
            prepared.solver.params_changed()
            result = solve_prepared(prepared)
            points.append(_point(result, budget, time.perf_counter() - t))
        points[0]["seconds"] += prepare_s
    return {"kind": args.kind, "seconds": time.perf_counter() - begin, "points": points, "peak_rss_mb": peak_rss_mb()}


def _point(result: Any, budget: float, seconds: float) -> dict[str, Any]:
    objective = result.summary.objective
    return {
        "budget_usd": budget,
        "seconds": seconds,
        "status": result.status,
        "exposure": objective.get("exposure_share_years"),
        "cost_usd": objective.get("cost_usd"),
    }


def value(args: argparse.Namespace) -> dict[str, Any]:
    """Member-value runs over every non-empty subset of the scenario's coalition.

    analysis: optimizer.analysis.value.member_value (exact), in this process (cold solves);
    cold:     one solve() per subset with the subset as the coalition;
    warm:     one member-parametric prepare, then set_members + re-solve per subset (needs
              optimizer.run.set_members; exposure-only solves as the analysis does).
    """
    import optimizer
    import optimizer.run as run
    from optimizer.analysis.sweep import sweep_options
    from optimizer.scenario import resolve_scenario
    from optimizer.schemas import Scenario

    scenario = load_scenario(args.scenario)
    begin = time.perf_counter()
    if args.kind == "analysis":
        from optimizer.analysis.value import member_value

        result = member_value(scenario=scenario, method="exact", workers=1)
        return {
            "kind": args.kind,
            "seconds": time.perf_counter() - begin,
            "members": result.coalition,
            "solves": 2 ** len(result.coalition) + 1,
            "peak_rss_mb": peak_rss_mb(),
        }
    members = resolve_scenario(scenario).coalition
    base = sweep_options(scenario.model_dump(mode="json"))
    base.update(targets=[], objective={**base["objective"], "mode": "weighted", "cost_weight_per_musd": 0.0})
    masks = range(1, 2 ** len(members))
    exposure: dict[int, float | None] = {}
    subset = [[m for i, m in enumerate(members) if mask & (1 << i)] for mask in masks]
    if args.kind == "cold":
        for mask, chosen in zip(masks, subset, strict=True):
            result = optimizer.solve(Scenario.from_data({**base, "coalition": chosen, "member_budgets_usd": {}}))
            exposure[mask] = result.summary.objective.get("exposure_share_years")
    else:
        if not hasattr(run, "set_members"):
            raise RuntimeError("optimizer.run.set_members does not exist: no warm member switching")
        prepared = run.prepare(Scenario.from_data({**base, "coalition": members}), parametric_members=True)
        for mask, chosen in zip(masks, subset, strict=True):
            run.set_members(prepared, chosen)
            exposure[mask] = run.solve_prepared(prepared).summary.objective.get("exposure_share_years")
    return {
        "kind": args.kind,
        "seconds": time.perf_counter() - begin,
        "members": members,
        "solves": len(exposure),
        "exposure": exposure,
        "peak_rss_mb": peak_rss_mb(),
    }


def growth(args: argparse.Namespace) -> dict[str, Any]:
    """Build and hand-off only: how model size and build time grow."""
    from optimizer.run import prepare

    probe = instrument()
    instrument_build(probe)
    prepared = prepare(load_scenario(args.scenario))
    s = probe.seconds
    from optimizer.solve import model_size as pyomo_size

    variables, constraints = pyomo_size(prepared.model)
    return {
        "load_s": s["resolve"] + s["inputs"],
        "build_s": s["build"],
        "handoff_s": s["handoff"],
        "build_cpu_s": probe.cpu["build"],
        "handoff_cpu_s": probe.cpu["handoff"],
        "families_cpu_s": {k[7:]: v for k, v in probe.cpu.items() if k.startswith("build: ")},
        "variables": variables,
        "constraints": constraints,
        **model_size(prepared.solver.highs),
        "peak_rss_mb": peak_rss_mb(),
    }


MODES: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "pipeline": pipeline,
    "highs": highs_alone,
    "sweep": sweep,
    "value": value,
    "growth": growth,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=sorted(MODES))
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--scenario")
    parser.add_argument("--options", default="{}", help="JSON: solve options to set on the scenario")
    parser.add_argument("--export", help="pipeline: directory for the MPS and phase-2 data")
    parser.add_argument("--spec", help="highs: JSON file naming the MPS, phase-2 data and options")
    parser.add_argument("--budgets", help="sweep: JSON list of budgets")
    parser.add_argument("--kind", choices=["cold", "warm", "analysis"], default="cold")
    args = parser.parse_args()
    fingerprint = code_fingerprint()
    out = MODES[args.mode](args)
    out["code"] = fingerprint
    args.out.write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

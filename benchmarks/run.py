"""Where the time and memory go: the pipeline against HiGHS alone, sweeps, growth, HiGHS settings.

    python benchmarks/run.py                                  # small, medium, default; sweeps; value; growth
    python benchmarks/run.py --sizes small,medium,default,large --repeat 3
    python benchmarks/run.py --sections phases,settings       # HiGHS methods/options on default + medium
    python benchmarks/run.py --sizes small --repeat 1 --quick # smoke run (< 1 min)

Every configuration runs in a fresh process (benchmarks/worker.py), so each peak RSS is its
own; pipeline and HiGHS-alone runs alternate, so machine noise hits both alike. Results are
printed as markdown tables and written to --out as <name>.md and <name>.json (name: the sections run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import SIZES, Size, write_synthetic  # noqa: E402

WORKER = ROOT / "benchmarks" / "worker.py"
DEFAULT_SCENARIO = ROOT / "datasets" / "rare_earths" / "scenarios" / "default.yaml"
SECTIONS = ("sizes", "sweeps", "value", "growth", "settings", "phases")
DEFAULT_SECTIONS = ("sizes", "sweeps", "value", "growth")
GROWTH_COUNTRIES = (15, 30, 60)
VALUE_SIZE = Size(countries=18, materials=1, years=10)  # a coalition of 6
GROWTH_SHAPE = {"materials": 2, "years": 15}

# HiGHS settings compared on evidence: (label, scenario options). `threads` is a scenario
# option; everything else goes through options.solver_options as raw HiGHS options.
SETTINGS: list[tuple[str, dict[str, Any]]] = [
    ("current default", {}),
    ("dual simplex (1), 1 thread", {"solver_options": {"solver": "simplex", "simplex_strategy": 1}}),
    ("dual simplex (1), 2 threads", {"threads": 2, "solver_options": {"solver": "simplex", "simplex_strategy": 1}}),
    ("dual PAMI (2), 1 thread", {"solver_options": {"solver": "simplex", "simplex_strategy": 2}}),
    ("dual PAMI (2), 2 threads", {"threads": 2, "solver_options": {"solver": "simplex", "simplex_strategy": 2}}),
    ("primal simplex (4), 1 thread", {"solver_options": {"solver": "simplex", "simplex_strategy": 4}}),
    ("primal simplex (4), 2 threads", {"threads": 2, "solver_options": {"solver": "simplex", "simplex_strategy": 4}}),
    ("presolve off", {"solver_options": {"presolve": "off"}}),
    ("ipm (crossover on)", {"solver_options": {"solver": "ipm", "run_crossover": "on"}}),
    ("ipm, no crossover", {"solver_options": {"solver": "ipm", "run_crossover": "off"}}),
    ("cost phase warm", {"cost_phase_start": "warm"}),
]


# --- running workers ------------------------------------------------------------------


def run_worker(mode: str, workdir: Path, timeout: float, **options: str) -> dict[str, Any]:
    """Run benchmarks/worker.py in a fresh process; its JSON, or {'error': ...}."""
    out = Path(tempfile.mkstemp(prefix=f"{mode}-", suffix=".json", dir=workdir)[1])
    command = [sys.executable, str(WORKER), mode, "--out", str(out)]
    for key, value in options.items():
        command += [f"--{key}", value]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"stopped after {timeout:.0f} s (benchmark time cap)", "wall_s": time.perf_counter() - start}
    if done.returncode != 0 or not out.stat().st_size:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"error": " | ".join(tail) or f"exit code {done.returncode}", "wall_s": time.perf_counter() - start}
    result = json.loads(out.read_text(encoding="utf-8"))
    result["wall_s"] = time.perf_counter() - start
    return result


def scenario_for(name: str, workdir: Path, seed: int) -> Path:
    """The scenario file of a size name: 'default' is the shipped one, others are generated."""
    if name == "default":
        return DEFAULT_SCENARIO
    return write_synthetic(workdir / "datasets" / name, SIZES[name], seed)


def median(values: Iterable[float | None]) -> float | None:
    """Median of the values that exist."""
    found = [v for v in values if v is not None]
    return statistics.median(found) if found else None


# --- sections ------------------------------------------------------------------------


def section_sizes(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Pipeline end to end against HiGHS alone on the same matrix, for each size."""
    results: dict[str, Any] = {}
    for name in args.sizes:
        scenario = scenario_for(name, workdir, args.seed)
        options = {"time_limit_s": args.large_time_limit} if name == "large" else {}
        timeout = args.large_time_limit * 4 + 300 if name == "large" else args.timeout
        export = workdir / "export" / name
        pipelines, alone = [], []
        for rep in range(args.repeat):
            extra = {"export": str(export)} if rep == 0 else {}
            log(f"sizes: {name} pipeline (run {rep + 1}/{args.repeat})")
            p = run_worker("pipeline", workdir, timeout, scenario=str(scenario), options=json.dumps(options), **extra)
            pipelines.append(p)
            if "error" in p or not pipelines[0].get("mps"):
                log(f"  {p.get('error', 'no export')}")
                break
            spec = workdir / f"spec-{name}.json"
            keys = ("mps", "phase2", "highs_options", "time_limit_s", "exposure_tolerance")
            # HiGHS alone runs each phase from scratch with the method the pipeline used for it.
            used = [run.get("solver") for run in pipelines[0].get("runs", [])]
            methods = {"phase1_solver": used[0]} if used else {}
            if len(used) > 1:
                methods["phase2_solver"] = used[1]
            spec.write_text(json.dumps({**{k: pipelines[0][k] for k in keys}, **methods}), encoding="utf-8")
            log(f"sizes: {name} HiGHS alone (run {rep + 1}/{args.repeat})")
            h = run_worker("highs", workdir, timeout, spec=str(spec))
            alone.append(h)
            if "error" in h:
                log(f"  {h['error']}")
        results[name] = {"pipeline": pipelines, "highs": alone, "scenario": str(scenario)}
    return results


def sweep_budgets(scenario: Path, items: int) -> list[float]:
    """Budgets from 25% to 200% of the scenario's, ascending (neighbours differ little)."""
    import yaml

    base = yaml.safe_load(scenario.read_text(encoding="utf-8"))["budget_usd"]
    return [base * (0.25 + 1.75 * i / max(items - 1, 1)) for i in range(items)]


def section_sweeps(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Budget sweeps solved cold (solve() per item) and warm (one prepare, re-solves)."""
    results: dict[str, Any] = {}
    for name, items in args.sweeps:
        scenario = scenario_for(name, workdir, args.seed)
        budgets = json.dumps(sweep_budgets(scenario, items))
        entry: dict[str, Any] = {"items": items}
        for kind in ("cold", "warm"):
            log(f"sweeps: {name} x{items} {kind}")
            entry[kind] = run_worker(
                "sweep", workdir, args.timeout * 4, scenario=str(scenario), budgets=budgets, kind=kind
            )
        results[name] = entry
    return results


def section_value(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Member value of a 6-member coalition: 63 non-empty subsets solved cold and warm.

    Also the product's analysis (member_value, exact: 64 subsets + the plan, cold). By
    default on a synthetic 18-country dataset (its coalition has 6 members); with
    --value-scenario default on the shipped default scenario (Five Eyes + Japan), which takes
    about 4-6 minutes per kind on 2 cores.
    """
    if args.value_scenario == "default":
        scenario = DEFAULT_SCENARIO
    else:
        scenario = write_synthetic(workdir / "datasets" / "value", VALUE_SIZE, args.seed)
    results: dict[str, Any] = {"scenario": args.value_scenario}
    for kind in ("analysis", "cold", "warm"):
        log(f"value: {kind} on {args.value_scenario}")
        results[kind] = run_worker("value", workdir, args.timeout * 4, scenario=str(scenario), kind=kind)
    return results


def section_growth(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Build time and model size at 15, 30 and 60 countries, other dimensions fixed."""
    results: dict[str, Any] = {}
    for countries in GROWTH_COUNTRIES:
        scenario = write_synthetic(
            workdir / "datasets" / f"growth{countries}", Size(countries=countries, **GROWTH_SHAPE), args.seed
        )
        runs = []
        for rep in range(args.repeat):
            log(f"growth: {countries} countries (run {rep + 1}/{args.repeat})")
            runs.append(run_worker("growth", workdir, args.timeout, scenario=str(scenario)))
        results[str(countries)] = runs
    return results


def section_settings(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """HiGHS options through the scenario, each run in a fresh process, on default and medium.

    With --repeat N the settings run round-robin N times (so load changes hit every setting
    alike) and the table shows medians.
    """
    results: dict[str, Any] = {}
    for name in args.settings_sizes:
        scenario = scenario_for(name, workdir, args.seed)
        rows: dict[str, list[dict[str, Any]]] = {label: [] for label, _options in SETTINGS}
        for rep in range(args.repeat):
            for label, options in SETTINGS:
                log(f"settings: {name}: {label} (run {rep + 1}/{args.repeat})")
                merged = {"time_limit_s": args.settings_time_limit, **options}
                rows[label].append(
                    run_worker(
                        "pipeline",
                        workdir,
                        args.settings_time_limit * 3 + 120,
                        scenario=str(scenario),
                        options=json.dumps(merged),
                    )
                )
        results[name] = rows
    return results


PHASE1_SOLVERS = ("simplex", "ipm")
# "simplex" is dual simplex (simplex_strategy 1), "primal" primal simplex (4).
PHASE2_VARIANTS = (("simplex", "warm"), ("primal", "warm"), ("simplex", "cold"), ("ipm", "cold"))


def section_phases(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Which HiGHS method for each lexicographic phase: HiGHS alone on the exported LP.

    Phase 1 by dual simplex or IPM (with crossover); then phase 2 from phase 1's basis by
    simplex (warm), or from scratch by simplex or IPM (cold). Fresh process per phase-1 method;
    other options (tolerances, presolve, threads) as the pipeline's HiGHS had them.
    """
    results: dict[str, Any] = {}
    for name in args.settings_sizes:
        scenario = scenario_for(name, workdir, args.seed)
        export = workdir / "export-phases" / name
        log(f"phases: {name}: export")
        p = run_worker("pipeline", workdir, args.timeout, scenario=str(scenario), export=str(export))
        if "error" in p:
            results[name] = {"error": p["error"]}
            continue
        options = {k: v for k, v in p["highs_options"].items() if k != "solver"}
        runs: dict[str, list[dict[str, Any]]] = {solver: [] for solver in PHASE1_SOLVERS}
        for rep in range(args.repeat):
            for solver in PHASE1_SOLVERS:
                log(f"phases: {name}: phase 1 by {solver} (run {rep + 1}/{args.repeat})")
                spec = workdir / f"spec-phases-{name}-{solver}.json"
                spec.write_text(
                    json.dumps(
                        {
                            "mps": p["mps"],
                            "phase2": p["phase2"],
                            "highs_options": options,
                            "time_limit_s": p["time_limit_s"],
                            "exposure_tolerance": p["exposure_tolerance"],
                            "phase1_solver": solver,
                            "phase2_variants": PHASE2_VARIANTS,
                        }
                    ),
                    encoding="utf-8",
                )
                runs[solver].append(run_worker("highs", workdir, args.timeout, spec=str(spec)))
        results[name] = runs
    return results


SECTION_RUNNERS: dict[str, Callable[[argparse.Namespace, Path], dict[str, Any]]] = {
    "sizes": section_sizes,
    "sweeps": section_sweeps,
    "value": section_value,
    "growth": section_growth,
    "settings": section_settings,
    "phases": section_phases,
}


# --- tables --------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 2) -> str:
    """A number for a table ('-' when missing)."""
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None."""
    return a / b if a is not None and b else None


def table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _ok(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in runs if "error" not in r]


def _run_seconds(run: dict[str, Any], index: int) -> float | None:
    runs = run.get("runs", [])
    return runs[index]["seconds"] if len(runs) > index else None


def _run_iterations(run: dict[str, Any] | None) -> int | None:
    if not run:
        return None
    return run.get("simplex_iterations", 0) + run.get("ipm_iterations", 0)


def highs_total_cold(h: dict[str, Any], cpu: bool = False) -> float | None:
    """HiGHS alone with phase 2 started from scratch (presolve on) instead of warm."""
    cold = h.get("phase2_cold")
    if cold is None or len(h["runs"]) < 2:
        return None
    if cpu:
        return h["total_cpu_s"] - h["runs"][1]["cpu_seconds"] + cold["cpu_seconds"]
    return h["total_s"] - h["phase2_s"] + cold["seconds"]


def render_sizes(results: dict[str, Any]) -> str:
    """Tables of the sizes section."""
    out = ["### Pipeline end to end vs HiGHS alone (median of repeats; seconds, MB)", ""]
    rows, phase_rows, memory_rows, check_rows = [], [], [], []
    for name, entry in results.items():
        p_runs, h_runs = _ok(entry["pipeline"]), _ok(entry["highs"])
        if not p_runs:
            err = entry["pipeline"][0].get("error", "?") if entry["pipeline"] else "not run"
            rows.append([name, f"error: {err}", *["-"] * 14])
            continue
        first = p_runs[0]

        def pm(key: str, runs: list[dict[str, Any]] = p_runs) -> float | None:
            return median(r.get(key) for r in runs)

        def hm(key: str, runs: list[dict[str, Any]] = h_runs) -> float | None:
            return median(r.get(key) for r in runs)

        e2e = pm("end_to_end_s")
        alone = hm("total_s")
        alone_cold = median(highs_total_cold(h) for h in h_runs)
        best = min(v for v in (alone, alone_cold) if v is not None) if h_runs else None
        cpu_alone = [median(r.get("total_cpu_s") for r in h_runs), median(highs_total_cold(h, True) for h in h_runs)]
        cpu_best = min((v for v in cpu_alone if v is not None), default=None)
        status = first["status"] + (f" ({first['message']})" if first.get("message") else "")
        rows.append(
            [
                name,
                f"{first['rows']:,} / {first['cols']:,} / {first['nnz']:,}",
                fmt(pm("load_s")),
                fmt(pm("build_s")),
                fmt(pm("handoff_s")),
                fmt(median(_run_seconds(r, 0) for r in p_runs)),
                fmt(median(_run_seconds(r, 1) for r in p_runs)),
                fmt(pm("solve_overhead_s")),
                fmt(pm("extract_s")),
                fmt(e2e),
                fmt(alone),
                fmt(alone_cold),
                fmt(ratio(e2e, best)),
                fmt(ratio(e2e, alone)),
                fmt(ratio(pm("end_to_end_cpu_s"), cpu_best)),
                status,
            ]
        )
        p_peak, h_peak = pm("peak_rss_mb"), hm("peak_rss_mb")
        p_base, h_base = pm("baseline_rss_mb"), hm("baseline_rss_mb")
        memory_rows.append(
            [
                name,
                fmt(p_peak, 0),
                fmt(h_peak, 0),
                fmt(ratio(p_peak, h_peak)),
                fmt(p_base, 0),
                fmt(h_base, 0),
                fmt(ratio((p_peak or 0) - (p_base or 0), (h_peak or 0) - (h_base or 0))),
            ]
        )
        if h_runs:
            h = h_runs[0]
            warm2 = h["runs"][1] if len(h["runs"]) > 1 else None
            cold2 = h.get("phase2_cold")
            p2 = first["runs"][1] if len(first["runs"]) > 1 else None
            phase_rows.append(
                [
                    name,
                    f"{_run_iterations(first['runs'][0])} / {fmt(_run_seconds(first, 0))}",
                    f"{_run_iterations(p2)} / {fmt(p2['seconds'] if p2 else None)}",
                    f"{_run_iterations(h['runs'][0])} / {fmt(hm('phase1_s'))}",
                    f"{_run_iterations(warm2)} / {fmt(warm2['seconds'] if warm2 else None)}",
                    f"{_run_iterations(cold2)} / {fmt(cold2['seconds'] if cold2 else None)}",
                    fmt(ratio(warm2["seconds"] if warm2 else None, cold2["seconds"] if cold2 else None)),
                ]
            )
            obj_p = [r["objective"] for r in first["runs"]]
            obj_h = [r["objective"] for r in h["runs"]]
            diffs = [abs(a - b) / max(1.0, abs(b)) for a, b in zip(obj_p, obj_h, strict=False)]
            check_rows.append(
                [
                    name,
                    ", ".join(f"{v:.6g}" for v in obj_p),
                    ", ".join(f"{v:.6g}" for v in obj_h),
                    f"{max(diffs):.1e}" if diffs else "-",
                ]
            )
    out.append(
        table(
            [
                "size",
                "rows / cols / nnz",
                "load",
                "build",
                "hand-off",
                "phase 1",
                "phase 2",
                "solve other",
                "extract",
                "end to end",
                "HiGHS alone (ph2 warm)",
                "HiGHS alone (ph2 cold)",
                "ratio vs best alone",
                "ratio vs alone warm",
                "CPU-time ratio vs best",
                "status",
            ],
            rows,
        )
    )
    out += ["", "### Peak memory (RSS, MB; each configuration in its own process)", ""]
    out.append(
        table(
            [
                "size",
                "pipeline peak",
                "HiGHS alone peak",
                "ratio",
                "pipeline after imports",
                "HiGHS after imports",
                "ratio above imports",
            ],
            memory_rows,
        )
    )
    out += ["", "### Lexicographic phase 2: warm (from phase 1's basis) vs cold (iterations / seconds)", ""]
    out.append(
        table(
            [
                "size",
                "pipeline phase 1",
                "pipeline phase 2",
                "alone phase 1",
                "alone phase 2 warm",
                "alone phase 2 cold",
                "warm / cold time",
            ],
            phase_rows,
        )
    )
    out += ["", "### Same answers (objective of each phase; relative difference)", ""]
    out.append(table(["size", "pipeline", "HiGHS alone", "max rel. diff"], check_rows))
    return "\n".join(out)


def render_sweeps(results: dict[str, Any]) -> str:
    """Table of the sweeps section."""
    rows = []
    for name, entry in results.items():
        cold, warm = entry["cold"], entry["warm"]
        if "error" in cold or "error" in warm:
            rows.append([name, str(entry["items"]), cold.get("error", "-"), warm.get("error", "-"), "-", "-", "-"])
            continue
        deviation = max(
            abs((c["exposure"] or 0) - (w["exposure"] or 0)) / max(1.0, abs(c["exposure"] or 0))
            for c, w in zip(cold["points"], warm["points"], strict=True)
        )
        statuses = {p["status"] for p in cold["points"] + warm["points"]}
        rows.append(
            [
                name,
                str(entry["items"]),
                fmt(cold["seconds"]),
                fmt(warm["seconds"]),
                fmt(ratio(warm["seconds"], cold["seconds"])),
                f"{deviation:.1e}",
                ", ".join(sorted(statuses)),
            ]
        )
    return "### Budget sweep: cold (solve() per item) vs warm (one prepare, re-solves)\n\n" + table(
        ["scenario", "items", "cold s", "warm s", "warm / cold", "max exposure diff", "statuses"], rows
    )


def render_value(results: dict[str, Any]) -> str:
    """Table of the member-value runs."""
    rows = []
    cold = results.get("cold", {})
    for kind, label in (
        ("analysis", "member_value(method=exact), cold"),
        ("cold", "solve() per subset"),
        ("warm", "one parametric model, set_members + re-solve"),
    ):
        entry = results.get(kind, {"error": "not run"})
        if "error" in entry:
            rows.append([label, "-", f"error: {entry['error'][:80]}", "-", "-", "-"])
            continue
        deviation = "-"
        if kind == "warm" and "exposure" in cold:
            diffs = [
                abs(entry["exposure"][k] - v) / max(1.0, abs(v))
                for k, v in cold["exposure"].items()
                if v is not None and entry["exposure"].get(k) is not None
            ]
            deviation = f"{max(diffs):.1e}" if diffs else "-"
        rows.append(
            [
                label,
                str(entry["solves"]),
                fmt(entry["seconds"]),
                fmt(entry["seconds"] / entry["solves"], 3),
                fmt(ratio(entry["seconds"], cold.get("seconds")) if kind == "warm" else None),
                deviation,
            ]
        )
    members = next((r["members"] for r in results.values() if isinstance(r, dict) and "members" in r), [])
    return f"### Member value on {results['scenario']} ({len(members)} members: {', '.join(members)})\n\n" + table(
        ["run", "solves", "total s", "s per solve", "warm / cold", "max exposure diff vs cold"], rows
    )


def render_growth(results: dict[str, Any]) -> str:
    """Table of the growth section (build and hand-off in process CPU time: robust to load)."""
    rows, previous = [], None
    for countries, runs in results.items():
        ok = _ok(runs)
        if not ok:
            rows.append([countries, runs[0].get("error", "?"), *["-"] * 8])
            continue
        build = median(r["build_cpu_s"] for r in ok)
        handoff = median(r["handoff_cpu_s"] for r in ok)
        current = {"variables": ok[0]["variables"], "nnz": ok[0]["nnz"], "build": build, "handoff": handoff}
        growth = {k: ratio(v, previous[k]) if previous else None for k, v in current.items()}
        rows.append(
            [
                countries,
                f"{ok[0]['variables']:,}",
                f"{ok[0]['constraints']:,}",
                f"{ok[0]['nnz']:,}",
                f"{fmt(build)} ({fmt(median(r['build_s'] for r in ok))})",
                f"{fmt(handoff)} ({fmt(median(r['handoff_s'] for r in ok))})",
                fmt(growth["variables"]),
                fmt(growth["nnz"]),
                fmt(growth["build"]),
                fmt(growth["handoff"]),
            ]
        )
        previous = current
    return (
        f"### Growth in countries ({GROWTH_SHAPE['materials']} materials, {GROWTH_SHAPE['years']} years; "
        "CPU seconds, wall in brackets)\n\n"
        + table(
            [
                "countries",
                "variables",
                "constraints",
                "nnz",
                "build s",
                "hand-off s",
                "x vars",
                "x nnz",
                "x build",
                "x hand-off",
            ],
            rows,
        )
    )


def render_settings(results: dict[str, Any]) -> str:
    """Table of the settings section (medians over repeats)."""
    names = list(results)
    header = ["setting"]
    for name in names:
        header += [f"{name}: solve s", f"{name}: ph1 / ph2 s", f"{name}: iterations", f"{name}: same answer"]
    rows = []
    for label, _options in SETTINGS:
        row = [label]
        for name in names:
            runs = results[name].get(label, [{"error": "not run"}])
            runs = runs if isinstance(runs, list) else [runs]
            ok = _ok(runs)
            reference = next(iter(_ok(results[name].get("current default", []))), {})
            if not ok:
                row += [f"error: {runs[0]['error'][:60]}", "-", "-", "-"]
                continue
            run = ok[0]
            iterations = " + ".join(str(_run_iterations(r)) for r in run["runs"])
            same = len(run["runs"]) == len(reference.get("runs", [])) and all(
                abs(a["objective"] - b["objective"]) <= 1e-6 * max(1.0, abs(b["objective"]))
                for a, b in zip(run["runs"], reference.get("runs", []), strict=False)
            )
            status = "yes" if same and run["status"] == "optimal" else f"no ({run['status']}, {len(run['runs'])} runs)"
            spread = [r["solve_s"] for r in ok]
            row += [
                f"{fmt(median(spread))} [{fmt(min(spread))}-{fmt(max(spread))}]",
                f"{fmt(median(_run_seconds(r, 0) for r in ok))} / {fmt(median(_run_seconds(r, 1) for r in ok))}",
                iterations,
                status,
            ]
        rows.append(row)
    return (
        "### HiGHS settings (pipeline solve time, both phases, median [min-max] of repeats; fresh process each)"
        "\n\n" + table(header, rows)
    )


def render_phases(results: dict[str, Any]) -> str:
    """Table of the phases section: seconds (median of repeats) and iterations."""
    rows = []
    for name, entry in results.items():
        if "error" in entry:
            rows.append([name, f"error: {entry['error']}", *["-"] * 4])
            continue
        for solver in PHASE1_SOLVERS:
            ok = [r for r in _ok(entry[solver]) if r.get("phase2_variants")]
            if not ok:
                rows.append([name, solver, "error", "-", "-", "-"])
                continue
            phase1 = median(r["runs"][0]["seconds"] for r in ok)
            for i, (solver2, start) in enumerate(PHASE2_VARIANTS):
                phase2 = median(r["phase2_variants"][i]["seconds"] for r in ok)
                variant = ok[0]["phase2_variants"][i]
                rows.append(
                    [
                        name,
                        f"{solver} ({_run_iterations(ok[0]['runs'][0])} it.)",
                        f"{solver2} {start} ({_run_iterations(variant)} it.)",
                        fmt(phase1),
                        fmt(phase2),
                        fmt((phase1 or 0) + (phase2 or 0)),
                    ]
                )
    return "### HiGHS alone, method per lexicographic phase (median seconds of repeats)\n\n" + table(
        ["scenario", "phase 1", "phase 2", "phase 1 s", "phase 2 s", "both s"], rows
    )


RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "sizes": render_sizes,
    "sweeps": render_sweeps,
    "value": render_value,
    "growth": render_growth,
    "settings": render_settings,
    "phases": render_phases,
}


# --- main ----------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    import highspy
    import pyomo

    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    from benchmarks.worker import code_fingerprint

    # The module (the package attribute optimizer.solve is the function solve()).
    solve_module = importlib.import_module("optimizer.solve")

    return {
        "code": code_fingerprint(),
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory, 1),
        "python": platform.python_version(),
        "highspy": f"{highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}",
        "pyomo": pyomo.version.version,
        "default_highs_options": getattr(solve_module, "DEFAULT_HIGHS_OPTIONS", None),
        "load_average": os.getloadavg(),
    }


def _codes(value: Any) -> Iterable[str]:
    """Every code fingerprint the workers reported."""
    if isinstance(value, dict):
        if isinstance(value.get("code"), str):
            yield value["code"]
        for item in value.values():
            yield from _codes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _codes(item)


def log(message: str) -> None:
    """Progress on stderr (tables go to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="small,medium,default", help="small, medium, large, default")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each pipeline / HiGHS-alone pair")
    parser.add_argument("--sections", default=",".join(DEFAULT_SECTIONS), help=f"any of {', '.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="smoke run: sizes + a 5-item sweep of small only")
    parser.add_argument("--sweeps", default="small:100,default:10", help="scenario:items budget sweeps")
    parser.add_argument("--value-scenario", choices=["synthetic", "default"], default="synthetic")
    parser.add_argument("--settings-sizes", default="default,medium")
    parser.add_argument("--settings-time-limit", type=float, default=120.0)
    parser.add_argument("--large-time-limit", type=float, default=120.0, help="HiGHS time limit for large, s")
    parser.add_argument("--timeout", type=float, default=300.0, help="cap on one worker process, s")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--name", help="results file name (default: the sections run, e.g. settings)")
    parser.add_argument("--workdir", type=Path, help="keep datasets and MPS files here (default: a temp dir)")
    args = parser.parse_args(argv)
    args.sizes = [s for s in args.sizes.split(",") if s]
    unknown = [s for s in args.sizes if s not in (*SIZES, "default")]
    if unknown:
        parser.error(f"unknown sizes {unknown}")
    args.sections = [s for s in args.sections.split(",") if s]
    if any(s not in SECTIONS for s in args.sections):
        parser.error(f"sections are {', '.join(SECTIONS)}")
    args.sweeps = [(name, int(items)) for name, items in (s.split(":") for s in args.sweeps.split(",") if s)]
    args.settings_sizes = [s for s in args.settings_sizes.split(",") if s]
    if args.quick:
        args.sections = [s for s in args.sections if s in ("sizes", "sweeps")]
        args.sweeps = [("small", 5)]
    args.name = args.name or ("quick" if args.quick else "-".join(args.sections))
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="coalition-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        report: dict[str, Any] = {"machine": machine(), "command": " ".join(sys.argv), "sections": {}}
        for section in args.sections:
            report["sections"][section] = SECTION_RUNNERS[section](args, workdir)
        report["seconds"] = time.perf_counter() - started
    codes = sorted(set(_codes(report["sections"])) - {report["machine"]["code"]})
    text = [
        f"Measured {report['machine']['date']} on {report['machine']['cpu']} "
        f"({report['machine']['cores']} cores, {report['machine']['memory_gb']} GB), "
        f"HiGHS {report['machine']['highspy']}, Pyomo {report['machine']['pyomo']}; "
        f"`{report['command']}` took {report['seconds']:.0f} s; optimizer sources {report['machine']['code']}"
        f" (sha256 prefix), HiGHS defaults {report['machine']['default_highs_options']}.",
        "",
    ]
    if codes:
        text += [
            f"**Warning: the optimizer's sources changed during the run** (also measured: {', '.join(codes)}).",
            "",
        ]
    for section, results in report["sections"].items():
        text += [RENDERERS[section](results), ""]
    markdown = "\n".join(text)
    print(markdown)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    (args.out / f"{args.name}.md").write_text(markdown, encoding="utf-8")


if __name__ == "__main__":
    main()

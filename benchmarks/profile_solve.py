"""Where the default scenario's `optimizer.solve` spends its time.

    python benchmarks/profile_solve.py [--size default|small|medium|large] [--scenario FILE] [--out DIR]

Three runs in this process after a warm-up solve (imports, dataset cache and the first
HiGHS start are not counted):

1. cProfile: top functions by cumulative and by own time (Python-heavy parts are inflated
   about 1.5-2x by the profiler);
2. pyinstrument, when installed: the call tree (statistical, low overhead);
3. timed: each step wrapped with a timer (no profiler, so seconds are true): load, inputs,
   index, each variable and constraint family, objectives, hand-off to HiGHS, each HiGHS
   run, duals, loading values, extraction and its tables.
"""

from __future__ import annotations

import argparse
import cProfile
import inspect
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.worker import Probe, instrument, instrument_build  # noqa: E402

DEFAULT_SCENARIO = ROOT / "datasets" / "rare_earths" / "scenarios" / "default.yaml"


def instrument_details(probe: Probe) -> dict[str, float]:
    """Also time each model-building function, the solver calls and the result tables.

    Returns the timers as they stood when ModelSolver.solve started (loading calls some of
    the same link methods, which must not be counted under solve).
    """
    import optimizer.results as rx
    from optimizer.handoff import HighsLink
    from optimizer.solve import ModelSolver

    instrument_build(probe)
    at_solve: dict[str, float] = {}
    probe.wrap(ModelSolver, "solve", "solve (outer)", on_enter=lambda: at_solve.update(probe.seconds))
    for name in ("_load", "duals", "load_values", "use_objective", "add_row", "remove_row", "update_params"):
        probe.wrap(HighsLink, name, f"link: {name}")
    for name, function in vars(rx).items():
        if inspect.isfunction(function) and function.__module__ == rx.__name__:
            probe.wrap(rx, name, f"extract: {name}")
    return at_solve


def timed_run(scenario: Any) -> tuple[float, Probe, dict[str, float]]:
    """One solve with every step timed."""
    import optimizer

    probe = instrument()
    at_solve = instrument_details(probe)
    start = time.perf_counter()
    optimizer.solve(scenario)
    return time.perf_counter() - start, probe, at_solve


def breakdown(total: float, probe: Probe, at_solve: dict[str, float]) -> str:
    """The timed run as a table, steps in the order they run."""
    s = probe.seconds
    lines = ["| step | seconds | share |", "|---|---|---|"]

    def row(label: str, seconds: float) -> None:
        lines.append(f"| {label} | {seconds:.3f} | {seconds / total:.0%} |")

    row("**end to end**", total)
    row("load: resolve scenario (dataset read + validated, cached after 1st)", s["resolve"])
    row("load: build_inputs", s["inputs"])
    row("**build_model**", s["build"])
    for label, seconds in s.items():
        if label.startswith("build: "):
            row(f"&nbsp;&nbsp;{label[7:]}", seconds)
    row("**hand-off** (ModelSolver: HighsLink compiles rows, one passModel)", s["handoff"])
    row("**solve** (ModelSolver.solve)", s["solve"])
    for i, run in enumerate(probe.runs):
        label = run.get("phase") or f"run {i + 1}"
        row(
            f"&nbsp;&nbsp;HiGHS run {i + 1} ({label}, {run['simplex_iterations'] + run['ipm_iterations']} it.)",
            run["seconds"],
        )
    for label, seconds in s.items():
        if label.startswith("link: ") and label != "link: _load":
            row(f"&nbsp;&nbsp;{label}", seconds - at_solve.get(label, 0.0))
    row("**extract**", s["extract"])
    for label, seconds in sorted(s.items(), key=lambda item: -item[1]):
        if label.startswith("extract: ") and seconds >= 0.001:
            row(f"&nbsp;&nbsp;{label[9:]}", seconds)
    return "\n".join(lines)


def cprofile_run(scenario: Any, top: int) -> str:
    """cProfile of one solve: top functions by cumulative and by own time."""
    import optimizer

    profiler = cProfile.Profile()
    profiler.enable()
    optimizer.solve(scenario)
    profiler.disable()
    text = []
    for key in ("cumulative", "tottime"):
        buffer = io.StringIO()
        stats = pstats.Stats(profiler, stream=buffer)
        stats.strip_dirs().sort_stats(key).print_stats(top)
        text.append(f"## cProfile, top {top} by {key}\n\n```\n{_trim(buffer.getvalue())}\n```")
    return "\n\n".join(text)


def _trim(text: str) -> str:
    lines = text.strip().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(lines[start:])


def pyinstrument_run(scenario: Any) -> str:
    """pyinstrument's call tree of one solve, or a note that it is not installed."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return "## pyinstrument\n\nnot installed (`pip install pyinstrument` for a call tree)."
    import optimizer

    profiler = Profiler(interval=0.001)
    profiler.start()
    optimizer.solve(scenario)
    profiler.stop()
    tree = profiler.output_text(unicode=False, color=False, show_all=False)
    return f"## pyinstrument call tree\n\n```\n{tree.strip()}\n```"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="default", help="default (the shipped scenario) or a synthetic size")
    parser.add_argument("--scenario", type=Path, help="a scenario file (overrides --size)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()

    import optimizer
    from optimizer.schemas import Scenario

    label = args.size if args.scenario is None else "custom"
    with tempfile.TemporaryDirectory(prefix="coalition-profile-") as tmp:
        if args.scenario is None:
            if args.size == "default":
                args.scenario = DEFAULT_SCENARIO
            else:
                from benchmarks.synthetic import write_synthetic

                args.scenario = write_synthetic(Path(tmp), args.size)
        scenario = Scenario.from_file(args.scenario)
        optimizer.solve(scenario)  # warm-up: imports, dataset cache, HiGHS start
        profiled = cprofile_run(scenario, args.top)
        sampled = pyinstrument_run(scenario)
        total, probe, at_solve = timed_run(scenario)  # last: its timers stay wrapped around the library
    name = args.scenario.relative_to(ROOT) if args.scenario.is_relative_to(ROOT) else f"synthetic {args.size}"
    parts = [
        f"# Profile of optimizer.solve({name})",
        "",
        "## Where the time goes (timed run, no profiler)",
        "",
        breakdown(total, probe, at_solve),
        "",
        profiled,
        "",
        sampled,
    ]
    text = "\n".join(parts) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"profile-{label}.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

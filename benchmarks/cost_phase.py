"""The lexicographic cost phase started cold (dual simplex) vs warm (primal simplex from the
exposure basis), on the shipped scenarios or given scenario files.

    python benchmarks/cost_phase.py                       # every shipped scenario
    python benchmarks/cost_phase.py /tmp/medium/scenarios/default.yaml

Prints, per scenario and start, the cost phase's seconds and simplex iterations and the cost
found (the two must agree).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def cost_phase(path: Path, start: str) -> tuple[float, int, float]:
    """(seconds, simplex iterations, cost USD) of the cost phase with `cost_phase_start=start`."""
    from optimizer.run import prepare
    from optimizer.schemas import Scenario

    scenario = Scenario.from_file(path)
    scenario.options.cost_phase_start = start  # type: ignore[assignment]
    prepared = prepare(scenario)
    solver = prepared.solver
    run = solver._run
    timed: dict[str, Any] = {}

    def timed_run(limit: float | None, phase: str = "exposure") -> Any:
        began = time.perf_counter()
        outcome = run(limit, phase=phase)
        if phase == "cost":
            timed["seconds"] = time.perf_counter() - began
            timed["iterations"] = solver.highs.getInfo().simplex_iteration_count
        return outcome

    solver._run = timed_run  # type: ignore[method-assign]
    outcome = solver.solve(scenario.objective.mode, scenario.objective.exposure_tolerance)
    return timed.get("seconds", float("nan")), timed.get("iterations", 0), outcome.cost_usd or float("nan")


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "datasets" / "rare_earths" / "scenarios").glob("*.yaml"))
    print("| scenario | cold s (it.) | warm s (it.) | warm / cold | cost cold, warm (USD bn) |")
    print("|---|---|---|---|---|")
    for path in paths:
        cold, warm = cost_phase(path, "cold"), cost_phase(path, "warm")
        print(
            f"| {path.stem if path.parent.name == 'scenarios' else path} "
            f"| {cold[0]:.3f} ({cold[1]}) | {warm[0]:.3f} ({warm[1]}) | {warm[0] / cold[0]:.2f} "
            f"| {cold[2] / 1e9:.6f}, {warm[2] / 1e9:.6f} |"
        )


if __name__ == "__main__":
    main()

"""Analytics over the coalition LP, all run through one sweep engine.

Compare coalitions, the cost-exposure frontier, member value (Shapley), Monte Carlo
uncertainty and stress tests.

    >>> from optimizer.analysis import run_analysis
    >>> run_analysis("compare", {"coalitions": ["five_eyes", "quad"]})["ranking"]

Each analysis is reachable three ways with the same JSON: the Python functions below
(taking a request model or its fields as keywords and returning a result model),
``coalition <kind> ... --json`` and the REST service (`run_analysis`). See docs/analysis.md.
"""

from optimizer.analysis.common import AnalysisCancelled
from optimizer.analysis.compare import compare
from optimizer.analysis.frontier import frontier
from optimizer.analysis.runner import REQUEST_MODELS, run_analysis, validate_request
from optimizer.analysis.schemas import (
    CompareRequest,
    CompareResult,
    FrontierRequest,
    FrontierResult,
    StressRequest,
    StressResult,
    UncertaintyRequest,
    UncertaintyResult,
    ValueRequest,
    ValueResult,
)
from optimizer.analysis.stress import stress
from optimizer.analysis.sweep import ItemResult, SweepEngine, SweepItem, SweepResult, run_sweep
from optimizer.analysis.uncertainty import uncertainty
from optimizer.analysis.value import member_value

RESULT_MODELS = {
    "compare": CompareResult,
    "frontier": FrontierResult,
    "value": ValueResult,
    "uncertainty": UncertaintyResult,
    "stress": StressResult,
}

__all__ = [
    "REQUEST_MODELS",
    "RESULT_MODELS",
    "AnalysisCancelled",
    "CompareRequest",
    "CompareResult",
    "FrontierRequest",
    "FrontierResult",
    "ItemResult",
    "StressRequest",
    "StressResult",
    "SweepEngine",
    "SweepItem",
    "SweepResult",
    "UncertaintyRequest",
    "UncertaintyResult",
    "ValueRequest",
    "ValueResult",
    "compare",
    "frontier",
    "member_value",
    "run_analysis",
    "run_sweep",
    "stress",
    "uncertainty",
    "validate_request",
]

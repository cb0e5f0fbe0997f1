"""Coalition supply-chain optimizer.

Where allies should build and buy critical-mineral capacity, year by year, to depend as
little as possible on an adversary.

    >>> import optimizer
    >>> result = optimizer.solve()            # the default scenario of the default dataset
    >>> result.exposure_by_year               # exposed share of demand by year and material
"""

from optimizer.data import Dataset, get_dataset, list_datasets
from optimizer.errors import CoalitionError, DatasetError, ScenarioError
from optimizer.model import MODEL_VERSION
from optimizer.run import Result, default_scenario, prepare, solve, solve_prepared
from optimizer.schemas import (
    ExportControl,
    Objective,
    Override,
    ResultModel,
    Scenario,
    SolveOptions,
    TimelineTarget,
)

__version__ = "0.1.0"

__all__ = [
    "MODEL_VERSION",
    "CoalitionError",
    "Dataset",
    "DatasetError",
    "ExportControl",
    "Objective",
    "Override",
    "Result",
    "ResultModel",
    "Scenario",
    "ScenarioError",
    "SolveOptions",
    "TimelineTarget",
    "default_scenario",
    "get_dataset",
    "list_datasets",
    "prepare",
    "solve",
    "solve_prepared",
]

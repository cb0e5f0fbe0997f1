"""The coalition allocation LP: inputs, index sets, variables, constraints, objectives."""

from optimizer.model.build import CONSTRAINT_FAMILIES, MODEL_VERSION, build_model
from optimizer.model.inputs import ModelInputs, build_inputs

__all__ = ["CONSTRAINT_FAMILIES", "MODEL_VERSION", "ModelInputs", "build_inputs", "build_model"]

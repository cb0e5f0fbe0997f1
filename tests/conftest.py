"""Shared fixtures: tiny hand-solvable datasets and the default dataset's scenarios."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from factory import write_dataset

# Datasets, databases and server processes for the REST and reliability suites.
pytest_plugins = ["service_fixtures"]


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """The base tiny world (USA coalition, AUS third party, CHN adversary)."""
    return write_dataset(tmp_path / "tiny")

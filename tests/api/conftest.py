"""Fixtures for the REST service tests: databases (SQLite and PostgreSQL), tiny datasets,
an in-process client with a real worker thread, and real `coalition serve` processes.

PostgreSQL tests read COALITION_TEST_POSTGRES_URL (e.g.
postgresql+psycopg://coalition:coalition@127.0.0.1:5432/coalition_test). Without it they
are skipped locally, and fail when CI=true so that CI cannot skip them silently.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from fastapi.testclient import TestClient  # noqa: E402 - after the warning filter

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from api_helpers import make_settings, running_client  # noqa: E402


@pytest.fixture
def client(db_url: str, datasets_dir: Path) -> Iterator[TestClient]:
    """The app on each database with one real worker thread."""
    with running_client(make_settings(db_url, datasets_dir)) as test_client:
        yield test_client


@pytest.fixture
def lite_client(sqlite_url: str, datasets_dir: Path) -> Iterator[TestClient]:
    """The app on SQLite with one real worker thread."""
    with running_client(make_settings(sqlite_url, datasets_dir)) as test_client:
        yield test_client

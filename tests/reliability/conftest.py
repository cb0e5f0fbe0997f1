"""Fixtures for the reliability suite: tiny datasets, databases, real server processes.

The suite reuses the REST tests' helpers (tests/api/api_helpers.py): settings for
in-process apps with a real worker thread, `coalition serve` / `coalition worker`
subprocesses on free loopback ports, and the PostgreSQL test database.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "api"))
sys.path.insert(0, str(HERE.parent))

from api_helpers import make_settings, postgres_url, reset_postgres, running_client  # noqa: E402


@pytest.fixture
def pg_url() -> str:
    """The PostgreSQL test database, emptied (skipped locally without it; fails under CI)."""
    url = postgres_url()
    reset_postgres(url)
    return url


@pytest.fixture
def lite_client_keyless(sqlite_url: str, datasets_dir: Path) -> Iterator:
    """The app on SQLite, keys off (loopback), no worker: for checks that never reach a solve."""
    with running_client(make_settings(sqlite_url, datasets_dir, workers=0, sync_wait_grace_s=1)) as client:
        yield client

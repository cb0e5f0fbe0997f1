"""Fixtures for the reliability suite: tiny datasets, databases, real server processes.

The suite reuses the REST tests' helpers (tests/api/api_helpers.py): settings for
in-process apps with a real worker thread, `coalition serve` / `coalition worker`
subprocesses on free loopback ports, and the PostgreSQL test database.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "api"))
sys.path.insert(0, str(HERE.parent))

from api_helpers import Server, make_settings, postgres_url, reset_postgres, running_client  # noqa: E402

from factory import row, write_dataset  # noqa: E402


@pytest.fixture(scope="session")
def datasets_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny datasets: `tiny` (the factory's base world) and `tiny2` (two presets)."""
    root = tmp_path_factory.mktemp("reliability-datasets")
    write_dataset(root / "tiny")
    write_dataset(
        root / "tiny2",
        coalitions=[
            row("coalitions", name="usa_only", members="USA", description="just the US"),
            row("coalitions", name="usa_aus", members="USA;AUS", description="US and Australia"),
        ],
    )
    return root


@pytest.fixture
def datasets_dir(datasets_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny datasets as the shipped ones, for this test only."""
    monkeypatch.setenv("COALITION_DATASETS_DIR", str(datasets_root))
    return datasets_root


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database."""
    return f"sqlite:///{tmp_path / 'var' / 'coalition.db'}"


@pytest.fixture
def pg_url() -> str:
    """The PostgreSQL test database, emptied (skipped locally without it; fails under CI)."""
    url = postgres_url()
    reset_postgres(url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'coalition.db'}"
    url = postgres_url()
    reset_postgres(url)
    return url


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Server and worker processes a test starts; killed at its end whatever happens."""
    started: list[Server] = []
    yield started
    for server in started:
        server.stop(signal.SIGKILL if server.process.poll() is None else signal.SIGTERM)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(server.process.pid, signal.SIGKILL)  # its workers too, if the server died first


@pytest.fixture
def lite_client_keyless(sqlite_url: str, datasets_dir: Path) -> Iterator:
    """The app on SQLite, keys off (loopback), no worker: for checks that never reach a solve."""
    with running_client(make_settings(sqlite_url, datasets_dir, workers=0, sync_wait_grace_s=1)) as client:
        yield client

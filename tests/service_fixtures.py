"""Fixtures shared by the REST suite (tests/api) and the reliability suite (tests/reliability):
tiny datasets, fresh databases of each kind, and server processes cleaned up after a test.

Registered for the whole tree by `pytest_plugins` in tests/conftest.py.
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
sys.path.insert(0, str(Path(__file__).resolve().parent / "api"))
from api_helpers import Server, postgres_url, reset_postgres  # noqa: E402

from factory import row, write_dataset  # noqa: E402


@pytest.fixture(scope="session")
def datasets_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two tiny datasets: `tiny` (the factory's base world) and `tiny2` (two presets)."""
    root = tmp_path_factory.mktemp("datasets")
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
    """The tiny datasets as the shipped ones, for this test only (the environment is restored)."""
    monkeypatch.setenv("COALITION_DATASETS_DIR", str(datasets_root))
    return datasets_root


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'coalition.db'}"
    url = postgres_url()
    reset_postgres(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database (for tests about the service rather than the database)."""
    return f"sqlite:///{tmp_path / 'var' / 'coalition.db'}"


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Server and worker processes a test starts; killed at its end whatever happens."""
    started: list[Server] = []
    yield started
    for server in started:
        server.stop(signal.SIGKILL if server.process.poll() is None else signal.SIGTERM)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(server.process.pid, signal.SIGKILL)  # its workers too, if the server died first

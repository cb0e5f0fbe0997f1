"""Fixtures for the REST service tests: databases (SQLite and PostgreSQL), tiny datasets,
an in-process client with a real worker thread, and real `coalition serve` processes.

PostgreSQL tests read COALITION_TEST_POSTGRES_URL (e.g.
postgresql+psycopg://coalition:coalition@127.0.0.1:5432/coalition_test). Without it they
are skipped locally, and fail when CI=true so that CI cannot skip them silently.
"""

from __future__ import annotations

import signal
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from fastapi.testclient import TestClient  # noqa: E402 - after the warning filter

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from api_helpers import Server, make_settings, postgres_url, reset_postgres, running_client  # noqa: E402

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
def client(db_url: str, datasets_dir: Path) -> Iterator[TestClient]:
    """The app on each database with one real worker thread."""
    with running_client(make_settings(db_url, datasets_dir)) as test_client:
        yield test_client


@pytest.fixture
def lite_client(sqlite_url: str, datasets_dir: Path) -> Iterator[TestClient]:
    """The app on SQLite with one real worker thread."""
    with running_client(make_settings(sqlite_url, datasets_dir)) as test_client:
        yield test_client


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Servers a test starts; killed at its end whatever happens."""
    started: list[Server] = []
    yield started
    for server in started:
        server.stop(signal.SIGKILL if server.process.poll() is None else signal.SIGTERM)

"""Helpers for the REST service tests: settings, clients, polling, server processes."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.config import Settings
from api.main import create_app
from api.storage.db import make_engine

REPO = Path(__file__).resolve().parents[2]
POSTGRES_ENV = "COALITION_TEST_POSTGRES_URL"
TINY = {"dataset": "tiny", "coalition": "usa_only"}
FAST = {"poll_s": 0.05, "heartbeat_s": 0.2}
TABLES = "job_log_chunks, job_results, jobs, workers, api_keys, alembic_version"


def postgres_url() -> str:
    """The test PostgreSQL URL, or skip (locally) / fail (CI).

    From the environment, else from the file scripts/setup-tests.sh writes.
    """
    url = os.environ.get(POSTGRES_ENV)
    saved = REPO / ".test-postgres-url"
    if not url and saved.is_file():
        url = saved.read_text(encoding="utf-8").strip()
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{POSTGRES_ENV} is not set: CI must run the PostgreSQL tests")
        pytest.skip(f"{POSTGRES_ENV} not set")
    return url


def reset_postgres(url: str) -> None:
    """Drop every table so that each test starts from the migrations."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {TABLES} CASCADE"))
    engine.dispose()


def make_settings(database_url: str, datasets: Path, **overrides: Any) -> Settings:
    """Settings for tests: in-process worker threads, quick polling."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "datasets_dir": str(datasets),
        "worker_mode": "thread",
        "workers": 1,
        **FAST,
    }
    values.update(overrides)
    return Settings(**values)


@contextlib.contextmanager
def running_client(settings: Settings) -> Iterator[TestClient]:
    """A TestClient with the app's lifespan (migrations, workers) running."""
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def wait_for_state(client: Any, job_id: str, states: tuple[str, ...], timeout: float = 60.0) -> dict[str, Any]:
    """Poll a job until it reaches one of `states`."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["state"] in states:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} stuck in {job['state']}: {job}")
        time.sleep(0.05)


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def coalition_command() -> list[str]:
    """How to run the `coalition` command of this environment."""
    script = Path(sys.executable).with_name("coalition")
    return [str(script)] if script.exists() else [sys.executable, "-m", "optimizer"]


class Process:
    """A `coalition ...` subprocess in its own session, logging to a file."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str | None]) -> None:
        self.log_path = log
        self.log_file = log.open("ab")
        environment = {**os.environ, **env}
        self.process = subprocess.Popen(
            [*coalition_command(), *args],
            env={key: value for key, value in environment.items() if value is not None},
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            cwd=log.parent,
            start_new_session=True,
        )

    def log_tail(self) -> str:
        """The end of the process's log."""
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        """Signal the process group and wait for it (SIGKILL after `timeout`)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if not self.log_file.closed:
            self.log_file.close()


class Worker(Process):
    """`coalition worker` (workers only) against a database."""

    def __init__(self, database_url: str, log: Path, **env: str | None) -> None:
        super().__init__(["worker"], log, {"DATABASE_URL": database_url, **env})


class Server(Process):
    """`coalition serve` on a free loopback port."""

    def __init__(self, database_url: str, log: Path, workers: int = 1, **env: str | None) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        args = ["serve", "--port", str(self.port), "--workers", str(workers)]
        super().__init__(args, log, {"DATABASE_URL": database_url, **env})

    def wait_ready(self, timeout: float = 90.0, need_workers: bool = True) -> None:
        """Wait for /readyz (or /healthz when no worker runs)."""
        deadline = time.monotonic() + timeout
        path = "/readyz" if need_workers else "/healthz"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base_url + path, timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise AssertionError(f"server not ready: {self.log_tail()}")

    def client(self) -> httpx.Client:
        """An HTTP client for this server."""
        return httpx.Client(base_url=self.base_url, timeout=120)


def docker_compose_command() -> list[str] | None:
    """`docker compose` (v2 plugin) or `docker-compose` (v1), whichever exists."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


class TcpProxy:
    """A loopback TCP forwarder that can be cut (database 'down') and restored."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.connections: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(50)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        if self.listener is not None:
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        with self.lock:
            for conn in self.connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self.connections.clear()


def create_key(database_url: str, name: str, *scopes: str) -> str:
    """`coalition keys create`, returning the key (before any app runs: CliRunner swaps stdout)."""
    from typer.testing import CliRunner

    from optimizer.cli import app as cli

    args = ["keys", "create", "--name", name, "--database-url", database_url]
    for scope in scopes:
        args += ["--scope", scope]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]

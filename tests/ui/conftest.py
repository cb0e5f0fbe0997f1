"""Fixtures for the comparison page's browser tests: a real `coalition serve` and headless Chromium.

Chromium is Debian's (`/usr/bin/chromium`, `bash scripts/install-chromium.sh`), driven by
Playwright's Python package *without* its own browser downloads (`playwright install` is
never run). Without Chromium or Playwright the browser tests are skipped, except under
CI=true, where they fail: CI must not pass by skipping them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
# The flags the brief asks for: headless, no sandbox (root in CI), nothing phoning home.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # belt and braces for the offline check: no host but loopback resolves
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
SERVER_START_S = 90.0


def chromium_path() -> str | None:
    """Chromium on this machine: COALITION_CHROMIUM, else /usr/bin/chromium or one on PATH."""
    candidates = [os.environ.get("COALITION_CHROMIUM"), "/usr/bin/chromium"]
    candidates += [shutil.which(name) for name in ("chromium", "chromium-browser")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def missing(reason: str) -> None:
    """Skip locally; fail under CI=true (a skipped browser test must not look like a pass there)."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI=true: browser tests may not be skipped)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port nobody listens on now (on loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    """A `coalition serve` process on a loopback port, with its log."""

    directory: Path
    workers: int = 2
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:41234."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        """The server's SQLite database."""
        return f"sqlite:///{self.directory / 'ui.db'}"

    @property
    def log(self) -> Path:
        """Where the server writes its log."""
        return self.directory / "server.log"

    def child_env(self) -> dict[str, str]:
        """The environment of the server and the CLI: the shipped datasets, no stray settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("COALITION_") and k != "DATABASE_URL"}
        env.update(self.env)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        return env

    def start(self) -> Served:
        """Start the server and wait until /readyz says a worker is alive."""
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "optimizer", "serve",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--workers", str(self.workers), "--database-url", self.database_url, "--log-level", "INFO",
        ]  # fmt: skip
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=self.directory, env=self.child_env(), stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + SERVER_START_S
        while True:
            assert self.process.poll() is None, f"coalition serve exited:\n{self.log_tail()}"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            assert time.monotonic() < deadline, f"coalition serve not ready:\n{self.log_tail()}"
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_tail(self, size: int = 4000) -> str:
        """The end of the server log."""
        return self.log.read_text(errors="replace")[-size:] if self.log.exists() else ""

    def create_key(self) -> str:
        """A new API key with the read and submit scopes (`coalition keys create`)."""
        done = subprocess.run(
            [sys.executable, "-m", "optimizer", "keys", "create", "--name", "ui-test", "--scope", "read",
             "--scope", "submit", "--database-url", self.database_url],
            cwd=self.directory, env=self.child_env(), capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        return done.stdout.strip().splitlines()[-1]

    def client(self, **headers: str) -> httpx.Client:
        """An HTTP client for the server."""
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def browser_path() -> str:
    """Chromium and Playwright, or skip (fail under CI)."""
    path = chromium_path()
    if path is None:
        missing("needs Chromium: bash scripts/install-chromium.sh (Debian's chromium package)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing("needs the playwright Python package: pip install -e '.[dev]'")
    return str(path)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, browser_path: str) -> Iterator[Served]:
    """`coalition serve` on a free loopback port: SQLite in a temporary directory, 2 workers."""
    served = Served(tmp_path_factory.mktemp("ui-server"), workers=2)
    try:
        yield served.start()
    finally:
        served.stop()


@pytest.fixture(scope="module")
def playwright_instance(browser_path: str) -> Iterator[Any]:
    """The Playwright driver (no browser of its own)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@dataclass
class Browser:
    """A fresh headless Chromium profile with every request, console error and page error recorded."""

    context: Any
    requests: list[Any] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def new_page(self) -> Any:
        """A page whose console errors and uncaught exceptions are recorded."""
        page = self.context.new_page()
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        return page

    def hosts(self) -> set[str]:
        """Host (and port) of every request the browser made, data: and blob: URLs aside."""
        from urllib.parse import urlsplit

        return {urlsplit(r.url).hostname or "" for r in self.requests if urlsplit(r.url).scheme in ("http", "https")}


@pytest.fixture
def browser(playwright_instance: Any, browser_path: str, tmp_path: Path) -> Iterator[Browser]:
    """Headless Chromium with a fresh --user-data-dir, 1280 px wide."""
    context = playwright_instance.chromium.launch_persistent_context(
        user_data_dir=str(tmp_path / "profile"),
        executable_path=browser_path,
        headless=True,
        args=CHROMIUM_FLAGS,
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )
    recorded = Browser(context)
    context.on("request", lambda request: recorded.requests.append(request))
    try:
        yield recorded
    finally:
        context.close()

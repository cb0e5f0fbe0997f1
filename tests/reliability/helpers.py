"""Helpers of the reliability suite: polling, database peeks, a cuttable TCP proxy, PostgreSQL control."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from api_helpers import free_port
from sqlalchemy import select

from api.storage.db import make_engine, make_sessionmaker
from api.storage.models import Job, JobResult

FINAL = ("succeeded", "failed", "cancelled")
TINY = {"dataset": "tiny", "coalition": "usa_only"}


def compare_payload(cells: int) -> dict[str, Any]:
    """A compare job of about `cells` tiny solves (~0.1 s each): a job slow enough to interrupt."""
    coalitions = max(1, -(-cells // 10))
    scenarios = max(1, min(10, cells // coalitions))
    return {
        "scenario": {**TINY},
        "coalitions": ["usa_only"] * coalitions,
        "scenarios": [{"dataset": "tiny", "name": f"copy {i}"} for i in range(scenarios)],
    }


def wait_for(http: httpx.Client, job_id: str, states: tuple[str, ...] = FINAL, timeout: float = 120.0) -> dict:
    """Poll a job over HTTP until it reaches one of `states`."""
    deadline = time.monotonic() + timeout
    while True:
        response = http.get(f"/v1/jobs/{job_id}")
        if response.status_code == 200:
            job = response.json()
            if job["state"] in states:
                return job
        assert time.monotonic() < deadline, response.text
        time.sleep(0.1)


class Peek:
    """Direct, read-only looks into the service's database (what HTTP cannot show)."""

    def __init__(self, database_url: str) -> None:
        self.engine = make_engine(database_url)
        self.sessions = make_sessionmaker(self.engine)

    def jobs(self) -> list[Job]:
        with self.sessions() as session:
            return list(session.scalars(select(Job)))

    def results(self) -> dict[str, JobResult]:
        with self.sessions() as session:
            return {row.job_id: row for row in session.scalars(select(JobResult))}

    def close(self) -> None:
        self.engine.dispose()


def children_of(pid: int) -> set[int]:
    """Direct child processes of `pid` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.add(int(stat.parent.name))
    return found


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


def postgres_cluster(port: int = 5432) -> tuple[str, str] | None:
    """(version, name) of the local PostgreSQL cluster on `port` (Debian's pg_lsclusters), if any."""
    try:
        listing = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] == str(port):
            return parts[0], parts[1]
    return None


def pg_ctl(action: str, cluster: tuple[str, str]) -> None:
    """`pg_ctlcluster VERSION NAME ACTION` (start, stop, restart)."""
    subprocess.run(["pg_ctlcluster", *cluster, action], check=True, capture_output=True, timeout=120)


def pg_online(cluster: tuple[str, str]) -> bool:
    listing = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=False).stdout
    return any(line.split()[:2] == list(cluster) and "online" in line for line in listing.splitlines())

"""Helpers of the reliability suite: polling, database peeks, a cuttable TCP proxy, PostgreSQL control."""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from api_helpers import TcpProxy, free_port  # noqa: F401 (TcpProxy re-exported)
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

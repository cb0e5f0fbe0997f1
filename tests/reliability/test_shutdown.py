"""Stopping `coalition serve`: promptly on SIGTERM, and no orphan worker when it is killed.

Regression: SIGTERM to the whole process group (systemd's default, the tests' Server.stop)
used to hang shutdown whenever a worker was idle: the worker's SIGTERM handler set the
pool's multiprocessing Event while its own main thread was waiting on it (a deadlock),
and the API then blocked setting the same Event.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from api_helpers import Server

from .helpers import TINY, children_of, wait_for


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie has exited; /proc still lists it until it is reaped
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def worker_pids(server_pid: int) -> list[int]:
    """The pool's worker processes (spawned), not multiprocessing's resource tracker."""
    found = []
    for pid in children_of(server_pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_text()
        except OSError:
            continue
        if "spawn_main" in cmdline:
            found.append(pid)
    return found


def group_members(pgid: int) -> list[int]:
    """Processes in process group `pgid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def test_sigterm_to_the_group_stops_idle_workers_promptly(sqlite_url, datasets_dir, tmp_path, servers):
    server = Server(sqlite_url, tmp_path / "serve.log", workers=2, COALITION_POLL_S="0.02")
    servers.append(server)
    server.wait_ready()
    with server.client() as http:
        job_id = http.post("/v1/jobs", json={"kind": "solve", "payload": TINY}).json()["id"]
        assert wait_for(http, job_id)["state"] == "succeeded"
    workers = worker_pids(server.process.pid)
    assert len(workers) == 2
    time.sleep(1.0)  # both workers idle, polling
    started = time.monotonic()
    server.stop(signal.SIGTERM, timeout=20)
    elapsed = time.monotonic() - started
    assert server.process.returncode in (0, -signal.SIGTERM), server.log_tail()
    assert elapsed < 10, f"shutdown took {elapsed:.1f} s"
    assert "Application shutdown complete" in server.log_tail()
    assert not [pid for pid in workers if alive(pid)]  # the pool joins its workers before exiting
    # Nothing else of the group outlives it either: a worker the supervisor restarted while the
    # signal landed, or multiprocessing's resource tracker (which exits once its pipe closes).
    deadline = time.monotonic() + 5
    while left := [pid for pid in group_members(server.process.pid) if alive(pid)]:
        assert time.monotonic() < deadline, f"processes outlived the server: {left}"
        time.sleep(0.05)
    print(f"\nshutdown: SIGTERM to the group with 2 idle workers -> exited in {elapsed:.2f} s")


def test_sigterm_to_one_worker_restarts_it_and_the_pool_keeps_serving(sqlite_url, datasets_dir, tmp_path, servers):
    server = Server(sqlite_url, tmp_path / "serve.log", workers=2, COALITION_POLL_S="0.05")
    servers.append(server)
    server.wait_ready()
    before = children_of(server.process.pid)
    victim = max(before)
    os.kill(victim, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while alive(victim) or len([pid for pid in children_of(server.process.pid) if alive(pid)]) < len(before):
        assert time.monotonic() < deadline, server.log_tail()
        time.sleep(0.1)
    with server.client() as http:
        ids = [http.post("/v1/jobs", json={"kind": "solve", "payload": {**TINY, "name": f"n{i}"}}).json()["id"]
               for i in range(4)]
        assert all(wait_for(http, job_id)["state"] == "succeeded" for job_id in ids), server.log_tail()


def test_workers_exit_when_serve_is_killed(sqlite_url, datasets_dir, tmp_path, servers):
    """SIGKILL of the API process alone: its worker processes notice and stop (no orphans)."""
    server = Server(sqlite_url, tmp_path / "serve.log", workers=2)
    servers.append(server)
    server.wait_ready()
    workers = worker_pids(server.process.pid)
    assert len(workers) == 2
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(10)
    deadline = time.monotonic() + 15
    while [pid for pid in workers if alive(pid)]:
        assert time.monotonic() < deadline, "worker processes outlived their server"
        time.sleep(0.1)
    print(f"\norphans: workers exited {15 - (deadline - time.monotonic()):.2f} s after their server was killed")

"""A bounded load test of the REST service, on loopback only.

Starts a real `coalition serve` (uvicorn + W worker processes, SQLite in a temporary
directory, a small synthetic dataset) on a free loopback port with a queue of Q jobs, then,
at the same time:

* submits a fixed number of solve jobs from a pool of threads, paced at a rate above what
  W workers can solve (so the queue fills and the excess is refused);
* probes `GET /healthz` at a fixed interval;

and waits (bounded in time) for every accepted job to finish. It prints, and returns:

* the most solves that ran at once, from the jobs' own `started_at`/`finished_at` (must be <= W);
* how many submissions were refused with 429 beyond the queue, and whether each carried
  `Retry-After`;
* `/healthz` latency p50/p99/max while solves ran (target p99 < 100 ms);
* every status code seen (no 5xx allowed) and the jobs' final states.

    python benchmarks/load.py                                # W=2, Q=4, 40 submissions
    python benchmarks/load.py --workers 2 --queue 8 --requests 100 --duration 120 --json
    python benchmarks/load.py --url http://127.0.0.1:8000    # an already running server (loopback only)

Every loop is bounded: `--requests` submissions, probes every `--probe-interval` seconds,
and nothing runs past `--duration` seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATASET = "bench_small"
HEALTHZ_P99_TARGET_MS = 100.0
FINAL = ("succeeded", "failed", "cancelled")


@dataclass
class Report:
    """What one load run observed."""

    workers: int
    queue: int
    requests: int
    accepted: int = 0
    rejected_429: int = 0
    rejected_without_retry_after: int = 0
    status_codes: dict[str, int] = field(default_factory=dict)
    server_errors: int = 0
    job_states: dict[str, int] = field(default_factory=dict)
    max_concurrent_solves: int = 0
    solve_seconds_p50: float | None = None
    healthz_probes: int = 0
    healthz_probes_during_solves: int = 0
    healthz_failures: int = 0
    healthz_p50_ms: float | None = None
    healthz_p99_ms: float | None = None
    healthz_max_ms: float | None = None
    wall_seconds: float = 0.0
    timed_out: bool = False
    problems: list[str] = field(default_factory=list)

    def check(self, p99_target_ms: float = HEALTHZ_P99_TARGET_MS) -> list[str]:
        """The promises this run broke (empty when all held)."""
        problems = []
        if self.max_concurrent_solves > self.workers:
            problems.append(f"{self.max_concurrent_solves} solves ran at once with {self.workers} workers")
        if self.server_errors:
            problems.append(f"{self.server_errors} responses were 5xx")
        if self.rejected_without_retry_after:
            problems.append(f"{self.rejected_without_retry_after} 429 responses had no Retry-After")
        if self.requests > self.workers + self.queue and not self.rejected_429:
            problems.append("no submission was refused with 429 although more were sent than W + Q")
        if self.job_states.get("succeeded", 0) != self.accepted:
            problems.append(f"accepted {self.accepted} jobs but {self.job_states} finished")
        if self.healthz_failures:
            problems.append(f"{self.healthz_failures} /healthz probes failed")
        if self.healthz_p99_ms is None or self.healthz_p99_ms > p99_target_ms:
            problems.append(f"/healthz p99 {self.healthz_p99_ms} ms (target < {p99_target_ms} ms)")
        if self.timed_out:
            problems.append("the run hit its time bound before every accepted job finished")
        self.problems = problems
        return problems


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _require_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise SystemExit(f"refusing to load {url}: only loopback addresses (127.0.0.0/8, ::1, localhost) are allowed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _coalition_command() -> list[str]:
    script = Path(sys.executable).with_name("coalition")
    return [str(script)] if script.exists() else [sys.executable, "-m", "optimizer"]


@contextlib.contextmanager
def local_server(workers: int, queue: int, workdir: Path, ready_timeout: float = 90.0) -> Iterator[tuple[str, dict]]:
    """`coalition serve` on a free loopback port with a synthetic dataset; yields (url, scenario)."""
    import yaml

    from benchmarks.synthetic import write_synthetic

    datasets = workdir / "datasets"
    scenario_file = write_synthetic(datasets / DATASET, "small")
    scenario = yaml.safe_load(scenario_file.read_text())
    scenario["dataset"] = DATASET
    port = _free_port()
    log_level = os.environ.get("LOAD_LOG_LEVEL", "WARNING")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'coalition.db'}",
        "COALITION_DATASETS_DIR": str(datasets),
        "COALITION_QUEUE_MAX": str(queue),
        "COALITION_POLL_S": "0.1",
        "COALITION_LOG_LEVEL": log_level,
    }
    log = (workdir / "serve.log").open("wb")
    process = subprocess.Popen(
        [*_coalition_command(), "serve", "--port", str(port), "--workers", str(workers), "--log-level", log_level],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=workdir,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {(workdir / 'serve.log').read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not ready: {(workdir / 'serve.log').read_text()[-3000:]}")
            time.sleep(0.2)
        yield url, scenario
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        log.close()


def _parse(stamp: str | None) -> float | None:
    return datetime.fromisoformat(stamp).timestamp() if stamp else None


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The most intervals open at one instant (an end and a start at the same instant do not overlap)."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    best = current = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best


def drive(
    url: str,
    scenario: dict[str, Any],
    report: Report,
    *,
    concurrency: int,
    rate: float,
    probe_interval: float,
    duration: float,
) -> None:
    """Submit `report.requests` jobs and probe /healthz at once; wait for the accepted jobs."""
    started = time.monotonic()
    deadline = started + duration
    stop = threading.Event()
    probes: list[tuple[float, float, int]] = []  # (wall time, latency ms, status)
    codes: Counter[int] = Counter()
    accepted: list[str] = []
    lock = threading.Lock()

    def probe() -> None:
        with httpx.Client(base_url=url, timeout=5) as client:
            limit = int(duration / probe_interval) + 1
            for _ in range(limit):
                if stop.is_set() or time.monotonic() > deadline:
                    return
                sent = time.perf_counter()
                try:
                    status = client.get("/healthz").status_code
                except httpx.HTTPError:
                    status = 0
                probes.append((time.time(), (time.perf_counter() - sent) * 1000, status))
                stop.wait(probe_interval)

    def submit(index: int) -> None:
        time.sleep(max(0.0, started + index / rate - time.monotonic()))  # paced: `rate` per second
        if time.monotonic() > deadline:
            return
        body = {"kind": "solve", "payload": {**scenario, "name": f"load {index}"}}
        with httpx.Client(base_url=url, timeout=30) as client:
            try:
                response = client.post("/v1/jobs", json=body)
            except httpx.HTTPError:
                with lock:
                    codes[0] += 1
                return
        with lock:
            codes[response.status_code] += 1
            if response.status_code == 202:
                accepted.append(response.json()["id"])
            elif response.status_code == 429:
                retry_after = response.headers.get("Retry-After", "")
                if not (retry_after.isdigit() and int(retry_after) > 0):
                    report.rejected_without_retry_after += 1

    prober = threading.Thread(target=probe, name="healthz-probe", daemon=True)
    prober.start()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(submit, range(report.requests)))

    jobs: list[dict[str, Any]] = []
    with httpx.Client(base_url=url, timeout=30) as client:
        pending = list(accepted)
        while pending and time.monotonic() < deadline:
            response = client.get(f"/v1/jobs/{pending[0]}")
            codes[response.status_code] += 1
            if response.status_code == 200 and response.json()["state"] in FINAL:
                jobs.append(response.json())
                pending.pop(0)
            else:
                time.sleep(0.1)
        report.timed_out = bool(pending)
    stop.set()
    prober.join(10)

    report.wall_seconds = round(time.monotonic() - started, 2)
    report.accepted = len(accepted)
    report.rejected_429 = codes.get(429, 0)
    report.status_codes = {str(code): count for code, count in sorted(codes.items())}
    report.server_errors = sum(count for code, count in codes.items() if code >= 500 or code == 0)
    report.job_states = dict(Counter(job["state"] for job in jobs))
    intervals = [
        (start, end)
        for job in jobs
        if (start := _parse(job["started_at"])) is not None and (end := _parse(job["finished_at"])) is not None
    ]
    report.max_concurrent_solves = max_overlap(intervals)
    if intervals:
        report.solve_seconds_p50 = round(statistics.median(end - start for start, end in intervals), 3)
    report.healthz_probes = len(probes)
    report.healthz_failures = sum(1 for _, _, status in probes if status != 200)
    busy = [
        latency
        for at, latency, status in probes
        if status == 200 and any(start <= at <= end for start, end in intervals)
    ]
    report.healthz_probes_during_solves = len(busy)
    if busy:
        report.healthz_p50_ms = round(_percentile(busy, 0.50), 2)
        report.healthz_p99_ms = round(_percentile(busy, 0.99), 2)
        report.healthz_max_ms = round(max(busy), 2)


def run(
    workers: int = 2,
    queue: int = 4,
    requests: int = 40,
    concurrency: int = 8,
    rate: float = 8.0,
    probe_interval: float = 0.02,
    duration: float = 90.0,
    url: str | None = None,
    scenario: dict[str, Any] | None = None,
) -> Report:
    """One bounded load run (against a fresh local server unless `url` names one on loopback)."""
    report = Report(workers=workers, queue=queue, requests=requests)
    if url is not None:
        _require_loopback(url)
        drive(url, scenario or {}, report, concurrency=concurrency, rate=rate, probe_interval=probe_interval,
              duration=duration)
        report.check()
        return report
    workdir = Path(tempfile.mkdtemp(prefix="coalition-load-"))
    try:
        with local_server(workers, queue, workdir) as (base, synthetic):
            drive(base, synthetic, report, concurrency=concurrency, rate=rate, probe_interval=probe_interval,
                  duration=duration)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report.check()
    return report


def summary(report: Report) -> str:
    """The report as a few human lines."""
    lines = [
        f"W={report.workers} Q={report.queue}: {report.requests} submissions in {report.wall_seconds} s",
        f"  accepted {report.accepted}, refused 429 {report.rejected_429}"
        f" (without Retry-After: {report.rejected_without_retry_after}); status codes {report.status_codes}",
        f"  most solves at once: {report.max_concurrent_solves} (W={report.workers});"
        f" solve p50 {report.solve_seconds_p50} s; final states {report.job_states}",
        f"  /healthz while solving: p50 {report.healthz_p50_ms} ms, p99 {report.healthz_p99_ms} ms,"
        f" max {report.healthz_max_ms} ms over {report.healthz_probes_during_solves} probes"
        f" ({report.healthz_probes} in all, {report.healthz_failures} failed)",
        f"  5xx: {report.server_errors}",
        "  OK" if not report.problems else "  PROBLEMS: " + "; ".join(report.problems),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="Worker processes W of the local server.")
    parser.add_argument("--queue", type=int, default=4, help="Queue bound Q (COALITION_QUEUE_MAX).")
    parser.add_argument("--requests", type=int, default=40, help="Solve jobs to submit (a fixed count).")
    parser.add_argument("--concurrency", type=int, default=8, help="Submitting threads.")
    parser.add_argument("--rate", type=float, default=8.0, help="Submissions per second (more than W can solve).")
    parser.add_argument("--probe-interval", type=float, default=0.02, help="Seconds between /healthz probes.")
    parser.add_argument("--duration", type=float, default=90.0, help="Hard bound on the run, seconds.")
    parser.add_argument("--url", help="Load this server instead (loopback only); it needs the 'bench_small' dataset.")
    parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
    args = parser.parse_args()
    report = run(
        workers=args.workers,
        queue=args.queue,
        requests=args.requests,
        concurrency=args.concurrency,
        rate=args.rate,
        probe_interval=args.probe_interval,
        duration=args.duration,
        url=args.url,
    )
    print(json.dumps(asdict(report), indent=2) if args.json else summary(report))
    sys.exit(1 if report.problems else 0)


if __name__ == "__main__":
    main()

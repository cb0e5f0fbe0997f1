"""Workers: claim jobs from the database under a lease, run them, store results and logs.

A `JobWorker` loops: reap expired leases, claim the next job, run it. A heartbeat thread
extends the lease, records progress and log lines, and picks up cancel requests, which
the job sees through its `should_cancel` callback: between phases or items, and on every
HiGHS iteration (`optimizer.solve.interrupt_when`).

`WorkerPool` runs W workers as processes (or threads, for tests), restarts any that die,
and on shutdown requeues the jobs its workers still held.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from api import runner
from api.config import Settings
from api.storage import repository
from api.storage.db import make_engine, make_sessionmaker, transaction
from api.storage.models import Job, JobResult, utcnow
from optimizer.errors import CoalitionError

logger = logging.getLogger(__name__)

CAPTURED_LOGGERS = ("optimizer", "api.runner")
FINISH_RETRY_S = 60.0


class JobLog(logging.Handler):
    """Collects log lines of the running job until the heartbeat stores them."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self._buffer = bytearray()
        self._lock = threading.Lock()
        self.setFormatter(logging.Formatter("%(message)s"))
        self.active = False

    def emit(self, record: logging.LogRecord) -> None:
        """Buffer one record while a job runs."""
        if not self.active:
            return
        try:
            line = self.format(record)
        except Exception:  # a bad log call must never break a job
            return
        self.write(line + "\n")

    def write(self, text: str) -> None:
        """Buffer raw text."""
        with self._lock:
            self._buffer += text.encode("utf-8", errors="replace")

    def drain(self) -> bytes:
        """Take everything buffered so far."""
        with self._lock:
            data = bytes(self._buffer)
            self._buffer.clear()
        return data


class RunningJob:
    """The state a worker shares between its job and its heartbeat thread."""

    def __init__(self, claimed: repository.Claimed, stop: Any) -> None:
        self.claimed = claimed
        self.stop = stop
        self.cancel_requested = False
        self.lease_lost = False
        self.progress: tuple[int, int] | None = None

    def should_cancel(self) -> bool:
        """True when the user cancelled, the lease was lost, or the worker is stopping."""
        return self.cancel_requested or self.lease_lost or self.stop.is_set()


class JobWorker:
    """One worker: claims and runs one job at a time."""

    def __init__(self, settings: Settings, stop: Any, worker_id: str | None = None) -> None:
        self.settings = settings
        self.stop = stop
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.engine = make_engine(settings.database_url)
        self.sessions = make_sessionmaker(self.engine)
        self.current: RunningJob | None = None
        self.log = JobLog()
        self._last_reap = 0.0
        self._last_purge: float | None = None
        self._writing = threading.Lock()  # one writer of the job row at a time: log order

    # --- lifecycle ----------------------------------------------------------------------

    def run(self) -> None:
        """Work until `stop` is set."""
        self._capture_logs()
        self._call_db(lambda: repository.register_worker(
            self.sessions, self.worker_id, socket.gethostname(), os.getpid()
        ))
        beat = threading.Thread(target=self._heartbeat_loop, name=f"heartbeat-{self.worker_id}", daemon=True)
        beat.start()
        logger.info("worker %s started", self.worker_id)
        try:
            while not self.stop.is_set():
                claimed = self._next_job()
                if claimed is None:
                    self.stop.wait(self.settings.poll_s)
                    continue
                self._run_job(claimed)
        finally:
            self._call_db(lambda: repository.remove_worker(self.sessions, self.worker_id))
            self._release_logs()
            self.engine.dispose()
            logger.info("worker %s stopped", self.worker_id)

    def _capture_logs(self) -> None:
        for name in CAPTURED_LOGGERS:
            target = logging.getLogger(name)
            target.addHandler(self.log)
            if target.getEffectiveLevel() > logging.INFO:
                target.setLevel(logging.INFO)

    def _release_logs(self) -> None:
        for name in CAPTURED_LOGGERS:
            logging.getLogger(name).removeHandler(self.log)

    def _call_db(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except SQLAlchemyError as exc:
            logger.warning("worker %s: database error: %s", self.worker_id, exc)
            return None

    def _next_job(self) -> repository.Claimed | None:
        now = time.monotonic()
        try:
            if now - self._last_reap >= min(self.settings.heartbeat_s, self.settings.lease_s / 2):
                self._last_reap = now
                repository.reap_expired(self.sessions, self.settings.log_max_bytes)
            if self._last_purge is None or now - self._last_purge >= self.settings.retention_check_s:
                self._last_purge = now
                repository.purge_expired(self.sessions, self.settings.result_retention_days)
            return repository.claim_next(self.sessions, self.worker_id, self.settings.lease_s)
        except SQLAlchemyError as exc:
            logger.warning("worker %s: cannot claim jobs (database error: %s)", self.worker_id, exc)
            self.stop.wait(min(5.0, self.settings.poll_s * 4))
            return None

    # --- one job ------------------------------------------------------------------------

    def _progress(self, job: RunningJob) -> Callable[[int, int], None]:
        def report(done: int, total: int) -> None:
            if job.progress != (done, total):
                job.progress = (int(done), int(total))
                self.log.write(f"[{_stamp()}] progress {done}/{total}\n")

        return report

    def _run_job(self, claimed: repository.Claimed) -> None:
        job = RunningJob(claimed, self.stop)
        self.log.drain()
        self.log.active = True
        self.current = job
        logger.info("worker %s: job %s (%s) attempt %d", self.worker_id, claimed.id, claimed.kind, claimed.attempts)
        state, error, outcome = repository.FAILED, None, None
        try:
            outcome = runner.execute(claimed.kind, claimed.payload, self._progress(job), job.should_cancel)
            state = repository.SUCCEEDED
        except runner.JobCancelled:
            state = repository.CANCELLED
        except CoalitionError as exc:
            from api.errors import coalition_error

            api_error = coalition_error(exc, prefix="payload")
            error = {"code": "invalid_input", "message": api_error.message, "fields": api_error.fields}
        except runner.AnalysisUnavailableError as exc:
            error = {"code": "analysis_unavailable", "message": str(exc)}
        except Exception as exc:
            logger.exception("job %s failed unexpectedly", claimed.id)
            error = {
                "code": "internal_error",
                "message": f"unexpected {type(exc).__name__} in the worker; the service log has details",
            }
        finally:
            self.log.active = False
            self.current = None
        if job.lease_lost:
            logger.warning("job %s: lease lost; its outcome is discarded", claimed.id)
            return
        if state == repository.CANCELLED and self.stop.is_set() and not job.cancel_requested:
            self._call_db(lambda: repository.release_job(
                self.sessions, claimed, "worker stopping; job requeued", self.settings.log_max_bytes
            ))
            return
        self._finish(claimed, job, state, error, outcome)

    def _finish(
        self,
        claimed: repository.Claimed,
        job: RunningJob,
        state: str,
        error: dict[str, Any] | None,
        outcome: runner.Outcome | None,
    ) -> None:
        from optimizer import MODEL_VERSION
        from optimizer.solve import solver_version

        result = None
        if outcome is not None and state == repository.SUCCEEDED:
            result = JobResult(
                job_id=claimed.id,
                body=outcome.body,
                input=outcome.input,
                input_hash=outcome.input_hash,
                solver_name="highs",
                solver_version=solver_version(),
                model_version=MODEL_VERSION,
                created_at=utcnow(),
            )
        note = f"[{_stamp()}] job {state}\n"
        if error:
            note = f"[{_stamp()}] job failed: {error['message']}\n"
        deadline = time.monotonic() + FINISH_RETRY_S
        while True:
            try:
                with self._writing:
                    self._store_outcome(claimed, job, state, error, outcome, result, note)
                return
            except SQLAlchemyError as exc:  # keep trying while the lease may still be ours
                if time.monotonic() > deadline:
                    logger.error("job %s: could not store its outcome: %s", claimed.id, exc)
                    return
                time.sleep(1.0)

    def _store_outcome(
        self,
        claimed: repository.Claimed,
        job: RunningJob,
        state: str,
        error: dict[str, Any] | None,
        outcome: runner.Outcome | None,
        result: JobResult | None,
        note: str,
    ) -> None:
        repository.finish_job(
            self.sessions,
            claimed,
            state,
            log=self.log.drain() + note.encode(),
            log_cap=self.settings.log_max_bytes,
            error=error,
            result=result,
            result_status=outcome.result_status if outcome else None,
            progress=job.progress,
        )

    # --- heartbeat ----------------------------------------------------------------------

    def _heartbeat_loop(self) -> None:
        while not self.stop.wait(self.settings.heartbeat_s):
            self.beat()

    def beat(self) -> None:
        """Mark the worker alive; extend the current job's lease and store its progress and log."""
        job = self.current
        try:
            repository.worker_heartbeat(self.sessions, self.worker_id, job.claimed.id if job else None)
            if job is None:
                return
            with self._writing:
                beat = self._beat_job(job)
            job.lease_lost = job.lease_lost or not beat.lease_held
            job.cancel_requested = job.cancel_requested or beat.cancel_requested
        except SQLAlchemyError as exc:
            logger.warning("worker %s: heartbeat failed: %s", self.worker_id, exc)

    def _beat_job(self, job: RunningJob) -> repository.Beat:
        return repository.heartbeat(
            self.sessions,
            job.claimed,
            self.settings.lease_s,
            job.progress,
            self.log.drain(),
            self.settings.log_max_bytes,
        )


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern matching strings that start with `prefix` (wildcards escaped)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def expire_leases_of(settings: Settings, sessions: Any, worker_prefix: str) -> None:
    """End the leases of a worker that died, so the reaper retries its job at once."""
    with transaction(sessions) as session:
        session.execute(
            update(Job)
            .where(Job.state == repository.RUNNING, Job.lease_owner.like(_like_prefix(worker_prefix), escape="\\"))
            .values(lease_expires_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    repository.reap_expired(sessions, settings.log_max_bytes)


def requeue_leases_of(settings: Settings, sessions: Any, worker_prefix: str) -> None:
    """Give back the jobs of a worker stopped on purpose, without counting the attempt."""
    with transaction(sessions) as session:
        session.execute(
            update(Job)
            .where(Job.state == repository.RUNNING, Job.lease_owner.like(_like_prefix(worker_prefix), escape="\\"))
            .values(
                state=repository.QUEUED,
                lease_owner=None,
                lease_expires_at=None,
                attempts=Job.attempts - 1,
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )


# --- processes ---------------------------------------------------------------------------


STOP_WATCH_S = 0.2


def stop_on_signals(
    signals: tuple[int, ...], shared: Any = None, parent: int | None = None
) -> threading.Event:
    """An Event set when one of `signals` arrives, `shared` is set, or process `parent` is gone.

    The signal handlers only record the signal: they take no lock. Setting an Event (above
    all a multiprocessing one, whose lock other processes share) from a handler deadlocks
    when the signal lands while the main thread is inside that Event's wait(), which is
    where an idle worker spends its time; a SIGTERM to the process group then hung
    `coalition serve` at shutdown. A watcher thread turns what the handlers recorded into
    the Event instead.
    """
    local = threading.Event()
    received: list[int] = []
    for number in signals:
        signal.signal(number, lambda signum, _frame: received.append(signum))

    def watch() -> None:
        while not local.is_set():
            if received or (parent is not None and os.getppid() != parent):
                local.set()
            elif shared is not None:
                if shared.wait(STOP_WATCH_S):
                    local.set()
            else:
                time.sleep(STOP_WATCH_S)

    threading.Thread(target=watch, name="stop-watch", daemon=True).start()
    return local


def process_main(settings_data: dict[str, Any], stop: Any, parent: int | None = None) -> None:
    """Entry point of a worker process (spawned): run one JobWorker until told to stop.

    It stops when the pool sets `stop`, on SIGTERM (this worker alone: the pool restarts
    it), or when its parent process `parent` is gone (no orphan keeps claiming jobs; the pid
    comes from the parent, as it may die before this process has started).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    local_stop = stop_on_signals((signal.SIGTERM,), shared=stop, parent=parent)
    logging.basicConfig(
        level=settings_data.get("log_level", "INFO"),
        format="%(asctime)s %(levelname)s [worker %(process)d] %(name)s: %(message)s",
    )
    settings = Settings(**settings_data)
    settings.export_environment()
    JobWorker(settings, local_stop).run()


class WorkerPool:
    """W local workers (processes, or threads in tests), kept alive by a supervisor thread."""

    def __init__(self, settings: Settings, size: int | None = None) -> None:
        self.settings = settings
        self.size = settings.workers if size is None else size
        self.context = multiprocessing.get_context("spawn")
        self.stop_event: Any = (
            self.context.Event() if settings.worker_mode == "process" else threading.Event()
        )
        self.members: list[Any] = []
        self.engine = make_engine(settings.database_url)
        self.sessions = make_sessionmaker(self.engine)
        self._supervisor: threading.Thread | None = None
        self._stopping = threading.Event()
        # Held while the supervisor replaces a member, so stop() never misses a fresh one.
        self._members_lock = threading.Lock()

    def _spawn(self) -> Any:
        if self.settings.worker_mode == "thread":
            worker = JobWorker(self.settings, self.stop_event)
            thread = threading.Thread(target=worker.run, name=worker.worker_id, daemon=True)
            thread.start()
            return thread
        data = self.settings.model_dump(mode="json")
        process = self.context.Process(
            target=process_main, args=(data, self.stop_event, os.getpid()), name="coalition-worker", daemon=False
        )
        process.start()
        return process

    def _prefix(self, member: Any) -> str | None:
        if isinstance(member, threading.Thread):
            return None
        return f"{socket.gethostname()}:{member.pid}:"

    def start(self) -> None:
        """Start the workers and their supervisor."""
        self.members = [self._spawn() for _ in range(self.size)]
        self._supervisor = threading.Thread(target=self._supervise, name="worker-supervisor", daemon=True)
        self._supervisor.start()
        logger.info("started %d %s worker(s)", self.size, self.settings.worker_mode)

    def alive(self) -> int:
        """Workers currently running."""
        return sum(1 for member in self.members if member.is_alive())

    def _supervise(self) -> None:
        while not self._stopping.wait(1.0):
            with self._members_lock:
                self._replace_dead_members()

    def _replace_dead_members(self) -> None:
        # A SIGTERM to the whole group kills workers a moment before the API's own shutdown
        # starts; the lock and the _stopping check keep a replacement from outliving stop().
        for index, member in enumerate(list(self.members)):
            if member.is_alive() or self._stopping.is_set():
                continue
            prefix = self._prefix(member)
            logger.error("worker %s died (exit code %s); restarting it", prefix, getattr(member, "exitcode", None))
            if prefix is not None:
                try:
                    expire_leases_of(self.settings, self.sessions, prefix)
                except SQLAlchemyError as exc:
                    logger.warning("could not release the dead worker's job: %s", exc)
            self.members[index] = self._spawn()

    def stop(self, grace_s: float = 5.0) -> None:
        """Ask workers to stop; kill those still busy after `grace_s` and requeue their jobs."""
        self._stopping.set()
        self.stop_event.set()
        with self._members_lock:  # wait out a restart in progress: its worker is joined below
            pass
        deadline = time.monotonic() + grace_s
        for member in self.members:
            member.join(max(deadline - time.monotonic(), 0.1))
        for member in self.members:
            if isinstance(member, threading.Thread) or not member.is_alive():
                continue
            member.kill()
            member.join(5)
            prefix = self._prefix(member)
            if prefix is not None:
                try:
                    requeue_leases_of(self.settings, self.sessions, prefix)
                except SQLAlchemyError as exc:
                    logger.warning("could not requeue jobs of a stopped worker: %s", exc)
        self.engine.dispose()
        logger.info("worker pool stopped")

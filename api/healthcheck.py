"""Container health checks: `python -m api.healthcheck http [URL]` or `... worker`.

`http` asks the API's /healthz; `worker` checks that a worker on this host sent a heartbeat
to the database recently (workers have no HTTP port).
"""

from __future__ import annotations

import socket
import sys
import urllib.request
from datetime import timedelta

DEFAULT_URL = "http://127.0.0.1:8000/healthz"
WORKER_SILENCE_S = 60.0


def http_ok(url: str) -> bool:
    """True when `url` answers 200 within 3 seconds."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except OSError:
        return False


def worker_alive() -> bool:
    """True when a worker on this host has sent a heartbeat in the last minute."""
    from sqlalchemy import func, select

    from api.config import Settings
    from api.storage.db import make_engine
    from api.storage.models import Worker, utcnow

    engine = make_engine(Settings().database_url)
    try:
        with engine.connect() as connection:
            since = utcnow() - timedelta(seconds=WORKER_SILENCE_S)
            query = select(func.count()).select_from(Worker.__table__).where(
                Worker.hostname == socket.gethostname(), Worker.heartbeat_at >= since
            )
            return bool(connection.scalar(query))
    except Exception:
        return False
    finally:
        engine.dispose()


def main(argv: list[str]) -> int:
    """Exit status 0 when healthy, 1 otherwise."""
    what = argv[0] if argv else "http"
    if what == "worker":
        return 0 if worker_alive() else 1
    return 0 if http_ok(argv[1] if len(argv) > 1 else DEFAULT_URL) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

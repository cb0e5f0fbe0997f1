"""Security: keys hashed at rest and managed from the CLI, scopes, jobs owned by their key,
secrets kept out of logs, dataset names confined to the datasets directory.

Code review note (api/security.py): a key is `ck_<prefix>_<secret>` with 256 random bits;
only its SHA-256 is stored (a fast hash is enough for a random 256-bit secret: there is
nothing to brute-force); the presented key's digest is compared with every unrevoked row of
its prefix using `hmac.compare_digest` (constant time); the prefix (8 hex characters) is
not secret and only selects rows. Keys never appear in error messages (401 says "unknown or
revoked", nothing more) and request headers are not logged.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from api_helpers import Server, coalition_command, make_settings, postgres_url, running_client
from sqlalchemy import inspect, text

import optimizer
from api.security import create_api_key
from api.storage.db import make_engine, make_sessionmaker, transaction, upgrade_schema

from .helpers import TINY, TcpProxy, wait_for


def keys_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`coalition keys ...` as a subprocess."""
    return subprocess.run(
        [*coalition_command(), "keys", *args, "--database-url", database_url],
        capture_output=True, text=True, timeout=120, check=False,
    )


def create_key(database_url: str, name: str, *scopes: str) -> str:
    args = ["create", "--name", name]
    for scope in scopes:
        args += ["--scope", scope]
    done = keys_cli(database_url, *args)
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip().splitlines()[-1]
    assert key.startswith("ck_") and key not in done.stderr
    return key


def every_stored_value(database_url: str) -> str:
    """Every value of every column of every table, as one text (what a database dump shows)."""
    engine = make_engine(database_url)
    chunks = []
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                chunks.append(" ".join(repr(value) for value in row))
    engine.dispose()
    return "\n".join(chunks)


def test_keys_from_the_cli_hashed_at_rest_scoped_and_revocable(sqlite_url, datasets_dir, tmp_path, servers):
    reader = create_key(sqlite_url, "dashboard", "read")
    planner = create_key(sqlite_url, "planner", "read", "submit")
    bad_scope = keys_cli(sqlite_url, "create", "--name", "x", "--scope", "superuser")
    assert bad_scope.returncode == 2 and "Traceback" not in bad_scope.stderr
    admin_alone = keys_cli(sqlite_url, "create", "--name", "x", "--scope", "admin")  # grants nothing by itself
    assert admin_alone.returncode == 2 and "read and/or submit" in admin_alone.stderr

    listing = keys_cli(sqlite_url, "list")
    assert listing.returncode == 0 and "dashboard" in listing.stdout and "planner" in listing.stdout
    for key in (reader, planner):
        assert key not in listing.stdout and key.split("_", 2)[2] not in listing.stdout

    # At rest: no key, nor its secret part, in any column; in SQLite's files neither.
    dump = every_stored_value(sqlite_url)
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    raw = b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))
    for key in (reader, planner):
        secret = key.split("_", 2)[2]
        assert key not in dump and secret not in dump
        assert secret.encode() not in raw

    server = Server(sqlite_url, tmp_path / "serve.log", workers=1, COALITION_REQUIRE_API_KEY="true")
    servers.append(server)
    server.wait_ready()
    with httpx.Client(base_url=server.base_url, timeout=60) as http:
        assert http.get("/v1/jobs").status_code == 401
        assert http.get("/v1/jobs", headers={"X-API-Key": reader}).status_code == 200
        forbidden = http.post("/v1/jobs", json={"kind": "solve", "payload": TINY}, headers={"X-API-Key": reader})
        assert forbidden.status_code == 403 and forbidden.json()["error"]["required_scope"] == "submit"
        accepted = http.post("/v1/jobs", json={"kind": "solve", "payload": TINY}, headers={"X-API-Key": planner})
        assert accepted.status_code == 202
        key_id = next(line.split("\t")[0] for line in listing.stdout.splitlines() if "\tdashboard\t" in line)
        revoked = keys_cli(sqlite_url, "revoke", key_id)
        assert revoked.returncode == 0, revoked.stderr
        gone = http.get("/v1/jobs", headers={"X-API-Key": reader})
        assert gone.status_code == 401 and gone.json()["error"]["code"] == "unauthorized"
        assert http.get("/v1/jobs", headers={"X-API-Key": planner}).status_code == 200
    assert keys_cli(sqlite_url, "revoke", "999").returncode == 2


def test_jobs_belong_to_their_key_on_a_real_server(sqlite_url, datasets_dir, tmp_path, servers):
    """Keys from the CLI, a real `coalition serve`: a key's job is a 404 to another key; admin sees all."""
    keys = {name: create_key(sqlite_url, name, "read", "submit") for name in ("agency_a", "agency_b")}
    admin = create_key(sqlite_url, "ops", "read", "admin")
    server = Server(sqlite_url, tmp_path / "serve.log", workers=1, COALITION_REQUIRE_API_KEY="true")
    servers.append(server)
    server.wait_ready()
    with httpx.Client(base_url=server.base_url, timeout=60) as http:
        jobs = {}
        for name, key in keys.items():
            sent = http.post("/v1/jobs", json={"kind": "solve", "payload": TINY}, headers={"X-API-Key": key})
            assert sent.status_code == 202, sent.text
            jobs[name] = sent.json()
            with httpx.Client(base_url=server.base_url, headers={"X-API-Key": key}, timeout=60) as own:
                assert wait_for(own, jobs[name]["id"])["state"] == "succeeded"
        for name, other in (("agency_a", "agency_b"), ("agency_b", "agency_a")):
            job_id, stranger = jobs[name]["id"], {"X-API-Key": keys[other]}
            for path in ("", "/result", "/log"):
                hidden = http.get(f"/v1/jobs/{job_id}{path}", headers=stranger)
                assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "job_not_found", hidden.text
            assert http.post(f"/v1/jobs/{job_id}/cancel", headers=stranger).status_code == 404
            assert http.delete(f"/v1/jobs/{job_id}", headers=stranger).status_code == 404
            listed = http.get("/v1/jobs", headers=stranger).json()
            assert [job["id"] for job in listed["items"]] == [jobs[other]["id"]] and listed["total"] == 1
            assert http.get("/v1/jobs", params={"owner": jobs[name]["owner"]}, headers=stranger).status_code == 403
        everyone = http.get("/v1/jobs", headers={"X-API-Key": admin}).json()
        assert {job["id"] for job in everyone["items"]} == {job["id"] for job in jobs.values()}
        one = http.get("/v1/jobs", params={"owner": jobs["agency_b"]["owner"]}, headers={"X-API-Key": admin}).json()
        assert [job["id"] for job in one["items"]] == [jobs["agency_b"]["id"]]


def test_every_v1_operation_checks_key_and_scope(sqlite_url, datasets_dir):
    """No key -> 401; a key without the route's scope -> 403 naming it; GET needs read, the rest submit."""
    settings = make_settings(sqlite_url, datasets_dir, workers=0, require_api_key="true")
    engine = make_engine(sqlite_url)
    upgrade_schema(engine)
    with transaction(make_sessionmaker(engine)) as session:
        _, read_key = create_api_key(session, "r", ["read"])
        _, submit_key = create_api_key(session, "s", ["submit"])
    engine.dispose()
    with running_client(settings) as client:
        document = client.get("/openapi.json", headers={"X-API-Key": read_key}).json()
        checked = 0
        for path, operations in document["paths"].items():
            if not path.startswith("/v1/"):
                continue
            url = path.replace("{job_id}", "00000000-0000-0000-0000-000000000000").replace("{name}", "tiny")
            for method in operations:
                needed = "read" if method == "get" else "submit"
                other = submit_key if needed == "read" else read_key
                body = {"json": {"kind": "solve", "payload": TINY}} if method == "post" else {}
                missing = client.request(method, url, **body)
                assert missing.status_code == 401, (method, path, missing.text)
                wrong = client.request(method, url, headers={"X-API-Key": other}, **body)
                assert wrong.status_code == 403, (method, path, wrong.text)
                assert wrong.json()["error"]["required_scope"] == needed
                right = client.request(method, url, headers={"X-API-Key": read_key if needed == "read" else submit_key},
                                       **body)
                assert right.status_code not in (401, 403), (method, path, right.text)
                checked += 1
        assert checked >= 12
        assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code in (200, 503)


@pytest.fixture
def secret_database() -> tuple[str, str]:
    """A PostgreSQL database reached with a freshly made password (to look for in the logs)."""
    base = postgres_url()
    password = "pw-" + secrets.token_hex(12)
    statements = [
        "DROP DATABASE IF EXISTS coalition_logs",
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'coalition_logs')"
        " THEN CREATE ROLE coalition_logs LOGIN; END IF; END $$",
        f"ALTER ROLE coalition_logs PASSWORD '{password}'",
        "CREATE DATABASE coalition_logs OWNER coalition_logs",
    ]
    for statement in statements:
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", "psql", "-q", "-c", statement],
            capture_output=True, text=True, check=False, timeout=60,
        )
        if done.returncode != 0:
            if os.environ.get("CI") == "true":
                pytest.fail(f"cannot prepare the log test database: {done.stderr}")
            pytest.skip(f"cannot run psql as postgres here: {done.stderr.strip()}")
    parts = urlsplit(base)
    url = urlunsplit(parts._replace(netloc=f"coalition_logs:{password}@{parts.hostname}:{parts.port or 5432}",
                                    path="/coalition_logs"))
    return url, password


def test_no_secret_reaches_the_logs(secret_database, datasets_dir, tmp_path, servers):
    """Run the server with keys and a database password, through faults; grep its whole log."""
    url, password = secret_database
    planner = create_key(url, "planner", "read", "submit")
    stranger = "ck_" + planner.split("_")[1] + "_" + secrets.token_urlsafe(32)  # right prefix, wrong secret
    parts = urlsplit(url)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    proxy.start()
    proxied = urlunsplit(parts._replace(netloc=f"{parts.netloc.rsplit('@', 1)[0]}@127.0.0.1:{proxy.port}"))
    env = {"COALITION_REQUIRE_API_KEY": "true", "COALITION_LOG_LEVEL": "DEBUG", "COALITION_HEARTBEAT_S": "0.3"}
    server = Server(proxied, tmp_path / "serve.log", workers=1, **env)
    servers.append(server)
    job_logs = []
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.base_url, timeout=60) as http:
            good = {"X-API-Key": planner}
            job = http.post("/v1/jobs", json={"kind": "solve", "payload": TINY}, headers=good).json()
            with httpx.Client(base_url=server.base_url, headers=good, timeout=60) as keyed:
                assert wait_for(keyed, job["id"])["state"] == "succeeded"
            job_logs.append(http.get(f"/v1/jobs/{job['id']}/log", headers=good).json()["text"])
            assert http.post("/v1/solve", json={**TINY, "coalition": "nato"}, headers=good).status_code == 422
            for wrong in (stranger, planner + "x", "nonsense " + password):
                assert http.get("/v1/jobs", headers={"X-API-Key": wrong}).status_code == 401
            proxy.cut()  # database errors are logged: they must not carry the URL's password
            assert http.get("/v1/jobs", headers=good).status_code == 503
            assert http.post("/v1/jobs", json={"kind": "solve", "payload": TINY}, headers=good).status_code == 503
            proxy.start()
            deadline = time.monotonic() + 30
            while http.get("/v1/jobs", headers=good).status_code != 200:
                assert time.monotonic() < deadline, "did not recover"
                time.sleep(0.2)
        server.stop(signal.SIGTERM)
    finally:
        proxy.cut()
    log = server.log_path.read_text()
    assert "database unavailable" in log or "OperationalError" in log  # the faults were logged
    assert "coalition_logs:***@" in log  # the startup line shows the URL, masked
    for text_ in [log, *job_logs]:
        assert password not in text_
        for key in (planner, stranger):
            assert key not in text_ and key.split("_", 2)[2] not in text_


@pytest.mark.parametrize(
    "name",
    ["../../etc", "/etc", "..", ".", "tiny/../tiny2", "tiny/..", "~root", "tiny\x00", "%2e%2e", "C:\\Windows",
     "x" * 65],
)
def test_dataset_names_stay_inside_the_datasets_directory(lite_client_keyless, name):
    client = lite_client_keyless
    response = client.post("/v1/solve", json={**TINY, "dataset": name})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "dataset"
    with pytest.raises(optimizer.ScenarioError) as caught:
        optimizer.solve({**TINY, "dataset": name}, allow_paths=False)
    assert "scenario.dataset" in str(caught.value)
    listing = client.get("/v1/coalitions", params={"dataset": name})
    assert listing.status_code in (404, 422)


def test_dataset_path_segments_in_urls_are_refused(lite_client_keyless):
    for path in ("/v1/datasets/..%2F..%2Fetc", "/v1/datasets/tiny%2F..%2F..%2Fetc", "/v1/datasets/%2Fetc%2Fpasswd",
                 "/v1/datasets/../../etc/passwd"):
        response = lite_client_keyless.get(path)
        assert response.status_code in (404, 422), (path, response.text)
        assert "root:" not in response.text

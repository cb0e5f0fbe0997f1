"""Faults: unexpected errors, the database going away and coming back, the schema, OpenAPI."""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from api_helpers import TINY, TcpProxy, make_settings, postgres_url, reset_postgres, running_client
from fastapi.testclient import TestClient

from api.main import create_app
from api.storage.db import make_engine, upgrade_schema
from api.storage.models import Base


def test_unexpected_errors_are_json_500_without_traceback(sqlite_url, datasets_dir):
    app = create_app(make_settings(sqlite_url, datasets_dir, workers=0))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"X-Request-ID": "req-500"})
        assert response.status_code == 500
        error = response.json()["error"]
        assert error["code"] == "internal_error" and error["request_id"] == "req-500"
        assert "secret" not in response.text and "Traceback" not in response.text
        assert client.get("/nowhere").json()["error"]["code"] == "not_found"
        assert client.put("/v1/jobs").json()["error"]["code"] == "method_not_allowed"


def test_database_down_is_503_and_recovers(datasets_dir):
    url = postgres_url()
    reset_postgres(url)
    parts = urlsplit(url)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    proxy.start()
    netloc = parts.netloc.rsplit("@", 1)
    proxied = urlunsplit(parts._replace(netloc=f"{netloc[0]}@127.0.0.1:{proxy.port}"))
    settings = make_settings(proxied, datasets_dir, workers=0)
    with running_client(settings) as client:
        assert client.get("/v1/jobs").status_code == 200
        proxy.cut()
        down = client.get("/v1/jobs")
        assert down.status_code == 503, down.text
        assert down.json()["error"]["code"] == "database_unavailable" and down.headers["Retry-After"]
        assert "Traceback" not in down.text
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200
        proxy.start()
        deadline = time.monotonic() + 20
        while client.get("/v1/jobs").status_code != 200:
            assert time.monotonic() < deadline, "did not recover"
            time.sleep(0.2)
    proxy.cut()


def test_migrations_match_the_models(db_url):
    engine = make_engine(db_url)
    upgrade_schema(engine)
    upgrade_schema(engine)  # idempotent
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


def test_readiness_needs_a_worker(sqlite_url, datasets_dir):
    with running_client(make_settings(sqlite_url, datasets_dir, workers=0)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["database"] == "ok"
    with running_client(make_settings(sqlite_url, datasets_dir)) as client:
        deadline = time.monotonic() + 10
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_openapi_documents_every_operation(lite_client):
    schema = lite_client.get("/openapi.json").json()
    paths = schema["paths"]
    expected = {
        ("/v1/solve", "post"),
        ("/v1/jobs", "post"),
        ("/v1/jobs", "get"),
        ("/v1/jobs/{job_id}", "get"),
        ("/v1/jobs/{job_id}", "delete"),
        ("/v1/jobs/{job_id}/result", "get"),
        ("/v1/jobs/{job_id}/log", "get"),
        ("/v1/jobs/{job_id}/cancel", "post"),
        ("/v1/compare", "post"),
        ("/v1/datasets", "get"),
        ("/v1/datasets/{name}", "get"),
        ("/v1/coalitions", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
    }
    found = {(path, method) for path, ops in paths.items() for method in ops}
    assert expected <= found
    for path, method in expected - {("/healthz", "get"), ("/readyz", "get")}:
        responses = paths[path][method]["responses"]
        assert any(code.startswith("4") for code in responses), (path, method)
    solve = paths["/v1/solve"]["post"]
    assert solve["requestBody"]["content"]["application/json"]["examples"]
    assert "X-API-Key" in {p["name"] for p in solve["parameters"]}
    jobs = paths["/v1/jobs"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in jobs["parameters"]}
    assert schema["components"]["schemas"]["JobCreate"]["examples"]
    compare = paths["/v1/compare"]["post"]["requestBody"]["content"]["application/json"]
    assert compare["schema"]["$ref"].endswith("CompareRequest")


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/v1/datasets"])
def test_request_id_header_everywhere(lite_client, path):
    assert lite_client.get(path).headers["X-Request-ID"]


def test_sync_solve_failure_in_worker_is_not_a_traceback(lite_client):
    # A scenario that passes every check but whose coalition has no demand fails in the worker.
    response = lite_client.post("/v1/solve", json={**TINY, "coalition": ["AUS"]})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "coalition"

"""API keys: required beyond loopback, hashed at rest, scoped; managed with `coalition keys`."""

from __future__ import annotations

import hashlib

from api_helpers import TINY, create_key, make_settings, running_client
from sqlalchemy import select
from typer.testing import CliRunner

from api.config import Settings
from api.storage.db import make_engine, make_sessionmaker
from api.storage.models import ApiKey
from optimizer.cli import app as cli

runner = CliRunner()


def test_keys_are_required_beyond_loopback():
    assert not Settings(host="127.0.0.1").api_key_required
    assert not Settings(host="localhost").api_key_required
    assert not Settings(host="::1").api_key_required
    assert Settings(host="0.0.0.0").api_key_required
    assert Settings(host="10.1.2.3").api_key_required
    assert not Settings(host="0.0.0.0", require_api_key="false").api_key_required
    assert Settings(host="127.0.0.1", require_api_key="true").api_key_required


def test_scopes_and_keys(sqlite_url, datasets_dir):
    reader = create_key(sqlite_url, "dashboard", "read")
    submitter = create_key(sqlite_url, "planner", "read", "submit")
    assert reader.startswith("ck_") and reader != submitter
    with make_sessionmaker(make_engine(sqlite_url))() as session:
        rows = session.scalars(select(ApiKey)).all()
    assert {row.key_hash for row in rows} == {hashlib.sha256(k.encode()).hexdigest() for k in (reader, submitter)}
    assert all(reader not in (row.key_hash, row.prefix, row.name) for row in rows)

    settings = make_settings(sqlite_url, datasets_dir, host="0.0.0.0", workers=0)  # CliRunner swaps stdout
    with running_client(settings) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503  # open, and honest: no worker runs
        assert client.get("/openapi.json").status_code == 401
        assert client.get("/docs").status_code == 404
        assert "/v1/solve" in client.get("/openapi.json", headers={"X-API-Key": reader}).json()["paths"]
        missing = client.get("/v1/jobs")
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
        assert missing.headers["WWW-Authenticate"] == "ApiKey"
        for wrong in ("nope", reader + "x", "ck_00000000_" + "a" * 40):
            assert client.get("/v1/jobs", headers={"X-API-Key": wrong}).status_code == 401
        assert client.get("/v1/jobs", headers={"X-API-Key": reader}).status_code == 200
        assert client.get("/v1/datasets", headers={"X-API-Key": reader}).status_code == 200
        forbidden = client.post("/v1/jobs", json={"kind": "solve", "payload": TINY}, headers={"X-API-Key": reader})
        assert forbidden.status_code == 403 and forbidden.json()["error"]["required_scope"] == "submit"
        assert client.post("/v1/solve", json=TINY, headers={"X-API-Key": reader}).status_code == 403
        accepted = client.post("/v1/jobs", json={"kind": "solve", "payload": TINY}, headers={"X-API-Key": submitter})
        assert accepted.status_code == 202
        job_id = accepted.json()["id"]
        assert client.post(f"/v1/jobs/{job_id}/cancel", headers={"X-API-Key": reader}).status_code == 403
        assert client.delete(f"/v1/jobs/{job_id}", headers={"X-API-Key": reader}).status_code == 403

        listing = runner.invoke(cli, ["keys", "list", "--database-url", sqlite_url])
        assert listing.exit_code == 0 and "dashboard" in listing.stdout and reader not in listing.stdout
        key_id = next(line.split("\t")[0] for line in listing.stdout.splitlines() if "\tdashboard\t" in line)
        revoked = runner.invoke(cli, ["keys", "revoke", key_id, "--database-url", sqlite_url])
        assert revoked.exit_code == 0
        assert client.get("/v1/jobs", headers={"X-API-Key": reader}).status_code == 401
        assert runner.invoke(cli, ["keys", "revoke", "999", "--database-url", sqlite_url]).exit_code == 2


def test_idempotency_keys_belong_to_their_api_key(sqlite_url, datasets_dir):
    first = create_key(sqlite_url, "a", "read", "submit")
    second = create_key(sqlite_url, "b", "read", "submit")
    settings = make_settings(sqlite_url, datasets_dir, require_api_key="true", workers=0)
    with running_client(settings) as client:
        body = {"kind": "solve", "payload": TINY}
        one = client.post("/v1/jobs", json=body, headers={"X-API-Key": first, "Idempotency-Key": "k1"})
        two = client.post("/v1/jobs", json=body, headers={"X-API-Key": second, "Idempotency-Key": "k1"})
        assert one.status_code == two.status_code == 202 and one.json()["id"] != two.json()["id"]


def test_bad_scope_on_the_command_line(sqlite_url):
    for scopes, says in ((["superuser"], "must be among"), (["read", "root"], "must be among"),
                         (["admin"], "add read and/or submit")):
        args = ["keys", "create", "--name", "x", "--database-url", sqlite_url]
        for scope in scopes:
            args += ["--scope", scope]
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, (scopes, result.output)
        assert says in result.stderr and "Traceback" not in result.output
    listing = runner.invoke(cli, ["keys", "list", "--database-url", sqlite_url])
    assert listing.exit_code == 0 and len(listing.stdout.strip().splitlines()) == 1  # the header: no key was made


def test_admin_scope_on_the_command_line(sqlite_url):
    created = runner.invoke(
        cli, ["keys", "create", "--name", "ops", "--scope", "admin", "--scope", "read", "--database-url", sqlite_url]
    )
    assert created.exit_code == 0, created.output
    assert created.stdout.strip().splitlines()[-1].startswith("ck_")
    assert "scopes: admin read" in created.stderr and "owner: key:1" in created.stderr
    listing = runner.invoke(cli, ["keys", "list", "--database-url", sqlite_url])
    header, row = listing.stdout.strip().splitlines()
    assert header.split("\t")[-1] == "owner"
    assert row.split("\t")[1] == "ops" and row.split("\t")[3] == "admin read" and row.split("\t")[-1] == "key:1"

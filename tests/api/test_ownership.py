"""Job ownership: an API key sees and manages only its own jobs; `admin` keys see all.

Another key's job answers exactly like a job that does not exist (404 `job_not_found`, the
same body), on every route that takes a job id; lists are per key; an admin lists every
owner's jobs and may filter by `owner`; without keys (loopback) everything stays visible.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from api_helpers import TINY, create_key, make_settings, running_client, wait_for_state
from fastapi.testclient import TestClient
from sqlalchemy import inspect, update

from api.storage.db import make_engine, make_sessionmaker, transaction
from api.storage.models import Job, utcnow

FINAL = ("succeeded", "failed", "cancelled")
COMPARE = {"scenario": {**TINY, "end_year": 2030}, "coalitions": ["usa_only", ["USA", "AUS"]]}
KEYED = {"require_api_key": "true"}


class Caller:
    """The test client, sending one API key (or none) with every request."""

    def __init__(self, client: TestClient, key: str | None) -> None:
        self.client = client
        self.headers = {"X-API-Key": key} if key else {}

    def request(self, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
        return self.client.request(method, path, headers={**self.headers, **(headers or {})}, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", path, **kw)

    def submit(self, payload: dict[str, Any], key: str | None = None, kind: str = "solve") -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return self.post("/v1/jobs", json={"kind": kind, "payload": payload}, headers=headers)

    def ids(self, **params: Any) -> set[str]:
        response = self.get("/v1/jobs", params={"limit": 100, **params})
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["total"] == len(page["items"])
        return {job["id"] for job in page["items"]}

    def wait(self, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
        return wait_for_state(self, job_id, FINAL, timeout)


JOB_ROUTES = (
    ("GET", "/v1/jobs/{id}"),
    ("GET", "/v1/jobs/{id}/result"),
    ("GET", "/v1/jobs/{id}/log"),
    ("GET", "/ui/jobs/{id}/figures"),
    ("POST", "/v1/jobs/{id}/cancel"),
    ("DELETE", "/v1/jobs/{id}"),
)


def comparable(response: httpx.Response, job_id: str) -> tuple[int, dict[str, Any]]:
    """Status and error body, with the id and the request id taken out (to compare two 404s)."""
    error = dict(response.json()["error"])
    error.pop("request_id")
    error["message"] = error["message"].replace(job_id, "<id>")
    return response.status_code, error


def assert_hidden(stranger: Caller, job_id: str, routes: tuple[tuple[str, str], ...] = JOB_ROUTES) -> None:
    """Every route taking a job id answers `stranger` as if the job did not exist."""
    unknown = str(uuid.uuid4())
    for method, route in routes:
        theirs = stranger.request(method, route.format(id=job_id))
        nothing = stranger.request(method, route.format(id=unknown))
        assert theirs.status_code == 404, (method, route, theirs.text)
        assert theirs.json()["error"]["code"] == "job_not_found" and theirs.json()["error"]["field"] == "job_id"
        assert comparable(theirs, job_id) == comparable(nothing, unknown), (method, route)
        assert "Location" not in theirs.headers and "X-Job-ID" not in theirs.headers


def test_a_key_sees_and_manages_only_its_own_jobs(db_url, datasets_dir):
    alice_key = create_key(db_url, "alice", "read", "submit")
    bob_key = create_key(db_url, "bob", "read", "submit")
    admin_key = create_key(db_url, "ops", "read", "submit", "admin")

    # No worker first: the jobs stay queued, so a cancel or delete by the wrong key would show.
    with running_client(make_settings(db_url, datasets_dir, workers=0, **KEYED)) as client:
        alice, bob, admin = Caller(client, alice_key), Caller(client, bob_key), Caller(client, admin_key)
        first = alice.submit(TINY, key="run-1")
        second = bob.submit(TINY, key="run-1")  # the same Idempotency-Key: a different owner, a new job
        assert first.status_code == second.status_code == 202, (first.text, second.text)
        job_a, job_b = first.json(), second.json()
        assert job_a["id"] != job_b["id"]
        assert job_a["owner"].startswith("key:") and job_b["owner"].startswith("key:")
        assert job_a["owner"] != job_b["owner"]
        replay = alice.submit(TINY, key="run-1")
        assert replay.json()["id"] == job_a["id"] and replay.headers["Idempotent-Replayed"] == "true"
        conflict = bob.submit({**TINY, "name": "other"}, key="run-1")
        assert conflict.status_code == 409 and conflict.json()["error"]["job_id"] == job_b["id"]
        compare = bob.post("/v1/compare", json=COMPARE)
        assert compare.status_code == 202, compare.text
        job_c = compare.json()
        spare = alice.submit({**TINY, "name": "spare"}).json()

        for stranger, owner, job_ids in ((bob, alice, [job_a["id"], spare["id"]]),
                                         (alice, bob, [job_b["id"], job_c["id"]])):
            for job_id in job_ids:
                assert_hidden(stranger, job_id)
                still = owner.get(f"/v1/jobs/{job_id}")
                assert still.status_code == 200
                assert still.json()["state"] == "queued" and not still.json()["cancel_requested"]

        assert alice.ids() == {job_a["id"], spare["id"]}
        assert bob.ids() == {job_b["id"], job_c["id"]}
        assert bob.ids(kind="compare") == {job_c["id"]} and alice.ids(kind="compare") == set()
        assert alice.ids(state="queued") == {job_a["id"], spare["id"]}

        for caller, label in ((alice, job_a["owner"]), (bob, job_a["owner"]), (alice, "anonymous")):
            refused = caller.get("/v1/jobs", params={"owner": label})
            assert refused.status_code == 403, refused.text
            error = refused.json()["error"]
            assert error["field"] == "owner" and error["required_scope"] == "admin" and error["code"] == "forbidden"

        everyone = {job_a["id"], job_b["id"], job_c["id"], spare["id"]}
        assert admin.ids() == everyone
        assert admin.ids(owner=job_a["owner"]) == {job_a["id"], spare["id"]}
        assert admin.ids(owner=job_b["owner"]) == {job_b["id"], job_c["id"]}
        assert admin.ids(owner=job_b["owner"], kind="solve") == {job_b["id"]}
        assert admin.ids(owner="anonymous") == set()
        for malformed in ("alice", "key:", "key:x", "key:1;drop", "KEY:1", ""):
            bad = admin.get("/v1/jobs", params={"owner": malformed})
            assert bad.status_code == 422, (malformed, bad.text)
            assert bad.json()["error"]["field"] == "owner"

        # An admin manages others' jobs: cancels Alice's spare job, which she then sees cancelled.
        cancelled = admin.post(f"/v1/jobs/{spare['id']}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        assert alice.get(f"/v1/jobs/{spare['id']}").json()["state"] == "cancelled"
        assert admin.delete(f"/v1/jobs/{spare['id']}").status_code == 204
        assert alice.get(f"/v1/jobs/{spare['id']}").status_code == 404
        assert alice.ids() == {job_a["id"]}

    # Now a worker runs them: results, logs and figures exist, and stay with their owner.
    with running_client(make_settings(db_url, datasets_dir, **KEYED)) as client:
        alice, bob, admin = Caller(client, alice_key), Caller(client, bob_key), Caller(client, admin_key)
        assert alice.wait(job_a["id"])["state"] == "succeeded"
        assert bob.wait(job_b["id"])["state"] == "succeeded"
        assert bob.wait(job_c["id"])["state"] == "succeeded"
        assert_hidden(bob, job_a["id"])
        assert_hidden(alice, job_b["id"])
        assert_hidden(alice, job_c["id"])
        assert alice.get(f"/v1/jobs/{job_a['id']}/result").status_code == 200
        assert alice.get(f"/v1/jobs/{job_a['id']}/log").json()["size"] > 0
        assert bob.get(f"/v1/jobs/{job_c['id']}/result").json()["kind"] == "compare"
        assert bob.get(f"/ui/jobs/{job_c['id']}/figures").status_code == 200
        assert alice.ids().isdisjoint(bob.ids())

        assert admin.get(f"/v1/jobs/{job_a['id']}/result").json()["job_id"] == job_a["id"]
        assert admin.get(f"/v1/jobs/{job_b['id']}/log").status_code == 200
        assert admin.get(f"/ui/jobs/{job_c['id']}/figures").status_code == 200
        assert admin.delete(f"/v1/jobs/{job_b['id']}").status_code == 204
        assert bob.get(f"/v1/jobs/{job_b['id']}").status_code == 404
        assert bob.ids() == {job_c["id"]} and admin.ids() == {job_a["id"], job_c["id"]}

    engine = make_engine(db_url)
    indexes = {index["name"]: index["column_names"] for index in inspect(engine).get_indexes("jobs")}
    engine.dispose()
    assert indexes.get("ix_jobs_owner_created") == ["owner", "created_at"]


def test_read_only_and_admin_read_only_keys(sqlite_url, datasets_dir):
    """Scopes still gate the routes: `admin` widens what `read` sees but grants no `submit`."""
    planner = create_key(sqlite_url, "planner", "read", "submit")
    reader = create_key(sqlite_url, "reader", "read")
    auditor = create_key(sqlite_url, "auditor", "read", "admin")
    with running_client(make_settings(sqlite_url, datasets_dir, workers=0, **KEYED)) as client:
        mine = Caller(client, planner).submit(TINY).json()
        assert Caller(client, reader).ids() == set()
        assert_hidden(Caller(client, reader), mine["id"], routes=tuple(r for r in JOB_ROUTES if r[0] == "GET"))
        audit = Caller(client, auditor)
        assert audit.ids() == {mine["id"]}
        assert audit.get(f"/v1/jobs/{mine['id']}").status_code == 200
        for method in ("POST", "DELETE"):
            path = f"/v1/jobs/{mine['id']}" + ("/cancel" if method == "POST" else "")
            refused = audit.request(method, path)
            assert refused.status_code == 403 and refused.json()["error"]["required_scope"] == "submit"
        assert Caller(client, planner).get(f"/v1/jobs/{mine['id']}").json()["state"] == "queued"


def test_without_keys_everything_stays_visible(sqlite_url, datasets_dir):
    """Loopback, keys off: the anonymous caller sees and manages every job, as before."""
    key = create_key(sqlite_url, "local", "read", "submit")
    with running_client(make_settings(sqlite_url, datasets_dir, workers=0)) as client:
        anonymous, keyed = Caller(client, None), Caller(client, key)
        anon_job = anonymous.submit(TINY).json()
        key_job = keyed.submit({**TINY, "name": "keyed"}).json()
        assert anon_job["owner"] == "anonymous" and key_job["owner"].startswith("key:")
        assert anonymous.ids() == {anon_job["id"], key_job["id"]}
        assert anonymous.get(f"/v1/jobs/{key_job['id']}").status_code == 200
        assert anonymous.ids(owner=key_job["owner"]) == {key_job["id"]}
        assert anonymous.ids(owner="anonymous") == {anon_job["id"]}
        # A key sent anyway is honoured: that caller is the key, and sees its own jobs only.
        assert keyed.ids() == {key_job["id"]}
        assert_hidden(keyed, anon_job["id"])
        assert anonymous.delete(f"/v1/jobs/{key_job['id']}").status_code == 204
        assert keyed.ids() == set()


def test_retention_purges_every_owners_jobs(sqlite_url, datasets_dir):
    first = create_key(sqlite_url, "first", "read", "submit")
    second = create_key(sqlite_url, "second", "read", "submit")
    admin = create_key(sqlite_url, "ops", "read", "admin")
    with running_client(make_settings(sqlite_url, datasets_dir, workers=0, **KEYED)) as client:
        old = []
        for key in (first, second):
            job = Caller(client, key).submit(TINY).json()
            assert Caller(client, key).post(f"/v1/jobs/{job['id']}/cancel").json()["state"] == "cancelled"
            old.append(job["id"])
        kept = Caller(client, second).submit({**TINY, "name": "queued"}).json()["id"]
    past = utcnow() - timedelta(days=5)
    engine = make_engine(sqlite_url)
    with transaction(make_sessionmaker(engine)) as session:
        session.execute(update(Job).where(Job.id.in_(old)).values(finished_at=past, created_at=past))
    engine.dispose()
    settings = make_settings(sqlite_url, datasets_dir, workers=0, result_retention_days=1, **KEYED)
    with running_client(settings) as client:  # the startup purge
        assert Caller(client, admin).ids() == {kept}

"""The job lifecycle over HTTP on SQLite and PostgreSQL, with a real worker and solver."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from api_helpers import TINY, make_settings, running_client, wait_for_state
from sqlalchemy import update

import optimizer
from api.storage.db import make_engine, make_sessionmaker, transaction
from api.storage.models import Job, utcnow

FINAL = ("succeeded", "failed", "cancelled")
LONG_COMPARE = {
    "scenario": {**TINY},
    "coalitions": ["usa_only"] * 12,
    "scenarios": [{"dataset": "tiny", "name": f"copy {i}"} for i in range(10)],
}


def submit(client, payload, kind="solve", **headers):
    return client.post("/v1/jobs", json={"kind": kind, "payload": payload}, headers=headers)


def test_submit_poll_result_matches_the_library(client):
    response = submit(client, {**TINY, "options": {"time_limit_s": 10_000}})
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["state"] == "queued" and response.headers["Location"] == f"/v1/jobs/{job['id']}"
    assert job["effective_time_limit_s"] == 300 and response.headers["X-Effective-Time-Limit"] == "300"
    done = wait_for_state(client, job["id"], FINAL)
    assert done["state"] == "succeeded", done
    assert done["attempts"] == 1 and done["progress"] == {"done": 3, "total": 3}
    assert done["result_status"] == "optimal" and done["finished_at"] >= done["started_at"]

    stored = client.get(f"/v1/jobs/{job['id']}/result")
    assert stored.status_code == 200
    body = stored.json()
    scenario = optimizer.Scenario.model_validate(body["input"])
    expected = optimizer.solve(scenario, allow_paths=False)
    assert body["input_hash"] == scenario.content_hash() == job["input_hash"]
    assert body["solver_name"] == "highs" and body["solver_version"] == expected.summary.model.solver_version
    assert body["model_version"] == optimizer.MODEL_VERSION
    result = body["result"]
    assert result["status"] == "optimal"
    assert result["total_cost_usd"] == pytest.approx(expected.summary.total_cost_usd, rel=1e-6)
    assert result["objective"]["exposure_share_years"] == pytest.approx(
        expected.summary.objective["exposure_share_years"], rel=1e-6
    )


def test_log_is_read_by_byte_offset(client):
    job = submit(client, TINY).json()
    wait_for_state(client, job["id"], FINAL)
    whole = client.get(f"/v1/jobs/{job['id']}/log").json()
    assert whole["complete"] and whole["size"] == len(whole["text"].encode())
    assert "attempt 1 started" in whole["text"] and "HiGHS" in whole["text"]  # the solver's own log
    first = client.get(f"/v1/jobs/{job['id']}/log", params={"offset": 0, "limit": 100}).json()
    assert len(first["text"].encode()) == 100 and first["next_offset"] == 100 and not first["complete"]
    rest = client.get(f"/v1/jobs/{job['id']}/log", params={"offset": first["next_offset"]}).json()
    assert first["text"] + rest["text"] == whole["text"] and rest["complete"]
    end = client.get(f"/v1/jobs/{job['id']}/log", params={"offset": 10**7}).json()
    assert end["text"] == "" and end["next_offset"] == whole["size"]
    assert client.get(f"/v1/jobs/{job['id']}/log", params={"offset": -1}).status_code == 422


def test_list_is_paged_and_filtered(client):
    ids = [submit(client, {**TINY, "name": f"run {i}"}).json()["id"] for i in range(3)]
    for job_id in ids:
        wait_for_state(client, job_id, FINAL)
    page = client.get("/v1/jobs", params={"limit": 2}).json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["next_offset"] == 2
    last = client.get("/v1/jobs", params={"limit": 2, "offset": 2}).json()
    assert len(last["items"]) == 1 and last["next_offset"] is None
    assert {j["id"] for j in page["items"] + last["items"]} == set(ids)
    assert client.get("/v1/jobs", params={"state": "succeeded", "kind": "solve"}).json()["total"] == 3
    assert client.get("/v1/jobs", params={"state": "queued"}).json()["total"] == 0
    assert client.get("/v1/jobs", params={"kind": "compare"}).json()["total"] == 0
    assert client.get("/v1/jobs", params={"state": "bogus"}).status_code == 422
    assert client.get("/v1/jobs", params={"limit": 1000}).status_code == 422


def test_queued_job_cancel_delete_and_not_ready(db_url, datasets_dir):
    with running_client(make_settings(db_url, datasets_dir, workers=0)) as client:
        job = submit(client, TINY).json()
        not_ready = client.get(f"/v1/jobs/{job['id']}/result")
        assert not_ready.status_code == 409
        assert not_ready.json()["error"]["state"] == "queued" and "Retry-After" in not_ready.headers
        cancelled = client.post(f"/v1/jobs/{job['id']}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        again = client.post(f"/v1/jobs/{job['id']}/cancel")
        assert again.status_code == 200 and again.json()["state"] == "cancelled"
        gone = client.get(f"/v1/jobs/{job['id']}/result")
        assert gone.status_code == 409 and gone.json()["error"]["code"] == "job_cancelled"
        assert client.delete(f"/v1/jobs/{job['id']}").status_code == 204
        for path in ("", "/result", "/log"):
            missing = client.get(f"/v1/jobs/{job['id']}{path}")
            assert missing.status_code == 404 and missing.json()["error"]["code"] == "job_not_found"
        assert client.post(f"/v1/jobs/{job['id']}/cancel").status_code == 404
        assert client.delete(f"/v1/jobs/{job['id']}").status_code == 404


def test_cancel_a_running_job(client):
    job = submit(client, LONG_COMPARE, kind="compare").json()
    running = wait_for_state(client, job["id"], ("running", *FINAL))
    assert running["state"] == "running"
    while client.get(f"/v1/jobs/{job['id']}").json()["progress"]["done"] < 1:
        pass
    response = client.post(f"/v1/jobs/{job['id']}/cancel")
    assert response.status_code in (200, 202) and response.json()["cancel_requested"]
    assert client.delete(f"/v1/jobs/{job['id']}").status_code in (204, 409)
    final = wait_for_state(client, job["id"], FINAL, timeout=30)
    assert final["state"] == "cancelled" and final["progress"]["done"] < 120
    assert client.post(f"/v1/jobs/{job['id']}/cancel").json()["state"] == "cancelled"


def test_cancel_stops_highs_mid_solve(sqlite_url, tmp_path, monkeypatch):
    """A cancel reaches HiGHS itself: the LP stops within an iteration, not after it ends."""
    import yaml

    from benchmarks.synthetic import write_synthetic

    root = tmp_path / "datasets"
    scenario = yaml.safe_load(write_synthetic(root / "medium", "medium").read_text(encoding="utf-8"))
    scenario["dataset"] = "medium"  # the medium synthetic: its first LP takes HiGHS seconds
    monkeypatch.setenv("COALITION_DATASETS_DIR", str(root))
    with running_client(make_settings(sqlite_url, root)) as client:
        job = submit(client, scenario).json()
        deadline = time.monotonic() + 60
        while client.get(f"/v1/jobs/{job['id']}").json()["progress"]["done"] < 1:  # built: HiGHS runs
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert client.post(f"/v1/jobs/{job['id']}/cancel").status_code in (200, 202)
        final = wait_for_state(client, job["id"], FINAL, timeout=60)
        log = client.get(f"/v1/jobs/{job['id']}/log").json()["text"]
    assert final["state"] == "cancelled", final
    assert "HiGHS stopped mid-run: interrupted during the 'lexicographic' solve" in log, log[-2000:]


def test_idempotency_key(client):
    first = submit(client, TINY, **{"Idempotency-Key": "order-42"})
    again = submit(client, TINY, **{"Idempotency-Key": "order-42"})
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    other = submit(client, {**TINY, "name": "other"}, **{"Idempotency-Key": "order-42"})
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"
    for bad in ("", "x" * 129, "has space", "semi;colon", "ünï"):
        malformed = client.post(
            "/v1/jobs",
            json={"kind": "solve", "payload": TINY},
            headers={"Idempotency-Key": bad.encode()},
        )
        assert malformed.status_code == 422, bad
        assert malformed.json()["error"]["field"] == "Idempotency-Key"
    assert client.get("/v1/jobs").json()["total"] == 1


def test_queue_is_bounded(db_url, datasets_dir):
    with running_client(make_settings(db_url, datasets_dir, workers=0, queue_max=2)) as client:
        assert submit(client, TINY).status_code == 202
        assert submit(client, TINY).status_code == 202
        full = submit(client, TINY)
        assert full.status_code == 429 and int(full.headers["Retry-After"]) > 0
        assert full.json()["error"]["code"] == "queue_full"
        sync = client.post("/v1/solve", json=TINY)
        assert sync.status_code == 429


def test_bad_job_payloads_name_the_field(client):
    cases = [
        ({"kind": "solve", "payload": {**TINY, "coalition": "nato"}}, "payload.coalition"),
        ({"kind": "solve", "payload": {**TINY, "dataset": "../../etc"}}, "payload.dataset"),
        ({"kind": "solve", "payload": {**TINY, "options": {"time_limit_s": -1}}}, "payload.options.time_limit_s"),
        ({"kind": "optimise", "payload": TINY}, "kind"),
        ({"kind": "solve"}, "payload"),
        ({"kind": "solve", "payload": TINY, "extra": 1}, "extra"),
        ({"kind": "compare", "payload": {"scenario": TINY, "coalitions": ["usa_only", "nato"]}},
         "payload.coalitions.1"),
        ({"kind": "compare", "payload": {"scenario": TINY, "coalitions": []}}, "payload.coalitions"),
        ({"kind": "compare", "payload": {"scenario": TINY, "coalitions": ["usa_only"], "backend": "dask",
                                          "scheduler": "tcp://10.0.0.1:8786"}}, "payload.scheduler"),
    ]
    for body, field in cases:
        response = client.post("/v1/jobs", json=body)
        assert response.status_code == 422, (body, response.text)
        fields = [item["field"] for item in response.json()["error"]["fields"]]
        assert field in fields, (body, fields)
    assert client.get("/v1/jobs").json()["total"] == 0


def test_expired_lease_is_retried_then_failed(db_url, datasets_dir):
    """A worker that vanished (lease expired) loses its job to a retry; past N attempts it fails."""
    settings = make_settings(db_url, datasets_dir, workers=0, max_attempts=2)
    with running_client(settings) as client:
        retried = submit(client, TINY).json()["id"]
        doomed = submit(client, {**TINY, "name": "doomed"}).json()["id"]
    sessions = make_sessionmaker(make_engine(db_url))
    past = utcnow() - timedelta(seconds=5)
    with transaction(sessions) as session:  # as if a worker had claimed them and died
        for job_id, attempts in ((retried, 1), (doomed, 2)):
            session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(state="running", lease_owner="dead-host:1:x/1", lease_expires_at=past,
                        attempts=attempts, started_at=past)
            )
    with running_client(make_settings(db_url, datasets_dir, max_attempts=2)) as client:
        done = wait_for_state(client, retried, FINAL)
        assert done["state"] == "succeeded" and done["attempts"] == 2
        assert "lost" in client.get(f"/v1/jobs/{retried}/log").json()["text"]
        failed = wait_for_state(client, doomed, FINAL)
        assert failed["state"] == "failed" and failed["error"]["code"] == "lease_expired"
        assert "lease expired" in failed["error"]["message"]
        assert client.get(f"/v1/jobs/{doomed}/result").json()["error"]["code"] == "job_failed"


def test_compare_endpoint_runs_a_compare_job(client):
    body = {"scenario": {**TINY, "end_year": 2030}, "coalitions": ["usa_only", ["USA", "AUS"]]}
    response = client.post("/v1/compare", json=body, headers={"Idempotency-Key": "cmp-1"})
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["kind"] == "compare"
    done = wait_for_state(client, job["id"], FINAL)
    assert done["state"] == "succeeded", done
    result = client.get(f"/v1/jobs/{job['id']}/result").json()["result"]
    assert result["kind"] == "compare" and len(result["cells"]) == 2
    single = optimizer.solve({**TINY, "end_year": 2030}, allow_paths=False)
    cell = next(c for c in result["cells"] if c["coalition"] == "usa_only")
    assert cell["cost_usd"] == pytest.approx(single.summary.total_cost_usd, rel=1e-6)
    replay = client.post("/v1/compare", json=body, headers={"Idempotency-Key": "cmp-1"})
    assert replay.json()["id"] == job["id"]
    bad = client.post("/v1/compare", json={"scenario": TINY, "coalitions": ["usa_only", ["USA", "XXX"]]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "coalitions.1"

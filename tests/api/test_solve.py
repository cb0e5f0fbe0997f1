"""POST /v1/solve through HTTP: real worker, real HiGHS; bad input is a 4xx naming the field."""

from __future__ import annotations

import json

import pytest
from api_helpers import TINY, make_settings, running_client

import optimizer


def fields_of(response) -> list[str]:
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["request_id"] == response.headers["X-Request-ID"]
    return [item["field"] for item in error.get("fields") or []] or [error["field"]]


def test_sync_solve_matches_the_library(lite_client):
    response = lite_client.post("/v1/solve", json=TINY)
    assert response.status_code == 200, response.text
    body = response.json()
    expected = optimizer.solve({**TINY, "options": {"time_limit_s": 60, "threads": 1}}, allow_paths=False)
    assert body["status"] == "optimal"
    assert body["total_cost_usd"] == pytest.approx(expected.summary.total_cost_usd, rel=1e-6)
    assert body["objective"]["exposed_t"] == pytest.approx(expected.summary.objective["exposed_t"], rel=1e-6)
    assert body["scenario_hash"] == expected.summary.scenario_hash
    assert body["model"]["model_version"] == optimizer.MODEL_VERSION
    assert response.headers["X-Effective-Time-Limit"] == "60"
    job = lite_client.get(f"/v1/jobs/{response.headers['X-Job-ID']}").json()
    assert job["state"] == "succeeded" and job["effective_time_limit_s"] == 60


def test_time_limit_is_clamped_and_echoed(lite_client):
    response = lite_client.post("/v1/solve", json={**TINY, "options": {"time_limit_s": 5000}})
    assert response.status_code == 200
    assert response.headers["X-Effective-Time-Limit"] == "60"
    assert response.json()["scenario"]["options"]["time_limit_s"] == 60
    small = lite_client.post("/v1/solve", json={**TINY, "options": {"time_limit_s": 7.5}})
    assert small.headers["X-Effective-Time-Limit"] == "7.5"


def test_infeasible_is_a_200_with_the_explanation(lite_client):
    # Nothing can be built before 2027 (lead time 1 year), yet exposure must be zero in 2026.
    scenario = {**TINY, "targets": [{"from_year": 2026, "max_exposed_share": 0.0}], "end_year": 2030}
    response = lite_client.post("/v1/solve", json=scenario)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "infeasible"
    assert body["violations"] and body["message"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**TINY, "budget_usd": -1}, "budget_usd"),
        ({**TINY, "colour": "red"}, "colour"),
        ({**TINY, "start_year": 2041, "end_year": 2040}, "body"),
        ({**TINY, "coalition": "nato"}, "coalition"),
        ({**TINY, "coalition": ["USA", "XXX"]}, "coalition"),
        ({**TINY, "coalition": ["usa"]}, "coalition"),
        ({**TINY, "adversaries": ["ZZZ"]}, "adversaries"),
        ({**TINY, "options": {"time_limit_s": 0}}, "options.time_limit_s"),
        ({**TINY, "options": {"time_limit_s": -3}}, "options.time_limit_s"),
        ({**TINY, "options": {"time_limit_s": 1e9}}, "options.time_limit_s"),
        ({**TINY, "options": {"solver_options": {"log_file": "/tmp/x"}}}, "options.solver_options.log_file"),
        ({**TINY, "options": {"solver_options": {"write_solution_to_file": True}}},
         "options.solver_options.write_solution_to_file"),
        ({**TINY, "dataset": "../../etc"}, "dataset"),
        ({**TINY, "dataset": "/etc"}, "dataset"),
        ({**TINY, "dataset": "nope"}, "dataset"),
        ({**TINY, "adversaries": ["CHN"] * 51}, "adversaries"),
        ({**TINY, "coalition": ["USA"] * 501}, "coalition"),
        ({**TINY, "targets": [{"from_year": 2030, "max_exposed_share": 2}]}, "targets.0.max_exposed_share"),
        ({**TINY, "targets": [{"from_year": 2050, "max_exposed_share": 0.5}]}, "targets.0.from_year"),
        ([1, 2, 3], "body"),
    ],
)
def test_bad_input_is_422_naming_the_field(lite_client, payload, field):
    response = lite_client.post("/v1/solve", json=payload)
    assert response.status_code == 422, response.text
    assert field in fields_of(response)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"budget_usd": NaN}', "budget_usd"),
        (b'{"budget_usd": Infinity}', "budget_usd"),
        (b'{"budget_usd": -Infinity}', "budget_usd"),
        (b'{"options": {"time_limit_s": 1e999}}', "options.time_limit_s"),
        (b'{"member_budgets_usd": {"USA": NaN}}', "member_budgets_usd.USA"),
        (b'{"objective": {"unmet_penalty": NaN}}', "objective.unmet_penalty"),
    ],
)
def test_nan_and_infinity_tokens_are_refused(lite_client, raw, field):
    response = lite_client.post("/v1/solve", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert fields_of(response) == [field]


def test_deep_nesting_is_refused(lite_client):
    deep = b'{"name": ' + b"[" * 200 + b"]" * 200 + b"}"
    response = lite_client.post("/v1/solve", content=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    very_deep = b"[" * 100_000 + b"]" * 100_000
    response = lite_client.post("/v1/solve", content=very_deep, headers={"Content-Type": "application/json"})
    assert response.status_code in (413, 422)
    assert response.json()["error"]["request_id"]


def test_wrong_content_type_is_415(lite_client):
    response = lite_client.post("/v1/solve", content=json.dumps(TINY), headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    form = lite_client.post("/v1/solve", data={"dataset": "tiny"})
    assert form.status_code == 415


def test_invalid_utf8_and_malformed_json_are_400(lite_client):
    headers = {"Content-Type": "application/json"}
    bad_utf8 = lite_client.post("/v1/solve", content=b'{"name": "\xff\xfe"}', headers=headers)
    assert bad_utf8.status_code == 400 and bad_utf8.json()["error"]["code"] == "invalid_encoding"
    malformed = lite_client.post("/v1/solve", content=b'{"name": ', headers=headers)
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "malformed_json"


def test_body_over_the_limit_is_413_before_parsing(sqlite_url, datasets_dir):
    settings = make_settings(sqlite_url, datasets_dir, max_body_bytes=2048, workers=0)
    with running_client(settings) as client:
        big = b'{"description": "' + b"x" * 4000 + b'"}'
        response = client.post("/v1/solve", content=big, headers={"Content-Type": "application/json"})
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "body_too_large"

        def chunks():  # no Content-Length: chunked transfer encoding
            yield b'{"description": "'
            for _ in range(10):
                yield b"y" * 500
            yield b'"}'

        chunked = client.post("/v1/solve", content=chunks(), headers={"Content-Type": "application/json"})
        assert chunked.status_code == 413
        # Not even invalid JSON is parsed once the body is too large.
        garbage = client.post("/v1/solve", content=b"\xff" * 5000, headers={"Content-Type": "application/json"})
        assert garbage.status_code == 413


def test_request_id_is_echoed_or_made(lite_client):
    echoed = lite_client.get("/v1/datasets", headers={"X-Request-ID": "trace-123"})
    assert echoed.headers["X-Request-ID"] == "trace-123"
    made = lite_client.post("/v1/solve", json={**TINY, "coalition": "nato"}, headers={"X-Request-ID": "bad id!"})
    assert made.headers["X-Request-ID"] != "bad id!"
    assert made.json()["error"]["request_id"] == made.headers["X-Request-ID"]

"""The bad-input catalogue: each class of bad input, through every interface it applies to.

One table drives three interfaces:

* the CLI (`python -m optimizer solve FILE`, a real subprocess): exit code 2, the field named
  on stderr, no traceback;
* the Python call (`optimizer.solve(...)`): `optimizer.ScenarioError` whose str names the field;
* HTTP (the app with keys required, as beyond loopback): the right 4xx, in the one error
  shape, with `field` naming the field; scenario classes are sent both to `POST /v1/solve`
  and, as a job payload, to `POST /v1/jobs` (where the field is under `payload.`).

A class that cannot arise through an interface (a wrong Content-Type has no CLI form; the
CLI accepts dataset paths on purpose, being a local tool) is marked per interface.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from api_helpers import make_settings, running_client
from fastapi.testclient import TestClient

import optimizer
from api.security import create_api_key
from api.storage.db import make_engine, make_sessionmaker, transaction, upgrade_schema

TINY = {"dataset": "tiny", "coalition": "usa_only", "end_year": 2030}
NO_SCENARIO = object()
Request = Callable[[TestClient, dict[str, str]], httpx.Response]


@dataclass(frozen=True)
class Case:
    """One class of bad input and what every interface must answer."""

    name: str
    scenario: Any = NO_SCENARIO  # scenario fields (merged into TINY when a dict) for all interfaces
    field: str = "body"  # the body path HTTP reports ("body" = the request as a whole)
    words: str = ""  # text every interface's message carries
    status: int = 422
    code: str = "invalid_input"
    request: Request | None = None  # HTTP-only classes: how to send it
    cli_file: bytes | None = None  # CLI: the scenario file's bytes (default: the scenario as YAML)
    python_file: bool = False  # Python: solve(path of cli_file) instead of solve(dict)
    interfaces: tuple[str, ...] = ("cli", "python", "http")
    python_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    python_xfail: str | None = None

    def data(self) -> Any:
        if isinstance(self.scenario, dict):
            return {**TINY, **self.scenario}
        return self.scenario

    @property
    def location(self) -> str:
        """Where the library says the problem is."""
        return "scenario" if self.field == "body" else f"scenario.{self.field}"


def post_raw(path: str, content: bytes, content_type: str = "application/json") -> Request:
    return lambda client, key: client.post(path, content=content, headers={**key, "Content-Type": content_type})


def result_not_ready(client: TestClient, key: dict[str, str]) -> httpx.Response:
    job = client.post("/v1/jobs", json={"kind": "solve", "payload": TINY}, headers=key).json()
    return client.get(f"/v1/jobs/{job['id']}/result", headers=key)


CASES = [
    # --- the scenario's schema ---------------------------------------------------------
    Case("unknown-field", {"colour": "red"}, "colour", "unknown field"),
    Case("wrong-type", {"start_year": "soon"}, "start_year", "integer"),
    Case("nan", {"budget_usd": math.nan}, "budget_usd", "finite number"),
    Case("infinity", {"budget_usd": math.inf}, "budget_usd", "finite number"),
    Case("nan-nested", {"member_budgets_usd": {"USA": math.nan}}, "member_budgets_usd.USA", "finite number"),
    Case("negative-budget", {"budget_usd": -1}, "budget_usd", "greater than or equal to 0"),
    Case("negative-share", {"export_controls": [{"from_year": 2027, "max_share": -0.5}]},
         "export_controls.0.max_share", "greater than or equal to 0"),
    Case("share-over-one", {"targets": [{"from_year": 2028, "max_exposed_share": 2}]},
         "targets.0.max_exposed_share", "less than or equal to 1"),
    Case("year-out-of-range", {"start_year": 1999}, "start_year", "greater than or equal to 2000"),
    Case("years-out-of-order", {"start_year": 2030, "end_year": 2026}, "body", "start_year 2030 is after end_year"),
    Case("huge-list", {"coalition": ["USA"] * 501}, "coalition", "at most 500"),
    Case("huge-list-adversaries", {"adversaries": ["CHN"] * 51}, "adversaries", "at most 50"),
    Case("long-string", {"name": "x" * 101}, "name", "at most 100 characters"),
    Case("deep-nesting", {"name": json.loads("[" * 40 + "]" * 40)}, "name", ""),
    Case("not-a-mapping", [1, 2, 3], "body", ""),
    Case("empty-coalition", {"coalition": []}, "coalition", "empty"),
    Case("lowercase-country-code", {"coalition": ["usa"]}, "coalition", "ISO 3166"),
    Case("time-limit-zero", {"options": {"time_limit_s": 0}}, "options.time_limit_s", "greater than 0"),
    Case("time-limit-too-large", {"options": {"time_limit_s": 1e9}}, "options.time_limit_s", "less than or equal"),
    Case("solver-option-not-allowed", {"options": {"solver_options": {"log_file": "/tmp/highs.log"}}},
         "options.solver_options.log_file", "not an allowed HiGHS option"),
    Case("solver-option-threads", {"options": {"solver_options": {"threads": 8}}},
         "options.solver_options.threads", "set options.threads instead"),
    Case("solver-option-bad-value", {"options": {"solver_options": {"presolve": "maybe"}}},
         "options.solver_options.presolve", "'off', 'choose' or 'on'"),
    # --- against the dataset ----------------------------------------------------------
    Case("unknown-preset", {"coalition": "nato"}, "coalition", "unknown coalition preset"),
    Case("unknown-country", {"coalition": ["USA", "XXX"]}, "coalition", "XXX"),
    Case("adversary-in-coalition", {"adversaries": ["USA"]}, "adversaries", "both an adversary and a coalition member"),
    Case("unknown-dataset", {"dataset": "nope"}, "dataset", "unknown dataset 'nope'"),
    Case("dataset-path-traversal", {"dataset": "../../etc"}, "dataset", "paths are not accepted",
         interfaces=("python", "http"), python_kwargs={"allow_paths": False}),
    Case("target-outside-horizon", {"targets": [{"from_year": 2050, "max_exposed_share": 0.5}]},
         "targets.0.from_year", ""),
    Case("unknown-stage-in-control", {"export_controls": [{"from_year": 2027, "stages": ["smelting"]}]},
         "export_controls.0.stages", "smelting"),
    Case("member-budget-for-non-member", {"member_budgets_usd": {"AUS": 1e6}}, "member_budgets_usd.AUS",
         "not a coalition member"),
    Case("unknown-override-table", {"overrides": [{"table": "nope", "set": {"x": 1}}]}, "overrides.0.table",
         "unknown table"),
    Case("unknown-override-column", {"overrides": [{"table": "capex", "set": {"price": 1}}]},
         "overrides.0.set.price", "no column"),
    # --- files (CLI, and the Python call given a path) ---------------------------------
    Case("malformed-yaml", NO_SCENARIO, "body", "not valid", status=400, code="malformed_json",
         cli_file=b"coalition: [USA\n  budget: {", python_file=True,
         request=post_raw("/v1/solve", b'{"coalition": ["USA"')),
    Case("invalid-utf8", NO_SCENARIO, "body", "", status=400, code="invalid_encoding",
         cli_file=b'name: "\xff\xfe"\n', python_file=True,
         request=post_raw("/v1/solve", b'{"name": "\xff\xfe"}')),
    # --- HTTP only ---------------------------------------------------------------------
    Case("wrong-content-type", status=415, code="unsupported_media_type", field="Content-Type",
         request=post_raw("/v1/solve", json.dumps(TINY).encode(), "text/plain"), interfaces=("http",)),
    Case("oversized-body", status=413, code="body_too_large",
         request=post_raw("/v1/solve", b'{"description": "' + b"x" * 1_100_000 + b'"}'), interfaces=("http",)),
    Case("bad-idempotency-key", status=422, field="Idempotency-Key", interfaces=("http",),
         request=lambda c, k: c.post("/v1/jobs", json={"kind": "solve", "payload": TINY},
                                     headers={**k, "Idempotency-Key": "no spaces allowed"})),
    Case("unknown-job-kind", status=422, field="kind", interfaces=("http",),
         request=lambda c, k: c.post("/v1/jobs", json={"kind": "optimise", "payload": TINY}, headers=k)),
    Case("unknown-job-id", status=404, code="job_not_found", field="job_id", interfaces=("http",),
         request=lambda c, k: c.get("/v1/jobs/00000000-0000-0000-0000-000000000000", headers=k)),
    Case("result-not-ready", status=409, code="result_not_ready", field="job_id", interfaces=("http",),
         request=result_not_ready),
    Case("query-out-of-range", status=422, field="limit", interfaces=("http",),
         request=lambda c, k: c.get("/v1/jobs", params={"limit": 1000}, headers=k)),
    Case("negative-log-offset", status=422, field="offset", interfaces=("http",),
         request=lambda c, k: c.get("/v1/jobs/x/log", params={"offset": -1}, headers=k)),
    Case("dataset-path-in-url", status=422, field="name", interfaces=("http",),
         request=lambda c, k: c.get("/v1/datasets/..%2F..%2Fetc%2Fpasswd", headers=k)),
    Case("dataset-path-in-query", status=422, field="dataset", interfaces=("http",),
         request=lambda c, k: c.get("/v1/coalitions", params={"dataset": "../../etc"}, headers=k)),
    Case("missing-api-key", status=401, code="unauthorized", field="X-API-Key", interfaces=("http",),
         request=lambda c, k: c.get("/v1/jobs")),
    Case("unknown-api-key", status=401, code="unauthorized", field="X-API-Key", interfaces=("http",),
         request=lambda c, k: c.get("/v1/jobs", headers={"X-API-Key": "ck_00000000_" + "a" * 43})),
    Case("wrong-scope", status=403, code="forbidden", field="X-API-Key", interfaces=("http",),
         request=lambda c, k: c.post("/v1/jobs", json={"kind": "solve", "payload": TINY},
                                     headers={"X-API-Key": READ_ONLY["key"]})),
]
READ_ONLY: dict[str, str] = {}


def params(interface: str) -> list[Any]:
    chosen = []
    for case in CASES:
        if interface not in case.interfaces:
            continue
        if interface in ("cli", "python") and case.scenario is NO_SCENARIO and case.cli_file is None:
            continue
        marks = []
        if interface == "python" and case.python_xfail:
            marks.append(pytest.mark.xfail(reason=case.python_xfail, strict=True))
        chosen.append(pytest.param(case, id=case.name, marks=marks))
    return chosen


def cli_bytes(case: Case) -> bytes:
    if case.cli_file is not None:
        return case.cli_file
    return yaml.safe_dump(case.data(), sort_keys=False).encode()


def assert_no_traceback(text: str) -> None:
    assert "Traceback" not in text and 'File "' not in text, text


# --- CLI ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory: pytest.TempPathFactory, datasets_root: Path) -> dict[str, subprocess.CompletedProcess]:
    """Every CLI case run once as a subprocess (three at a time: each is a fresh interpreter)."""
    work = tmp_path_factory.mktemp("cli")
    env = {**os.environ, "COALITION_DATASETS_DIR": str(datasets_root)}
    cases = [param.values[0] for param in params("cli")]
    control = Case("control", {})

    def run(case: Case) -> tuple[str, subprocess.CompletedProcess]:
        path = work / f"{case.name}.yaml"
        path.write_bytes(cli_bytes(case))
        done = subprocess.run(
            [sys.executable, "-m", "optimizer", "solve", str(path)],
            capture_output=True, text=True, env=env, cwd=work, timeout=120, check=False,
        )
        return case.name, done

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(run, [control, *cases]))


def test_cli_control_scenario_solves(cli_runs):
    assert cli_runs["control"].returncode == 0, cli_runs["control"].stderr


@pytest.mark.parametrize("case", params("cli"))
def test_cli(case: Case, cli_runs: dict[str, subprocess.CompletedProcess]) -> None:
    done = cli_runs[case.name]
    assert done.returncode == 2, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    assert case.location in done.stderr, done.stderr
    assert case.words in done.stderr, done.stderr
    assert_no_traceback(done.stdout + done.stderr)


# --- Python ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", params("python"))
def test_python(case: Case, datasets_dir: Path, tmp_path: Path) -> None:
    argument: Any = case.data()
    if case.python_file:
        argument = tmp_path / "scenario.yaml"
        argument.write_bytes(cli_bytes(case))
    with pytest.raises(optimizer.ScenarioError) as caught:
        optimizer.solve(argument, **case.python_kwargs)
    text = str(caught.value)
    assert case.location in text and case.words in text, text


def test_python_control_scenario_solves(datasets_dir: Path) -> None:
    assert optimizer.solve(TINY).status == "optimal"


# --- HTTP -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory, datasets_root: Path) -> Iterator[tuple[TestClient, dict]]:
    """The app with keys required and no worker (nothing bad may reach the queue)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('catalogue') / 'coalition.db'}"
    engine = make_engine(url)
    upgrade_schema(engine)
    with transaction(make_sessionmaker(engine)) as session:
        _, key = create_api_key(session, "planner", ["read", "submit"])
        _, READ_ONLY["key"] = create_api_key(session, "dashboard", ["read"])
    engine.dispose()
    saved = os.environ.get("COALITION_DATASETS_DIR")
    settings = make_settings(url, datasets_root, workers=0, require_api_key="true", sync_wait_grace_s=1)
    try:
        with running_client(settings) as client:
            yield client, {"X-API-Key": key}
    finally:
        if saved is None:
            os.environ.pop("COALITION_DATASETS_DIR", None)
        else:
            os.environ["COALITION_DATASETS_DIR"] = saved


def reported_fields(response: httpx.Response) -> list[str]:
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert error["message"]
    assert_no_traceback(response.text)
    return [item["field"] for item in error.get("fields") or []] + [error["field"]]


def names(fields: list[str], expected: str) -> bool:
    return any(found == expected or (found or "").startswith(expected + ".") for found in fields)


@pytest.mark.parametrize("case", params("http"))
def test_http(case: Case, http: tuple[TestClient, dict]) -> None:
    client, key = http
    if case.request is not None:
        responses = [(client and case.request(client, key), case.field)]
    else:
        raw = json.dumps(case.data(), allow_nan=True).encode()  # NaN/Infinity as the bare tokens
        job = json.dumps({"kind": "solve", "payload": case.data()}, allow_nan=True).encode()
        in_payload = "payload" if case.field == "body" else f"payload.{case.field}"
        responses = [
            (post_raw("/v1/solve", raw)(client, key), case.field),
            (post_raw("/v1/jobs", job)(client, key), in_payload),
        ]
    for response, expected in responses:
        assert response.status_code == case.status, response.text
        assert response.json()["error"]["code"] == case.code, response.text
        fields = reported_fields(response)
        assert names(fields, expected), (expected, fields)
        assert case.words in response.text, response.text
    if case.scenario is not NO_SCENARIO and case.status == 422:
        assert client.get("/v1/jobs", params={"state": "queued"}, headers=key).json()["total"] == 0, (
            "a refused submission reached the queue"
        )

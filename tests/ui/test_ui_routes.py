"""The page's routes without a browser: the page and its assets, scenarios, figures, keys."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.config import Settings
from api.main import create_app
from api.routes.ui import plotly_js_path
from api.security import create_api_key
from optimizer.data.registry import datasets_root
from optimizer.schemas import Scenario
from optimizer.viz import palette as pal
from optimizer.viz.compare import compare_figures

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from fastapi.testclient import TestClient  # noqa: E402 - after the warning filter


@pytest.fixture
def shipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """The repository's datasets, whatever another test module set."""
    monkeypatch.delenv("COALITION_DATASETS_DIR", raising=False)


def _client(tmp_path: Path, **settings: Any) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'ui.db'}", workers=0, **settings))
    with TestClient(app) as client:
        yield client


@pytest.fixture
def client(tmp_path: Path, shipped: None) -> Iterator[TestClient]:
    """The app on loopback (no keys), with no workers: jobs stay queued."""
    yield from _client(tmp_path)


@pytest.fixture
def keyed(tmp_path: Path, shipped: None) -> Iterator[TestClient]:
    """The app with API keys required."""
    yield from _client(tmp_path, require_api_key="true")


def test_page_and_assets_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp and "script-src 'self'" in csp
    for asset in ("/static/plotly.min.js", "/static/app.js", "/static/app.css"):
        assert f'"{asset}"' in page.text
        assert client.get(asset).status_code == 200, asset
    assert "http://" not in page.text and "https://" not in page.text  # nothing from elsewhere
    assert client.head("/").status_code == 200
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/app.css").headers["content-type"].startswith("text/css")
    for bad in ("/static/nope.js", "/static/..%2Fmain.py", "/static/.hidden", "/static/%2e%2e"):
        missing = client.get(bad)
        assert missing.status_code == 404, bad
        assert missing.json()["error"]["code"] == "not_found"


def test_plotly_js_comes_from_the_installed_package(client: TestClient) -> None:
    expected = plotly_js_path().read_bytes()
    plain = client.get("/static/plotly.min.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and plain.content == expected
    assert "content-encoding" not in plain.headers
    zipped = client.get("/static/plotly.min.js", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.content == expected  # httpx inflates it
    assert int(zipped.headers["content-length"]) < len(expected) / 2
    etag = plain.headers["etag"]
    assert client.get("/static/plotly.min.js", headers={"If-None-Match": etag}).status_code == 304
    assert "max-age" in plain.headers["cache-control"]


def test_scenarios_are_the_shipped_ones_in_full(client: TestClient) -> None:
    assert client.get("/ui/config").json() == {"api_key_required": False}
    found = client.get("/ui/scenarios", params={"dataset": "rare_earths"}).json()
    names = [s["name"] for s in found]
    files = sorted(p.stem for p in (datasets_root() / "rare_earths" / "scenarios").glob("*.yaml"))
    assert sorted(names) == files and names[0] == "default"
    for item in found:
        scenario = Scenario.model_validate(item["scenario"])
        assert scenario == Scenario.from_file(datasets_root() / "rare_earths" / "scenarios" / f"{item['name']}.yaml")
        assert item["description"] == scenario.description
    assert client.get("/ui/scenarios").json() == found  # rare_earths by default
    bad = client.get("/ui/scenarios", params={"dataset": "../etc"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "dataset"
    unknown = client.get("/ui/scenarios", params={"dataset": "atlantis"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "dataset_not_found"


def test_figures_need_a_finished_comparison(client: TestClient) -> None:
    missing = client.get("/ui/jobs/00000000-0000-4000-8000-000000000000/figures")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "job_not_found"
    queued = client.post("/v1/compare", json={"coalitions": ["quad"], "scenario": {"end_year": 2027}}).json()
    waiting = client.get(f"/ui/jobs/{queued['id']}/figures")
    assert waiting.status_code == 409
    assert waiting.json()["error"]["code"] == "result_not_ready" and waiting.json()["error"]["state"] == "queued"
    client.post(f"/v1/jobs/{queued['id']}/cancel")
    cancelled = client.get(f"/ui/jobs/{queued['id']}/figures")
    assert cancelled.status_code == 409 and cancelled.json()["error"]["code"] == "job_cancelled"
    solve = client.post("/v1/jobs", json={"kind": "solve", "payload": {"end_year": 2027}}).json()
    other = client.get(f"/ui/jobs/{solve['id']}/figures")
    assert other.status_code == 409 and other.json()["error"]["code"] == "not_a_comparison"


def test_keys_guard_the_data_not_the_page(keyed: TestClient) -> None:
    assert keyed.get("/").status_code == 200
    assert keyed.get("/static/app.js").status_code == 200
    assert keyed.get("/static/plotly.min.js").status_code == 200
    assert keyed.get("/ui/config").json() == {"api_key_required": True}
    for path in ("/ui/scenarios", "/ui/jobs/00000000-0000-4000-8000-000000000000/figures"):
        refused = keyed.get(path)
        assert refused.status_code == 401 and refused.json()["error"]["field"] == "X-API-Key", path
    with keyed.app.state.sessions() as session, session.begin():  # type: ignore[attr-defined]
        _, key = create_api_key(session, "ui", ["read"])
    assert keyed.get("/ui/scenarios", headers={"X-API-Key": key}).status_code == 200


# --- compare_figures on results made by hand --------------------------------------------------


def cell(coalition: str, scenario: str = "s", status: str = "ok", exposure: float | None = 1.0, **extra: Any) -> dict:
    solved = exposure is not None
    return {
        "coalition": coalition,
        "members": ["USA"],
        "scenario": scenario,
        "status": status,
        "message": extra.pop("message", ""),
        "rank": None,
        "exposure_share_years": exposure,
        "mean_exposed_share": 0.5 if solved else None,
        "final_exposed_share": 0.1 if solved else None,
        "exposed_t": 100.0 if solved else None,
        "unmet_t": 0.0 if solved else None,
        "cost_usd": 2e9 if solved else None,
        "capex_usd": 1e9 if solved else None,
        "exposed_share_by_year": [
            {"year": y, "material": "NdPr", "exposed_share": 0.5, "unmet_share": 0.0} for y in (2026, 2027)
        ]
        if solved
        else [],
        "capacity_by_stage": extra.pop("capacity", {"magnet": 10.0} if solved else {}),
        "builds_by_host": [],
        "paid_by": {},
        **extra,
    }


def compare_result(cells: list[dict], scenarios: list[str]) -> dict:
    return {
        "kind": "compare",
        "coalitions": list(dict.fromkeys(c["coalition"] for c in cells)),
        "scenarios": scenarios,
        "cells": cells,
        "ranking": {s: [c["coalition"] for c in cells if c["scenario"] == s] for s in scenarios},
        "meta": {"backend": "local", "workers": 1, "solves": len(cells), "failed": 0, "seconds": 1.0},
    }


def test_figures_of_a_comparison() -> None:
    result = compare_result(
        [cell("a", cost_usd=3e9), cell("b", capacity={"mine": 5.0, "new_stage": 2.0}),
         cell("c", status="error", exposure=None, message="solver error")],
        ["s"],
    )  # fmt: skip
    charts = {c["key"]: c for c in compare_figures(result)}
    assert list(charts) == ["exposure_by_year", "cost_capex", "exposed_unmet", "capacity_by_stage"]
    for chart in charts.values():
        assert chart["title"] and chart["caption"] and chart["filename"] == f"{chart['key']}.csv"
        assert chart["csv"].count("\n") == chart["rows"] + 1
        json.dumps(chart["figure"])  # plain JSON
    # the failed cell has no numbers: in no chart, nor in any CSV
    assert all("\nc," not in c["csv"] for c in charts.values())
    assert charts["cost_capex"]["csv"].splitlines() == [
        "label,coalition,scenario,cost_usd,capex_usd", "a,a,s,3000000000.0,1000000000.0",
        "b,b,s,2000000000.0,1000000000.0",
    ]  # fmt: skip
    capacity = charts["capacity_by_stage"]["csv"].splitlines()
    assert capacity[0] == "label,coalition,scenario,stage,capacity_t_per_yr"
    assert "b,b,s,new_stage,2.0" in capacity and "a,a,s,mine,0.0" in capacity  # every stage, known ones first
    # a coalition has one colour in every chart: the exposure chart's
    lines = {t["meta"]["label"]: t["line"]["color"] for t in charts["exposure_by_year"]["figure"]["data"]
             if (t.get("meta") or {}).get("kind") == "exposed"}  # fmt: skip
    assert lines == {"a": pal.categorical(0), "b": pal.categorical(1)}
    bars = charts["cost_capex"]["figure"]["data"][0]
    assert bars["marker"]["color"] == [lines["a"], lines["b"]]
    grouped = {t["name"]: t["marker"]["color"] for t in charts["capacity_by_stage"]["figure"]["data"]}
    assert grouped == lines
    # units on the axes
    layout = charts["cost_capex"]["figure"]["layout"]
    assert layout["yaxis"]["title"]["text"] == "USD bn"
    assert "t/yr" in charts["capacity_by_stage"]["figure"]["layout"]["yaxis"]["title"]["text"]


def test_figures_label_scenarios_when_there_are_several() -> None:
    result = compare_result([cell("a", "x"), cell("a", "y"), cell("b", "x")], ["x", "y"])
    charts = {c["key"]: c for c in compare_figures(result)}
    bars = charts["cost_capex"]["figure"]["data"][0]
    assert list(bars["x"]) == ["a / x", "a / y", "b / x"]
    assert "a / y,a,y," in charts["cost_capex"]["csv"]


def test_figures_say_why_they_are_empty() -> None:
    nothing_built = compare_result([cell("a", capacity={}), cell("b", capacity={"magnet": 0.0})], ["s"])
    capacity = compare_figures(nothing_built)[3]
    texts = [a["text"] for a in capacity["figure"]["layout"].get("annotations", [])]
    assert any("No coalition builds new capacity" in t for t in texts)
    all_failed = compare_result([cell("a", status="error", exposure=None)], ["s"])
    for chart in compare_figures(all_failed):
        assert chart["figure"]["layout"].get("annotations"), chart["key"]  # a message, not a blank plot


def test_missing_browser_skips_locally_and_fails_under_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from .conftest import chromium_path, missing

    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        missing("no chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        missing("no chromium")
    fake = tmp_path / "my-chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("COALITION_CHROMIUM", str(fake))
    assert chromium_path() == str(fake)

"""End to end: the comparison page in headless Chromium against a real `coalition serve`.

Pick two coalitions and a shipped scenario (with a short horizon so the sweep takes seconds),
run, watch the progress, and check the charts and the table against the job's result from
the API; no request may leave loopback. The screenshot in docs/img/compare-page.png is
refreshed with COALITION_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from optimizer.viz.compare import compare_figures

from .conftest import LOOPBACK, REPO, Browser, Served

COALITIONS = ["five_eyes", "quad"]
SCENARIO = "default"
END_YEAR = 2030
BUDGET_BN = 12.5
SCREENSHOT = REPO / "docs" / "img" / "compare-page.png"
MAX_SCREENSHOT_BYTES = 500_000
CHART_KEYS = ["exposure_by_year", "cost_capex", "exposed_unmet", "capacity_by_stage"]
RUN_TIMEOUT_MS = 120_000


def fmt(key: str, value: float | None) -> str:
    """The page's formatting of a table number (app.js: fixed, percent, tonnes, usdBn)."""
    if value is None:
        return "–"
    if key == "exposure_share_years":
        return f"{value:.3f}"
    if key in ("mean_exposed_share", "final_exposed_share"):
        return f"{value * 100:.1f} %"
    if key in ("exposed_t", "unmet_t"):
        return f"{round(value):,}"
    return f"{value / 1e9:.2f}"  # cost_usd, capex_usd


NUMBERS = ["exposure_share_years", "mean_exposed_share", "final_exposed_share", "exposed_t", "unmet_t",
           "cost_usd", "capex_usd"]  # fmt: skip


def plotted(page: Any) -> list[dict[str, Any]]:
    """Each plotly chart on the page: its id and its traces' x, y and meta, as drawn by plotly.js.

    `_fullData` holds the arrays plotly.js decoded (the figure JSON carries numpy arrays as base64).
    """
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(div => ({
            id: div.id,
            svg: div.querySelectorAll('.main-svg').length,
            traces: (div._fullData || []).map(t => ({
                name: t.name || null,
                type: t.type || 'scatter',
                meta: t.meta || null,
                x: Array.from(t.x || []),
                y: Array.from(t.y || []),
            })),
        }))"""
    )


def choose(page: Any, coalitions: list[str], scenario: str, end_year: int | None, budget_bn: float | None) -> None:
    """Fill the form as a person would."""
    for box in page.locator("#coalitions input[name=coalition]").all():
        box.uncheck()
    for name in coalitions:
        page.check(f"#coalition-{name}")
    page.select_option("#scenario", scenario)
    if end_year is not None:
        page.fill("#end-year", str(end_year))
    if budget_bn is not None:
        page.fill("#budget", str(budget_bn))


def test_compare_page_end_to_end(server: Served, browser: Browser, tmp_path: Path) -> None:
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("body[data-state=ready]", timeout=30_000)

    with server.client() as api:
        datasets = api.get("/v1/datasets").json()
        presets = {p["name"] for p in api.get("/v1/coalitions", params={"dataset": "rare_earths"}).json()}
    # the form offers the dataset's presets and its shipped scenarios
    offered = set(page.locator("#coalitions input[name=coalition]").evaluate_all("els => els.map(e => e.value)"))
    assert offered == presets
    scenarios = page.locator("#scenario option").evaluate_all("els => els.map(e => e.value)")
    assert sorted(scenarios) == sorted(next(d for d in datasets if d["name"] == "rare_earths")["scenarios"])
    assert scenarios[0] == "default"
    assert page.input_value("#budget") == "20"  # the default scenario's USD 20 bn

    choose(page, COALITIONS, SCENARIO, END_YEAR, BUDGET_BN)
    page.click("#run")
    page.wait_for_selector("#status:not([hidden])", timeout=10_000)
    page.wait_for_selector("body[data-state=done]", timeout=RUN_TIMEOUT_MS)
    text = page.locator("#progress-text")
    assert text.get_attribute("data-job-state") == "succeeded"
    assert text.get_attribute("data-done") == text.get_attribute("data-total") == str(len(COALITIONS))
    assert page.eval_on_selector("#progress", "p => [p.value, p.max]") == [len(COALITIONS), len(COALITIONS)]
    job_id = page.get_attribute("#results", "data-job-id")
    assert job_id and page.url.endswith(f"#job={job_id}")

    # --- the job, as the API reports it ---------------------------------------------------
    with server.client() as api:
        job = api.get(f"/v1/jobs/{job_id}").json()
        envelope = api.get(f"/v1/jobs/{job_id}/result").json()
    assert job["kind"] == "compare" and job["state"] == "succeeded"
    assert job["progress"] == {"done": len(COALITIONS), "total": len(COALITIONS)}
    sent = envelope["input"]
    assert sent["coalitions"] == COALITIONS
    assert sent["scenario"]["name"] == SCENARIO and sent["scenario"]["end_year"] == END_YEAR
    assert sent["scenario"]["budget_usd"] == pytest.approx(BUDGET_BN * 1e9)
    result = envelope["result"]
    assert result["ranking"][SCENARIO] and sorted(result["ranking"][SCENARIO]) == sorted(COALITIONS)
    cells = {c["coalition"]: c for c in result["cells"]}
    assert all(c["status"] == "ok" for c in cells.values())

    # --- the ranking and the table ---------------------------------------------------------
    ranked = page.locator("ol.ranking li strong").all_inner_texts()
    assert ranked == result["ranking"][SCENARIO]
    rows = page.locator("#compare-table tbody tr")
    assert rows.count() == len(COALITIONS)
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.coalition)") == result["ranking"][SCENARIO]
    for i, name in enumerate(result["ranking"][SCENARIO]):
        row, cell = rows.nth(i), cells[name]
        assert row.locator("[data-key=rank]").inner_text() == str(cell["rank"]) == str(i + 1)
        assert row.locator("[data-key=coalition] .name").inner_text() == name
        assert row.locator("[data-key=coalition] .members").inner_text() == ", ".join(cell["members"])
        assert row.locator("[data-key=status]").inner_text() == "ok"
        for key in NUMBERS:
            td = row.locator(f"[data-key={key}]")
            assert float(td.get_attribute("data-value")) == cell[key], (name, key)
            assert td.inner_text() == fmt(key, cell[key]), (name, key)
    headers = page.locator("#compare-table thead th").all_inner_texts()
    for unit in ("(share-years)", "(%)", "(t)", "(USD bn)"):
        assert any(unit in h for h in headers), (unit, headers)

    # --- the charts: drawn by plotly.js, with the result's numbers ------------------------
    charts = {c["id"]: c for c in plotted(page)}
    assert set(charts) == {f"chart-{key}" for key in CHART_KEYS}
    for chart in charts.values():
        assert chart["traces"], chart["id"]
        assert chart["svg"] >= 1, chart["id"]  # rendered, not just a div
    exposed = [t for t in charts["chart-exposure_by_year"]["traces"] if (t["meta"] or {}).get("kind") == "exposed"]
    assert {t["meta"]["label"] for t in exposed} == set(COALITIONS)
    for trace in exposed:
        rows_by_year = sorted(
            (r for r in cells[trace["meta"]["label"]]["exposed_share_by_year"]
             if r["material"] == trace["meta"]["material"]),
            key=lambda r: r["year"],
        )  # fmt: skip
        assert trace["x"] == [r["year"] for r in rows_by_year]
        assert trace["y"] == pytest.approx([r["exposed_share"] for r in rows_by_year])
        assert trace["x"][-1] == END_YEAR
    cost, capex = charts["chart-cost_capex"]["traces"]
    assert cost["y"] == pytest.approx([cells[x]["cost_usd"] / 1e9 for x in cost["x"]])
    assert capex["y"] == pytest.approx([cells[x]["capex_usd"] / 1e9 for x in capex["x"]])
    assert all(cells[x]["capex_usd"] <= BUDGET_BN * 1e9 * (1 + 1e-6) for x in capex["x"])
    exposed_t, unmet_t = charts["chart-exposed_unmet"]["traces"]
    assert exposed_t["y"] == pytest.approx([cells[x]["exposed_t"] for x in exposed_t["x"]])
    assert unmet_t["y"] == pytest.approx([cells[x]["unmet_t"] for x in unmet_t["x"]])
    for trace in charts["chart-capacity_by_stage"]["traces"]:
        built = cells[trace["name"]]["capacity_by_stage"]
        assert sum(trace["y"]) == pytest.approx(sum(built.values()))
    # the same figures the server builds from the stored result with optimizer.viz
    assert [c["key"] for c in compare_figures(result)] == CHART_KEYS

    # --- each chart's data as CSV ---------------------------------------------------------
    with page.expect_download() as download:
        page.click("button[data-csv=exposure_by_year]")
    saved = tmp_path / "exposure.csv"
    download.value.save_as(saved)
    table = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert len(table) == sum(len(c["exposed_share_by_year"]) for c in cells.values())
    first = table[0]
    match = next(
        r for r in cells[first["coalition"]]["exposed_share_by_year"]
        if r["year"] == int(first["year"]) and r["material"] == first["material"]
    )  # fmt: skip
    assert float(first["exposed_share"]) == pytest.approx(match["exposed_share"])
    assert page.locator("button[data-csv]").count() == 4
    with page.expect_download() as download:
        page.click("#table-csv")
    saved = tmp_path / "table.csv"
    download.value.save_as(saved)
    table = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert [r["coalition"] for r in table] == result["ranking"][SCENARIO]
    assert float(table[0]["cost_usd"]) == pytest.approx(cells[table[0]["coalition"]]["cost_usd"])

    # --- a reload (or a shared link) shows the same comparison ----------------------------
    page.reload()
    page.wait_for_selector("body[data-state=done]", timeout=30_000)
    assert page.get_attribute("#results", "data-job-id") == job_id
    assert page.locator("ol.ranking li strong").all_inner_texts() == result["ranking"][SCENARIO]
    assert page.locator(".js-plotly-plot").count() == len(CHART_KEYS)
    checked = page.locator("#coalitions input:checked").evaluate_all("els => els.map(e => e.value)")
    assert checked == COALITIONS  # the form shows what was run
    assert page.input_value("#end-year") == str(END_YEAR) and float(page.input_value("#budget")) == BUDGET_BN

    # --- offline, and clean ---------------------------------------------------------------
    hosts = browser.hosts()
    assert hosts and hosts <= LOOPBACK, hosts
    paths = {r.url.split(str(server.port), 1)[-1] for r in browser.requests}
    assert "/static/plotly.min.js" in paths
    assert not browser.page_errors, browser.page_errors
    assert not browser.console_errors, browser.console_errors

    # --- the screenshot -------------------------------------------------------------------
    shot = tmp_path / "compare-page.png"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert 20_000 < len(data) < MAX_SCREENSHOT_BYTES, len(data)
    if os.environ.get("COALITION_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)


def test_refused_request_is_shown_with_its_field(server: Served, browser: Browser) -> None:
    """A 4xx from the API shows its message and names the field, next to the input concerned."""
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("body[data-state=ready]", timeout=30_000)
    choose(page, COALITIONS, SCENARIO, None, None)
    page.fill("#budget", "-3")
    page.click("#run")
    page.wait_for_selector("#errors:not([hidden])", timeout=10_000)
    assert page.get_attribute("body", "data-state") == "error"

    with server.client() as api:
        base = next(s for s in api.get("/ui/scenarios").json() if s["name"] == SCENARIO)
        refused = api.post("/v1/compare", json={"coalitions": COALITIONS,
                                                "scenario": {**base["scenario"], "budget_usd": -3e9}})  # fmt: skip
    assert refused.status_code == 422
    error = refused.json()["error"]
    shown = page.inner_text("#errors")
    assert "HTTP 422" in shown and error["code"] in shown
    assert error["message"] in shown
    assert error["field"] == "scenario.budget_usd" and "scenario.budget_usd" in shown
    assert page.get_attribute("#budget", "aria-invalid") == "true"
    assert page.is_enabled("#run")

    # nothing chosen: the page says so before asking the server
    for box in page.locator("#coalitions input[name=coalition]").all():
        box.uncheck()
    posts = len([r for r in browser.requests if r.method == "POST"])
    page.click("#run")
    assert "pick at least one coalition" in page.inner_text("#errors")
    assert len([r for r in browser.requests if r.method == "POST"]) == posts
    assert not browser.page_errors, browser.page_errors


def test_infeasible_items_are_explained(server: Served, browser: Browser) -> None:
    """Items without an optimal plan are listed with the solver's explanation, and marked in the table.

    The shipped data have no infeasible comparison at hand, so the API's answers are replayed:
    a job that succeeded with one infeasible and one failed item (the figures are built by the
    server's own `compare_figures`).
    """
    with server.client() as api:
        job = api.post("/v1/compare", json={"coalitions": ["five_eyes"], "scenario": {"end_year": 2027}}).json()
        for _ in range(600):
            job = api.get(f"/v1/jobs/{job['id']}").json()
            if job["state"] in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.1)
        real = api.get(f"/v1/jobs/{job['id']}/result").json()
    result = real["result"]
    ok = result["cells"][0]
    empty = {key: None for key in NUMBERS} | {"rank": None, "exposed_share_by_year": [], "capacity_by_stage": {},
                                               "builds_by_host": [], "paid_by": {}}  # fmt: skip
    infeasible = empty | {
        "coalition": "island",
        "members": ["NZL"],
        "scenario": ok["scenario"],
        "status": "infeasible",
        "message": "timeline target 2028 NdPr: at most 10% exposed is out of reach (needs 45%)",
    }
    broken = {**infeasible, "coalition": "broken", "status": "error", "message": "solver error: out of memory"}
    result = {**result, "coalitions": [*result["coalitions"], "island", "broken"],
              "cells": [ok, infeasible, broken],
              "ranking": {ok["scenario"]: [ok["coalition"], "island", "broken"]}}  # fmt: skip
    fake = {**job, "id": "0" * 8 + "-0000-4000-8000-" + "0" * 12}
    replies = {
        "/v1/compare": (202, fake),
        f"/v1/jobs/{fake['id']}": (200, fake),
        f"/v1/jobs/{fake['id']}/result": (200, {**real, "job_id": fake["id"], "result": result}),
        f"/ui/jobs/{fake['id']}/figures": (200, {"job_id": fake["id"], "charts": compare_figures(result)}),
    }

    page = browser.new_page()

    def reply(route: Any) -> None:
        path = route.request.url.split(str(server.port), 1)[-1].split("?")[0]
        if path in replies:
            status, body = replies[path]
            route.fulfill(status=status, content_type="application/json", body=json.dumps(body))
        else:
            route.continue_()

    page.route("**/*", reply)
    page.goto(server.url + "/")
    page.wait_for_selector("body[data-state=ready]", timeout=30_000)
    choose(page, ["five_eyes"], SCENARIO, 2027, None)
    page.click("#run")
    page.wait_for_selector("body[data-state=done]", timeout=30_000)
    issues = page.inner_text("#issues")
    assert "2 items have no optimal plan" in issues
    assert infeasible["message"] in issues and broken["message"] in issues
    assert "island" in issues and "infeasible" in issues
    bad = page.locator("#compare-table tbody tr[data-status=infeasible] td.status-bad")
    assert bad.inner_text() == "infeasible"
    assert page.locator("#compare-table tbody tr").count() == 3
    island = page.locator("#compare-table tbody tr[data-coalition=island]")
    assert island.locator("[data-key=exposure_share_years]").inner_text() == "–"
    assert page.locator(".js-plotly-plot").count() == 4
    assert not browser.page_errors, browser.page_errors
    assert browser.hosts() <= LOOPBACK


def test_api_key_is_asked_for_and_sent(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> None:
    """Where keys are required, the page asks for one, keeps it in sessionStorage and sends it as X-API-Key."""
    served = Served(tmp_path_factory.mktemp("ui-keyed"), workers=1, env={"COALITION_REQUIRE_API_KEY": "true"})
    try:
        served.start()
        key = served.create_key()
        with served.client() as api:
            assert api.get("/").status_code == 200  # the page itself is open
            assert api.get("/ui/config").json() == {"api_key_required": True}
            assert api.get("/v1/coalitions").status_code == 401
            assert api.get("/ui/scenarios").status_code == 401
        page = browser.new_page()
        page.goto(served.url + "/")
        page.wait_for_selector("body[data-state=needs-key]", timeout=30_000)
        assert page.eval_on_selector("#key-panel", "d => d.open")
        assert "required" in page.inner_text("#key-state")

        page.fill("#api-key", "ck_00000000_wrong")
        page.click("#key-save")
        page.wait_for_selector("#errors:not([hidden])", timeout=10_000)
        assert "401" in page.inner_text("#errors") and "unknown or revoked" in page.inner_text("#errors")

        page.fill("#api-key", key)
        page.click("#key-save")
        page.wait_for_selector("body[data-state=ready]", timeout=30_000)
        assert page.locator("#coalitions input[name=coalition]").count() >= 2
        assert page.evaluate("() => sessionStorage.getItem('coalition.apiKey')") == key
        assert page.evaluate("() => localStorage.length") == 0
        keyed = [r for r in browser.requests if "/v1/coalitions" in r.url or "/ui/scenarios" in r.url]
        assert keyed and keyed[-1].headers.get("x-api-key") == key
        assert page.input_value("#api-key") == ""  # not left on screen
        assert browser.hosts() <= LOOPBACK
    finally:
        served.stop()

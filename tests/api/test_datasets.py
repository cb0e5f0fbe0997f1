"""Datasets and coalition presets over HTTP; names only, never paths."""

from __future__ import annotations

import pytest


def test_list_datasets(lite_client):
    datasets = {d["name"]: d for d in lite_client.get("/v1/datasets").json()}
    assert set(datasets) == {"tiny", "tiny2"}
    assert datasets["tiny"]["stages"] == ["mine", "magnet"]
    assert datasets["tiny2"]["coalitions"] == {"usa_only": ["USA"], "usa_aus": ["USA", "AUS"]}


def test_dataset_detail(lite_client):
    detail = lite_client.get("/v1/datasets/tiny").json()
    assert [c["iso3"] for c in detail["country_list"]] == ["USA", "AUS", "CHN"]
    assert detail["tables"]["countries"] == 3
    calibration = {row["stage"]: row for row in detail["calibration"]}
    assert calibration["mine"]["modelled_pct"] == pytest.approx(100 * 1000 / 1010, abs=0.01)
    assert lite_client.get("/v1/datasets/tiny", params={"material": "Gold"}).status_code == 422


def test_coalitions(lite_client):
    presets = lite_client.get("/v1/coalitions").json()
    assert {(p["dataset"], p["name"]) for p in presets} == {
        ("tiny", "usa_only"),
        ("tiny2", "usa_only"),
        ("tiny2", "usa_aus"),
    }
    only = lite_client.get("/v1/coalitions", params={"dataset": "tiny2"}).json()
    assert {p["name"]: p["members"] for p in only} == {"usa_only": ["USA"], "usa_aus": ["USA", "AUS"]}
    assert lite_client.get("/v1/coalitions", params={"dataset": "nope"}).status_code == 404
    assert lite_client.get("/v1/coalitions", params={"dataset": "../etc"}).status_code == 422


@pytest.mark.parametrize("name", ["..%2F..%2Fetc", "..%2F..%2Fetc%2Fpasswd", "%2Fetc", "tiny%2F..%2F..", ".hidden"])
def test_path_traversal_is_422(lite_client, name):
    response = lite_client.get(f"/v1/datasets/{name}")
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "name"


def test_unknown_dataset_is_404(lite_client):
    response = lite_client.get("/v1/datasets/atlantis")
    assert response.status_code == 404 and response.json()["error"]["code"] == "dataset_not_found"

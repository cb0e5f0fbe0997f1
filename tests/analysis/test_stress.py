"""Stress tests on the supplier world (base E = 3.9 share-years, computed in conftest)."""

from __future__ import annotations

import pytest

from optimizer import ScenarioError
from optimizer.analysis import stress

from .conftest import scenario

TOL = 1e-6


@pytest.fixture(scope="module")
def result(supplier):
    return stress(
        scenario=scenario(supplier, ["USA"]),
        workers=1,
        stresses=[
            "cutoff_aus",
            {"kind": "project_delay", "project": "Mountain Pass II", "years": 2},
            "adversary_total_ban",
            "demand_surge_25pct",
            {"kind": "capacity_loss", "country": "AUS", "fraction": 0.5, "name": "half of AUS"},
            "Adversary_Ban_NdPr",
        ],
    )


def by_name(result, name):
    return next(s for s in result.stresses if s.name == name)


def test_baseline(result):
    assert result.baseline.status == "ok"
    assert result.baseline.exposure_share_years == pytest.approx(3.9, abs=TOL)


def test_third_party_cut_off(result):
    s = by_name(result, "cutoff_aus")
    assert s.kind == "country_cutoff"
    assert s.exposure_share_years == pytest.approx(4.4, abs=TOL)  # AUS's 10 t/yr free ore gone
    assert s.exposure_delta == pytest.approx(0.5, abs=TOL)
    assert s.worst_year == 2026
    assert [round(row["exposed_share_delta"], 6) for row in s.by_year] == [0.1] * 5


def test_project_delay(result):
    s = by_name(result, "project_delay_1")
    assert s.exposure_delta == pytest.approx(0.4, abs=TOL)  # 20 t/yr two years late
    assert s.worst_year == 2028
    assert "delayed by 2 years" in s.description


def test_export_ban_turns_exposure_into_shortage(result):
    s = by_name(result, "adversary_total_ban")
    # from 2027 nothing of Chinese origin arrives: 90 t short in 2027, 70 t/yr after
    assert s.unmet_t == pytest.approx(90 + 3 * 70, abs=1e-4)
    assert s.unmet_t_delta == pytest.approx(300, abs=1e-4)
    assert s.exposure_delta > 0  # unmet demand weighs 10x in the exposure measure
    assert s.worst_year == 2027
    assert by_name(result, "adversary_ban_ndpr").unmet_t == pytest.approx(s.unmet_t, abs=1e-4)


def test_demand_surge_and_capacity_loss(result):
    surge = by_name(result, "demand_surge_25pct")
    assert surge.exposure_share_years == pytest.approx(2 * 115 / 125 + 3 * 95 / 125, abs=TOL)
    loss = by_name(result, "half of AUS")
    assert loss.exposure_share_years == pytest.approx(2 * 0.95 + 3 * 0.75, abs=TOL)


def test_unknown_stress_name(supplier):
    with pytest.raises(ScenarioError) as err:
        stress(scenario=scenario(supplier, ["USA"]), workers=1, stresses=["cutoff_aus", "alien_invasion"])
    assert err.value.issues[0].location == "stresses.1"
    assert "alien_invasion" in str(err.value) and "adversary_total_ban" in str(err.value)


def test_unknown_project(supplier):
    with pytest.raises(ScenarioError) as err:
        stress(
            scenario=scenario(supplier, ["USA"]),
            workers=1,
            stresses=[{"kind": "project_delay", "project": "X", "years": 1}],
        )
    assert err.value.issues[0].location == "stresses.0.project"
    assert "Mountain Pass II" in str(err.value)


def test_unknown_material_in_a_custom_ban(supplier):
    with pytest.raises(ScenarioError) as err:
        stress(
            scenario=scenario(supplier, ["USA"]),
            workers=1,
            stresses=[{"kind": "export_control", "materials": ["Unobtainium"]}],
        )
    assert err.value.issues[0].location == "stresses.0.materials"


def test_default_set(supplier):
    result = stress(scenario=scenario(supplier, ["USA"]), workers=1)
    assert [s.name for s in result.stresses] == [
        "adversary_total_ban",
        "adversary_ban_ndpr",
        "all_projects_delayed_3y",
        "demand_surge_25pct",
    ]
    assert all(s.status == "ok" for s in result.stresses)

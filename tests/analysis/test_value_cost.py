"""Member value, cost game: cost saved at the exposure reachable without any member's assets.

Hand-solved values, efficiency, monotonicity, equality with deleting the assets from the data,
and the same request through the CLI and the REST service's job path.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from optimizer import ScenarioError
from optimizer.analysis import member_value, run_analysis
from optimizer.cli import app

from .conftest import CHINA, cap, country, demand, r, scenario, stage
from factory import write_dataset

USD = 0.01  # the cap's tolerance (1e-7 relative) moves these costs by under USD 0.001
HAND = {"USA": 31_666.666_667, "CAN": 18_333.333_333}


def test_cost_game_by_hand(tariffed):
    result = member_value(scenario=scenario(tariffed, "duo"), game="cost", workers=1)
    by = {m.member: m for m in result.members}
    assert (result.game, result.unit, result.method, result.subsets_solved) == ("cost", "USD", "exact", 4)
    assert result.exposure_without_members == pytest.approx(5.0, abs=1e-6)
    assert result.exposure_grand == pytest.approx(2.0, abs=1e-6)
    assert result.exposure_cap == pytest.approx(5.0 * (1 + 1e-7) + 1e-9, abs=1e-12)
    assert result.cost_without_members == pytest.approx(50_000, abs=USD)
    assert result.cost_grand == pytest.approx(0.0, abs=USD)
    assert result.grand_value == pytest.approx(50_000, abs=USD)
    cost = {tuple(s["members"]): s["cost_usd"] for s in result.subsets}
    assert cost[("CAN",)] == pytest.approx(30_000, abs=USD)
    # Held to E(empty) = 5, not to its own E({USA}) = 2 (that would cost 20,000): the room its
    # free supply makes is spent leaving 33.3 t unmet instead of buying tariffed magnets.
    assert cost[("USA",)] == pytest.approx(50_000 / 3, abs=USD)
    assert by["USA"].standalone == pytest.approx(100_000 / 3, abs=USD)
    assert by["CAN"].standalone == pytest.approx(20_000, abs=USD)
    assert by["USA"].leave_one_out == pytest.approx(30_000, abs=USD)
    assert by["CAN"].leave_one_out == pytest.approx(50_000 / 3, abs=USD)
    for member, phi in HAND.items():
        assert by[member].shapley == pytest.approx(phi, abs=USD)
    assert result.shapley_sum == pytest.approx(result.grand_value, abs=1e-9)
    assert [m.share for m in result.members] == pytest.approx([0.95 / 1.5, 0.55 / 1.5], abs=1e-6)
    for s in result.subsets:  # every plan keeps to the cap
        assert s["exposure_share_years"] <= result.exposure_cap + 1e-7
    assert "C(empty) - C(S)" in result.definition


def test_the_exposure_game_of_the_same_world_differs(tariffed):
    result = member_value(scenario=scenario(tariffed, "duo"), workers=1)
    by = {m.member: m for m in result.members}
    assert (result.game, result.unit, result.exposure_cap, result.cost_grand) == ("exposure", "share-years", None, None)
    assert by["USA"].shapley == pytest.approx(3.0, abs=1e-6)
    assert by["CAN"].shapley == pytest.approx(0.0, abs=1e-6)  # untariffed but exposed: a null player here
    assert all("cost_usd" not in s for s in result.subsets)


def test_sampled_cost_game_is_efficient_and_covers_the_exact_values(tariffed):
    args = {"scenario": scenario(tariffed, "duo"), "game": "cost", "method": "sampled", "permutations": 30}
    result = member_value(seed=5, workers=1, **args)
    assert result.method == "sampled" and result.permutations == 30
    assert result.shapley_sum == pytest.approx(result.grand_value, abs=1e-6)
    assert sum(m.shapley for m in result.members) == pytest.approx(50_000, abs=USD)
    for m in result.members:
        assert m.ci_low is not None and m.ci_high is not None
        assert m.ci_low < m.ci_high
        assert m.ci_low - USD <= HAND[m.member] <= m.ci_high + USD


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every kind of asset (as in test_value.py) and a 50% tariff on CHN magnets: USA mine and
    reserves, CAN magnets, a JPN stockpile, member budgets, AUS a third party."""
    return write_dataset(
        tmp_path_factory.mktemp("rich-cost"),
        countries=[country(c) for c in ("USA", "CAN", "JPN", "AUS", "CHN")],
        stages=[stage("mine", 1, "ore", 100), stage("magnet", 2, "magnets", 1000)],
        tariffs=[r(importer=q, origin="CHN", stage="", tariff_rate=0.5) for q in ("USA", "CAN", "JPN")],
        opex=[r(stage="magnet", material="NdPr", opex_usd_per_t=20, low="", high="")],
        capacity=[*CHINA, cap("USA", "mine", 20), cap("CAN", "magnet", 30), cap("AUS", "mine", 10)],
        reserves=[r(country="USA", reserves_t=1e6, unit="t REO")],
        stockpiles=[r(country="JPN", material="NdPr", initial_stock_t=50, capacity_t=100, holding_usd_per_t_yr=1)],
        demand=[demand("USA", 60), demand("JPN", 40)],
    )


def test_rich_cost_game_is_monotone_efficient_and_equals_removing_the_assets(rich):
    from optimizer.analysis.common import base_dataset, with_changes
    from optimizer.analysis.overrides import remove_assets
    from optimizer.run import prepare, solve_prepared

    members = ["USA", "CAN", "JPN"]
    sc = scenario(rich, members, budget_usd=100_000, member_budgets_usd={"USA": 50_000, "JPN": 20_000})
    result = member_value(scenario=sc, game="cost", workers=1)
    exposure = member_value(scenario=sc, workers=1)
    # The cap comes from the exposure game's E(empty); E(N) is reported as in that game.
    assert result.exposure_without_members == pytest.approx(exposure.exposure_without_members, abs=1e-7)
    assert result.exposure_grand == pytest.approx(exposure.exposure_grand, abs=1e-7)
    value = {frozenset(s["members"]): s["value"] for s in result.subsets}
    assert len(value) == 8
    assert len({round(v, 3) for v in value.values()}) > 3  # a game with some texture
    tol = 1e-6 * max(1.0, result.grand_value)
    for small, v_small in value.items():
        for big, v_big in value.items():
            if small < big:
                assert v_small <= v_big + tol, (sorted(small), sorted(big))
    assert all(m.shapley >= -tol for m in result.members)
    assert result.shapley_sum == pytest.approx(result.grand_value, rel=1e-12, abs=1e-9)
    assert result.grand_value == pytest.approx(result.cost_without_members - result.cost_grand, abs=1e-9)

    ds = base_dataset(sc, True)
    weighted = {"mode": "weighted", "cost_weight_per_musd": 0.0}
    for subset in result.subsets:
        outside = [m for m in members if m not in subset["members"]]
        overrides = [o for m in outside for o in remove_assets(ds, m, "test")]
        budgets = {**sc.member_budgets_usd, **dict.fromkeys(outside, 0.0)}
        data = with_changes(sc, overrides=overrides, member_budgets_usd=budgets, objective=weighted)
        direct = solve_prepared(prepare(data), result.exposure_cap)
        assert direct.status == "optimal", subset["members"]
        assert direct.summary.objective["cost_usd"] == pytest.approx(subset["cost_usd"], abs=1e-3), subset["members"]
        assert direct.summary.objective["exposure_share_years"] <= result.exposure_cap + 1e-7


# --- the same request through the CLI and the REST service's job path -------------------

runner = CliRunner()


def test_cli_game_option(tariffed, tmp_path):
    path = tmp_path / "duo.json"
    path.write_text(scenario(tariffed, "duo").model_dump_json(), encoding="utf-8")
    args = ["value", "--scenario", str(path), "--workers", "1", "--game", "cost"]
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    text = out.stdout.replace("\n", "")  # rich wraps long lines at spaces, which it keeps
    assert "USD m of cost saved" in text
    assert "= 0.050 - 0.000 = 0.050 USD m; sum of Shapley values = 0.050" in text
    assert "exposure held at most 5.000 share-years" in text
    printed = runner.invoke(app, [*args, "--json"])
    assert printed.exit_code == 0, printed.output
    body = json.loads(printed.stdout)
    assert body["game"] == "cost" and body["unit"] == "USD"
    assert {m["member"]: m["shapley"] for m in body["members"]} == pytest.approx(HAND, abs=USD)
    direct = run_analysis("value", {"scenario": json.loads(path.read_text()), "game": "cost", "workers": 1})
    body.pop("meta"), direct.pop("meta")
    assert body == direct
    bad = runner.invoke(app, [*args[:-1], "profit"])
    assert bad.exit_code == 2 and "game" in bad.output


def test_rest_job_path_carries_the_game(tariffed, tmp_path, monkeypatch):
    # What POST /v1/jobs {"kind": "value", "payload": ...} does: validate and normalise
    # (api.runner.prepare_analysis), store, then run in a worker (api.runner.execute).
    from api.runner import execute, prepare_analysis

    shutil.copytree(tariffed, tmp_path / "duo_world")
    monkeypatch.setenv("COALITION_DATASETS_DIR", str(tmp_path))
    base = scenario(tariffed, "duo").model_dump(mode="json") | {"dataset": "duo_world"}
    submission = prepare_analysis("value", {"scenario": base, "game": "cost", "workers": 1}, 60.0)
    assert submission.payload["game"] == "cost"
    outcome = execute("value", submission.payload, lambda done, total: None, lambda: False)
    assert outcome.body["game"] == "cost" and outcome.body["unit"] == "USD"
    assert {m["member"]: m["shapley"] for m in outcome.body["members"]} == pytest.approx(HAND, abs=USD)
    with pytest.raises(ScenarioError) as err:
        prepare_analysis("value", {"scenario": base, "game": "profit"}, 60.0)
    assert [i.location for i in err.value.issues] == ["payload.game"]


def test_cost_game_through_http(tariffed, tmp_path, monkeypatch):
    """POST /v1/jobs kind=value with game=cost gives the hand-solved values; a bad game is a 422."""
    import shutil

    from api_helpers import make_settings, running_client, wait_for_state

    root = tmp_path / "datasets"
    shutil.copytree(tariffed, root / "duo_world")
    monkeypatch.setenv("COALITION_DATASETS_DIR", str(root))
    payload = {"scenario": scenario(tariffed, "duo").model_dump(mode="json") | {"dataset": "duo_world"}}
    with running_client(make_settings(f"sqlite:///{tmp_path / 'var' / 'c.db'}", root)) as client:
        job = client.post("/v1/jobs", json={"kind": "value", "payload": {**payload, "game": "cost"}}).json()
        assert wait_for_state(client, job["id"], ("succeeded", "failed", "cancelled"))["state"] == "succeeded"
        body = client.get(f"/v1/jobs/{job['id']}/result").json()
        bad = client.post("/v1/jobs", json={"kind": "value", "payload": {**payload, "game": "profit"}})
    result = body["result"]
    assert body["input"]["game"] == result["game"] == "cost" and result["unit"] == "USD"
    shapley = {m["member"]: m["shapley"] for m in result["members"]}
    assert shapley == {"USA": pytest.approx(31_666.67, abs=0.01), "CAN": pytest.approx(18_333.33, abs=0.01)}
    assert result["grand_value"] == pytest.approx(50_000, abs=0.01)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "payload.game"

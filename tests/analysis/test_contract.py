"""The contract with the REST service and the CLI: strict requests, errors naming fields,
JSON-ready results, and `--json` printing exactly what run_analysis returns."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from optimizer import ScenarioError
from optimizer.analysis import REQUEST_MODELS, RESULT_MODELS, compare, run_analysis
from optimizer.cli import app

from .conftest import scenario

KINDS = {"compare", "frontier", "value", "uncertainty", "stress"}


def locations(err: pytest.ExceptionInfo[ScenarioError]) -> list[str]:
    return [issue.location for issue in err.value.issues]


def test_request_models_are_declared_and_documented():
    assert set(REQUEST_MODELS) == KINDS == set(RESULT_MODELS)
    for model in REQUEST_MODELS.values():
        assert model.model_config["extra"] == "forbid"
        assert model.model_config["allow_inf_nan"] is False
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
        assert {"scenario", "backend", "scheduler", "workers"} <= set(model.model_fields)


@pytest.mark.parametrize(
    ("kind", "payload", "where"),
    [
        ("compare", {"coalitions": ["quad"], "colour": "red"}, "colour"),
        ("compare", {"coalitions": []}, "coalitions"),
        ("compare", {"coalitions": [f"c{i}" for i in range(13)]}, "coalitions"),
        ("frontier", {"points": 102}, "points"),
        ("frontier", {"budget_max_usd": float("nan")}, "budget_max_usd"),
        ("frontier", {"budget_min_usd": 5e9, "budget_max_usd": 1e9}, ""),
        ("value", {"method": "guess"}, "method"),
        ("value", {"permutations": 5}, "permutations"),
        ("value", {"game": "profit"}, "game"),
        ("uncertainty", {"draws": 10_001}, "draws"),
        ("uncertainty", {"seed": -1}, "seed"),
        ("stress", {"stresses": [{"kind": "meteor"}]}, "stresses.0.str"),
        ("stress", {"stresses": []}, "stresses"),
        ("value", {"scheduler": "tcp://x:8786"}, ""),
        ("value", {"workers": 0}, "workers"),
        ("value", {"scenario": {"start_year": 2030, "end_year": 2026}}, "scenario"),
    ],
)
def test_bad_requests_name_the_field(kind, payload, where):
    with pytest.raises(ScenarioError) as err:
        run_analysis(kind, payload)
    assert where in locations(err)


def test_unknown_kind():
    with pytest.raises(ScenarioError) as err:
        run_analysis("horoscope", {})
    assert locations(err) == ["kind"]


def test_paths_refused_when_not_allowed(tiny):
    payload = {"scenario": scenario(tiny, ["USA"]).model_dump(mode="json"), "coalitions": [["USA"]]}
    with pytest.raises(ScenarioError) as err:
        run_analysis("compare", payload, allow_paths=False)
    assert locations(err) == ["scenario.dataset"]


def test_run_analysis_is_json_ready_and_equals_the_python_call(trio):
    sc = scenario(trio, "trio")
    payload = {"scenario": sc.model_dump(mode="json"), "coalitions": ["trio", ["USA"]], "workers": 1}
    body = run_analysis("compare", payload)
    assert json.loads(json.dumps(body)) == body
    direct = compare(scenario=sc, coalitions=["trio", ["USA"]], workers=1).model_dump(mode="json")
    body.pop("meta"), direct.pop("meta")
    assert body == direct


# --- CLI --------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_compare_json_is_run_analysis(trio):
    out = runner.invoke(app, ["compare", "trio", "USA,GBR", "--dataset", str(trio), "--workers", "1", "--json"])
    assert out.exit_code == 0, out.output
    printed = json.loads(out.stdout)
    default = scenario(trio, "trio").model_dump(mode="json")  # what --dataset alone loads
    from optimizer.run import default_scenario

    default = default_scenario(str(trio)).model_dump(mode="json")
    body = run_analysis("compare", {"scenario": default, "coalitions": ["trio", ["USA", "GBR"]], "workers": 1})
    printed.pop("meta"), body.pop("meta")
    assert printed == body


def test_cli_compare_table(trio):
    out = runner.invoke(app, ["compare", "trio", "GBR", "--dataset", str(trio), "--workers", "1"])
    assert out.exit_code == 0, out.output
    assert "Side by side" in out.stdout and "Ranking (least exposed first): 1. trio  2. GBR" in out.stdout


def test_cli_value_prints_shapley_summing_to_the_value(trio):
    out = runner.invoke(app, ["value", "trio", "--dataset", str(trio), "--workers", "1"])
    assert out.exit_code == 0, out.output
    assert "Shapley" in out.stdout and "sum of Shapley values" in out.stdout


def test_cli_frontier_uncertainty_stress(tiny, ranged, supplier):
    out = runner.invoke(app, ["frontier", "USA", "--dataset", str(tiny), "--points", "3", "--workers", "1"])
    assert out.exit_code == 0, out.output
    assert "frontier" in out.stdout and "knee" in out.stdout
    out = runner.invoke(app, ["uncertainty", "USA", "--dataset", str(ranged), "--draws", "3", "--workers", "1"])
    assert out.exit_code == 0, out.output
    assert "Tornado" in out.stdout
    out = runner.invoke(app, ["stress", "USA", "--dataset", str(supplier), "--stress", "cutoff_aus", "--workers", "1"])
    assert out.exit_code == 0, out.output
    assert "cutoff_aus" in out.stdout
    out = runner.invoke(app, ["stress", "--dataset", str(supplier), "--list"])
    assert out.exit_code == 0 and "adversary_total_ban" in out.stdout


def test_cli_bad_input_exits_2_naming_the_field(tiny):
    out = runner.invoke(app, ["frontier", "USA", "--dataset", str(tiny), "--points", "1", "--workers", "1"])
    assert out.exit_code == 2
    assert "points" in out.output
    out = runner.invoke(app, ["compare", "USA,CHN", "--dataset", str(tiny), "--workers", "1"])
    assert out.exit_code == 2
    assert "coalitions.0" in out.output and "adversary CHN" in out.output


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("compare", {"coalitions": ["quad", ["USA", "JPN"]], "scenarios": [{"name": "a"}, {"name": "b"}]}),
        ("frontier", {"coalition": ["USA"], "points": 5, "budget_max_usd": 1e10}),
        ("value", {"method": "sampled", "permutations": 50, "seed": 3}),
        ("value", {"game": "cost", "coalition": ["USA", "JPN"]}),
        ("uncertainty", {"draws": 10, "parameters": ["capex"], "distribution": "uniform"}),
        ("stress", {"stresses": ["adversary_total_ban", {"kind": "project_delay", "years": 2}]}),
    ],
)
def test_requests_round_trip_through_json(kind, payload):
    # The REST service validates, dumps with mode="json" and hands the dump to run_analysis.
    model = REQUEST_MODELS[kind]
    first = model.model_validate(payload)
    dumped = json.loads(json.dumps(first.model_dump(mode="json")))
    assert model.model_validate(dumped) == first

"""Property tests: whatever JSON arrives, the answer is a documented 2xx/4xx, never a 5xx."""

from __future__ import annotations

import json

from api_helpers import make_settings, running_client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SCALARS = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats() | st.text(max_size=20)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
FIELDS = st.sampled_from(
    ["name", "dataset", "coalition", "adversaries", "start_year", "end_year", "budget_usd", "options",
     "targets", "export_controls", "objective", "overrides", "member_budgets_usd", "kind", "payload"]
)
SCENARIOISH = st.dictionaries(FIELDS, JSON, max_size=5)


def test_random_bodies_never_cause_a_server_error(sqlite_url, datasets_dir):
    app_settings = make_settings(sqlite_url, datasets_dir, sync_max_time_limit_s=5, sync_wait_grace_s=5)
    with running_client(app_settings) as client:

        @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
        @given(body=SCENARIOISH | JSON, path=st.sampled_from(["/v1/solve", "/v1/jobs", "/v1/compare"]))
        def check(body, path):
            raw = json.dumps(body, allow_nan=True).encode()
            response = client.post(path, content=raw, headers={"Content-Type": "application/json"})
            assert response.status_code < 500, (path, body, response.text)
            if response.status_code >= 400:
                error = response.json()["error"]
                assert error["code"] and error["message"] and error["request_id"]

        check()

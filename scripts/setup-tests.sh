#!/usr/bin/env bash
# Prepare a fresh machine for the test suite: virtualenv, project install with the dev
# extras, a real PostgreSQL server for the storage tests, Chromium for the browser tests.
# The README's test command (and CI) is:
#   bash scripts/setup-tests.sh && .venv/bin/ruff check . && .venv/bin/python -m pytest -q
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[dev]"

# PostgreSQL: the deployed database, tested for real (skipped only when it cannot be had
# outside CI; under CI=true the tests fail instead of skipping).
if [ -z "${COALITION_TEST_POSTGRES_URL:-}" ]; then
  if bash scripts/start-postgres.sh; then
    # the tests read it from here when the variable is not set (tests/api/api_helpers.py)
    echo "postgresql+psycopg://coalition:coalition@127.0.0.1:5432/coalition_test" > .test-postgres-url
  else
    echo "warning: PostgreSQL could not be started; its tests will be skipped (or fail under CI)" >&2
  fi
fi

# Chromium: the report's offline rendering test and the comparison page's browser test.
if ! bash scripts/install-chromium.sh; then
  echo "warning: Chromium could not be installed; browser tests will be skipped (or fail under CI)" >&2
fi

#!/usr/bin/env bash
# The test suite. Runs on SQLite always, and on PostgreSQL too when TWEETSENT_TEST_PG_URL is set
# (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test).
#
#   bash scripts/test.sh                  # what CI runs: ruff, every test, then the wheel check
#   bash scripts/test.sh -m "not slow"    # the fast loop (under 2 minutes); any arguments go to pytest only
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PREFECT_SERVER_ANALYTICS_ENABLED=false GX_ANALYTICS_ENABLED=false
if [ "$#" -gt 0 ]; then
  exec .venv/bin/python -m pytest "$@"
fi
echo "test: ruff" >&2
.venv/bin/ruff check .
.venv/bin/python -m pytest
echo "test: the built wheel, installed into a fresh venv, run outside the checkout" >&2
bash scripts/check_wheel.sh

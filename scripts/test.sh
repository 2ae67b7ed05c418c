#!/usr/bin/env bash
# The test suite. Runs on SQLite always, and on PostgreSQL too when TWEETSENT_TEST_PG_URL is set
# (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PREFECT_SERVER_ANALYTICS_ENABLED=false GX_ANALYTICS_ENABLED=false
exec .venv/bin/python -m pytest "$@"

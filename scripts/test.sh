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
# The HTML reports are opened in headless Chromium (Debian's package): install it where we can.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "test: installing chromium for the HTML report checks" >&2
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium) >/dev/null 2>&1 || echo "test: could not install chromium; the browser checks will skip" >&2
fi
echo "test: ruff" >&2
.venv/bin/ruff check .
# The full run also tests against a real Label Studio (installed into .venv-ls on first use, ~2 min).
export TWEETSENT_TEST_LABEL_STUDIO="${TWEETSENT_TEST_LABEL_STUDIO:-1}"
.venv/bin/python -m pytest --durations=25
echo "test: the built wheel, installed into a fresh venv, run outside the checkout" >&2
bash scripts/check_wheel.sh

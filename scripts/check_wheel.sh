#!/usr/bin/env bash
# The package as a worker on another machine gets it: build the wheel, install it (not editable)
# into a fresh virtual environment, and run `tweetsent db upgrade`, `tweetsent sql --list` and a
# short `tweetsent run` from a folder outside the checkout. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
work="$(mktemp -d /tmp/tweetsent-wheel.XXXXXX)"
trap 'rm -rf "$work"' EXIT
echo "check_wheel: building the wheel" >&2
.venv/bin/python -m build --wheel --outdir "$work/dist" . >"$work/build.log" 2>&1 || { tail -20 "$work/build.log" >&2; exit 1; }
wheel="$(ls "$work"/dist/tweetsent-*.whl)"
echo "check_wheel: installing $(basename "$wheel") into a fresh venv" >&2
.venv/bin/python -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "torch==2.13.*"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel"
mkdir -p "$work/elsewhere"
cd "$work/elsewhere"  # no checkout here: sql/ and the data files must come from the wheel
export TWEETSENT_HOME="$work/elsewhere/home" PREFECT_HOME="$work/elsewhere/prefect" PREFECT_SERVER_ANALYTICS_ENABLED=false
unset TWEETSENT_DB_URL TWEETSENT_DB_SCHEMA TWEETSENT_CONFIG
bin="$work/venv/bin/tweetsent"
"$bin" db upgrade
"$bin" sql --list > sql-list.txt && head -3 sql-list.txt
# A packaging check, not a model-quality one: 400 tweets and one epoch make a majority-class
# model, which the quality gates rightly refuse; they are off for this run only.
TWEETSENT_SYNTHETIC_COUNT=400 TWEETSENT_EPOCHS=1 TWEETSENT_QUALITY_GATES=false "$bin" run --source synthetic > run.txt && grep "model v1" run.txt
"$bin" models
echo "check_wheel: ok" >&2

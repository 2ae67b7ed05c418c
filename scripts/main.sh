#!/usr/bin/env bash
# The main job, end to end, on the embedded defaults (synthetic tweets, SQLite under ./var).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/tweetsent run "$@"

#!/usr/bin/env bash
# A real Label Studio for the annotation loop, in its own virtual environment .venv-ls (its pins clash
# with tweetsent's, so it never goes into .venv).
#
#   scripts/label_studio.sh                        create/update .venv-ls (safe to re-run; a no-op when done)
#   scripts/label_studio.sh install                the same
#   scripts/label_studio.sh start PORT DATA_DIR    install if needed, then run Label Studio in the foreground on
#                                                  127.0.0.1:PORT with its database and files in DATA_DIR
#
# The first `start` on a DATA_DIR bootstraps an admin user and a legacy API token (Authorization: Token <key>)
# from these variables, or random ones, and keeps them in DATA_DIR/tweetsent-admin.env (owner-only):
#   LABEL_STUDIO_USERNAME    (default admin@tweetsent.local)
#   LABEL_STUDIO_PASSWORD    (log in through the browser with it)
#   LABEL_STUDIO_USER_TOKEN  (the API key tweetsent uses: TWEETSENT_LABEL_STUDIO_API_KEY)
# Later starts on that DATA_DIR reuse them. A personal access token (Account & Settings in the UI) works too.
# Sign-up without an invite link, the browser, analytics and update checks are off. Stop it with Ctrl-C or SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-ls
SPEC="label-studio==1.23.*"

install() {
  local py="${PYTHON:-}"
  if [ -z "$py" ]; then
    for candidate in python3.12 python3.11 python3; do  # pyenv shims exist for versions that do not run
      if "$candidate" -c "import sys, venv; assert sys.version_info >= (3, 10)" >/dev/null 2>&1; then py="$candidate"; break; fi
    done
  fi
  [ -n "$py" ] || { echo "label_studio: no python3 found (need Python 3.10+)" >&2; exit 1; }
  if [ ! -x "$VENV/bin/python" ]; then
    echo "label_studio: creating $VENV with $py" >&2
    "$py" -m venv "$VENV"
  fi
  local stamp="$VENV/.tweetsent-install"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$SPEC" ] || [ ! -x "$VENV/bin/label-studio" ]; then
    echo "label_studio: installing $SPEC into $VENV (first time: a few minutes)" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$SPEC"
    rm -rf "$VENV/empty-data"  # migrated for the version installed before
    echo "$SPEC" > "$stamp"
  fi
}

# Migrating a new database takes ~40 s of a 45 s first start; every later start copies a migrated, empty
# one (no users, no organization), made once with `label-studio version` (which migrates, then exits).
seed() {
  local data="$1" template="$VENV/empty-data"
  [ -e "$data/label_studio.sqlite3" ] && return 0
  [ -z "${DATABASE_NAME:-${LABEL_STUDIO_DATABASE_NAME:-}}" ] || return 0  # somewhere else: leave it alone
  case "${DJANGO_DB:-${LABEL_STUDIO_DJANGO_DB:-default}}" in default | sqlite) ;; *) return 0 ;; esac
  if [ ! -f "$template/label_studio.sqlite3" ]; then
    echo "label_studio: preparing an empty database (once, ~45 s)" >&2
    local fresh
    fresh="$(mktemp -d "$VENV/empty-data.XXXXXX")"
    LABEL_STUDIO_BASE_DATA_DIR="$fresh" LATEST_VERSION_CHECK=false COLLECT_ANALYTICS=false SENTRY_DSN="" \
      "$VENV/bin/label-studio" version --data-dir "$fresh" >"$fresh/migrate.log" 2>&1 \
      || { echo "label_studio: migrating failed, see $fresh/migrate.log" >&2; return 0; }
    # another start may have made one meanwhile: the first rename wins
    mv -T "$fresh" "$template" 2>/dev/null || rm -rf "$fresh"
  fi
  cp "$template/label_studio.sqlite3" "$data/label_studio.sqlite3.tmp" && mv "$data/label_studio.sqlite3.tmp" "$data/label_studio.sqlite3"
}

random_hex() { "$VENV/bin/python" -c "import secrets; print(secrets.token_hex($1))"; }

start() {
  local port="${1:?usage: scripts/label_studio.sh start PORT DATA_DIR}"
  local data="${2:?usage: scripts/label_studio.sh start PORT DATA_DIR}"
  install
  mkdir -p "$data"
  data="$(cd "$data" && pwd)"
  seed "$data"
  # The admin and its token are created once, with the data; later starts on the same DATA_DIR must
  # present the same ones, so the generated defaults are kept beside the data (owner-only).
  local creds="$data/tweetsent-admin.env"
  if [ -f "$creds" ]; then
    # shellcheck disable=SC1090
    . "$creds"
    if [ -n "${LABEL_STUDIO_USER_TOKEN:-}" ] && [ "$LABEL_STUDIO_USER_TOKEN" != "${SAVED_USER_TOKEN:-}" ]; then
      echo "label_studio: warning: $data already has an admin; LABEL_STUDIO_USER_TOKEN only applies to a new DATA_DIR (the key is in $creds)" >&2
    fi
  fi
  LABEL_STUDIO_USERNAME="${LABEL_STUDIO_USERNAME:-${SAVED_USERNAME:-admin@tweetsent.local}}"
  LABEL_STUDIO_PASSWORD="${LABEL_STUDIO_PASSWORD:-${SAVED_PASSWORD:-$(random_hex 16)}}"
  LABEL_STUDIO_USER_TOKEN="${LABEL_STUDIO_USER_TOKEN:-${SAVED_USER_TOKEN:-$(random_hex 20)}}"
  if [ ! -f "$creds" ]; then
    (umask 077 && printf 'SAVED_USERNAME=%q\nSAVED_PASSWORD=%q\nSAVED_USER_TOKEN=%q\n' \
      "$LABEL_STUDIO_USERNAME" "$LABEL_STUDIO_PASSWORD" "$LABEL_STUDIO_USER_TOKEN" > "$creds")
  fi
  echo "label_studio: http://127.0.0.1:$port, user $LABEL_STUDIO_USERNAME; password and API key in $creds" >&2
  export LABEL_STUDIO_USERNAME LABEL_STUDIO_PASSWORD LABEL_STUDIO_USER_TOKEN
  export LABEL_STUDIO_BASE_DATA_DIR="$data"
  export LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK=true
  # Label Studio 1.23 gives new organizations JWT personal access tokens only; the bootstrapped token is a
  # legacy one ("Authorization: Token ..."), accepted only where the organization enables legacy tokens
  # (set when the organization is made, at the first start). The user, password and token go through the
  # environment, not argv, which `ps` shows to everyone.
  export LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true
  # No phoning home: usage analytics, Sentry error reports, the PyPI latest-version check.
  export COLLECT_ANALYTICS=false LATEST_VERSION_CHECK=false SENTRY_DSN="" FRONTEND_SENTRY_DSN=""
  exec "$VENV/bin/label-studio" start \
    --internal-host 127.0.0.1 --port "$port" --data-dir "$data" --no-browser --enable-legacy-api-token
}

case "${1:-install}" in
  install) install ;;
  start) shift; start "$@" ;;
  *) echo "usage: scripts/label_studio.sh [install] | start PORT DATA_DIR" >&2; exit 2 ;;
esac

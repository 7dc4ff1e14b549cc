#!/usr/bin/env bash
# Runs the browser suite against a running demo (started with
# --team-share 0): BASE_URL and its data directory (for the database, the
# fleet and tokens.env). Adds a console user through the CLI, then drives
# the pages in chromium; screenshots go to SHOT_DIR.
# Usage: tests/browser/run.sh BASE_URL DEMO_DIR SHOT_DIR
set -euo pipefail
base=$1 dir=$2 shots=$3
here="$(cd "$(dirname "$0")" && pwd)"
upkeep="$here/../../target/debug/upkeep"
password='browser suite password'
# The demo makes its database anew at start and then writes tokens.env.
for _ in $(seq 1 120); do [ -s "$dir/tokens.env" ] && break; sleep 0.5; done
printf '%s\n' "$password" | UPKEEP__DATABASE__URL="sqlite://$dir/upkeep.db" UPKEEP__FLEET__PATH="$dir/fleet.json" \
  "$upkeep" users add --name browser --role dispatcher
. "$dir/tokens.env"
cd "$here"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
node console.mjs "$base" browser "$password" "$UPKEEP_ADMIN_TOKEN" "$shots"

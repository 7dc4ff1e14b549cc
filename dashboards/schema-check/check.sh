#!/usr/bin/env bash
# Type-checks Grafana dashboard JSON against Grafana's published dashboard
# schema, the TypeScript types of @grafana/schema (exact version in
# package.json): the dashboard, each panel by its type (plugin options too)
# and each query target. See types.ts for what is checked and how.
#
# Usage: dashboards/schema-check/check.sh [FILE.json...]
# (default: every dashboards/*.json). Exits non-zero with tsc's messages on
# any error; the checked TypeScript is left in dashboards/schema-check/generated/.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
files=()
if [ $# -gt 0 ]; then
  for f in "$@"; do
    [ -f "$f" ] || { echo "check.sh: no such file: $f" >&2; exit 2; }
    files+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
  done
else
  shopt -s nullglob
  files=("$here"/../*.json)
  shopt -u nullglob
  [ ${#files[@]} -gt 0 ] || { echo "check.sh: no dashboards/*.json to check" >&2; exit 2; }
fi

cd "$here"
command -v npm >/dev/null || { echo "check.sh: needs Node.js and npm (Debian: apt-get install nodejs npm)" >&2; exit 2; }
# Install the pinned packages when missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi

node generate.mjs generated "${files[@]}"
version="$(node -p "require('@grafana/schema/package.json').version")"
# --module commonjs resolves the plugin schemas' deep imports
# (@grafana/schema/dist/esm/raw/...) as plain paths.
set +e
out="$(./node_modules/.bin/tsc --strict --noEmit --pretty false --target es2022 --module commonjs \
  --forceConsistentCasingInFileNames generated/*.ts 2>&1)"
status=$?
set -e
if [ $status -ne 0 ]; then
  printf '%s\n' "$out" | node report.mjs >&2
  echo "check.sh: the dashboards above do not match @grafana/schema $version (the checked code is in dashboards/schema-check/generated/)" >&2
  exit 1
fi
echo "dashboard schema check: ${#files[@]} file(s) match @grafana/schema $version"

#!/usr/bin/env bash
# Build the web dashboard into web/dist (served by `spotter serve` from disk in debug builds).
# Installs the pinned packages with `npm ci` when node_modules does not match package-lock.json.
# Needs Node >= 20.19 and npm; nothing else.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WEB="$ROOT/web"
cd "$WEB"

command -v node >/dev/null || { echo "web-build: node is not installed (need Node >= 20.19)" >&2; exit 1; }
command -v npm >/dev/null || { echo "web-build: npm is not installed" >&2; exit 1; }

# node_modules is current when it was installed from this exact lock file.
lock_hash="$( (cat package-lock.json; node --version) | sha256sum | cut -d' ' -f1)"
stamp="node_modules/.spotter-lock-sha256"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$lock_hash" ]]; then
  echo "web-build: node_modules up to date with package-lock.json"
else
  echo "web-build: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

echo "web-build: type-check and build"
npm run --silent build
test -f dist/index.html || { echo "web-build: dist/index.html missing" >&2; exit 1; }
echo "web-build: ok -> $WEB/dist"

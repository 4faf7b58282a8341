#!/usr/bin/env bash
# Runs Spotter with demo data on the embedded SQLite database: builds the web dashboard (installing
# its npm packages from the lock file when needed), then the server, then serves at the printed URL.
# Extra arguments go to `spotter serve` (e.g. --bind 0.0.0.0:8000).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f web/package.json ]; then
  bash scripts/web-build.sh
fi
exec cargo run --release -p spotter -- serve --demo "$@"

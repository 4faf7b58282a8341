#!/usr/bin/env bash
# One benchmark run against a fresh server: starts `spotter serve` (release build, a new data
# directory, the send and auth limits lifted for the run only), runs one `spotter-load`
# scenario against it with --provision, stops the server. Figures in docs/benchmarks.md.
#
#   scripts/bench.sh chat --pairs 1000 --rate 1 --duration 10 [--json out.json]
#   PG=1 scripts/bench.sh list --trainees 500           # PostgreSQL: a fresh database bench_pg
#   TASKSET=0 taskset -c 1 scripts/bench.sh chat …       # server on core 0, generator on core 1
#   BIN=/some/dir scripts/bench.sh …                     # binaries from elsewhere (A/B runs)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BIN:-}" ]; then
  BIN=${CARGO_TARGET_DIR:-target}/release
  cargo build --release -q -p spotter -p spotter-load
fi
D=$(mktemp -d)
ulimit -n "$(ulimit -Hn)"
extra=()
if [ "${PG:-}" = 1 ]; then
  psql -q -h 127.0.0.1 -U postgres -d test -c 'DROP DATABASE IF EXISTS bench_pg' \
    -c 'CREATE DATABASE bench_pg' >/dev/null
  export SPOTTER_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_pg
  extra=(--database-url "$SPOTTER_DATABASE_URL")
fi
pin=()
[ -n "${TASKSET:-}" ] && pin=(taskset -c "$TASKSET")
SPOTTER_DATA_DIR=$D SPOTTER_BIND=127.0.0.1:0 SPOTTER_JWT_SECRET=bench-secret \
SPOTTER_SEND_RATE_PER_MINUTE=1000000 SPOTTER_AUTH_RATE_PER_MINUTE=1000000 RUST_LOG=warn \
  "${pin[@]}" "$BIN/spotter" serve >"$D/server.log" 2>&1 &
server=$!
stop() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$D"; }
trap stop EXIT
url=
for _ in $(seq 1 100); do
  url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$D/server.log" | head -1 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$D/server.log" >&2; echo "the server did not start" >&2; exit 1; }
"$BIN/spotter-load" --url "$url" --jwt-secret bench-secret --provision \
  --spotter-bin "$BIN/spotter" --data-dir "$D" --server-pid "$server" "${extra[@]}" "$@"

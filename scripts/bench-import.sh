#!/usr/bin/env bash
# `spotter import original` at scale: fills an original-shaped database (PostgreSQL database
# bench_orig: tests/fixtures/original-schema.sql) with N messages over C conversations, then
# times a first import into a fresh Spotter (SQLite, or PostgreSQL with PG=1), a second run with
# nothing changed, and a third after 1,000 new messages, 1,000 edits and 100 deletions there.
# Figures in docs/benchmarks.md ("Import").
#
#   scripts/bench-import.sh [MESSAGES] [CONVERSATIONS]       # defaults 1000000 500
#   PG=1 scripts/bench-import.sh 1000000 500
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
C=${2:-500}
if [ -z "${BIN:-}" ]; then
  BIN=${CARGO_TARGET_DIR:-target}/release
  cargo build --release -q -p spotter
fi
psql_test() { psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres "$@"; }
psql_test -d test -c 'DROP DATABASE IF EXISTS bench_orig' -c 'CREATE DATABASE bench_orig' >/dev/null
ORIG=postgres://postgres@127.0.0.1:5432/bench_orig
psql_test -d bench_orig -f crates/spotter/tests/fixtures/original-schema.sql >/dev/null
HASH='pbkdf2_sha256$1000$K3yS4lt0riginal$Ef10wyAqP5ORMtlKTfjSacrLZt+3uKUXGSrAmf25XqI='
echo "filling the original: $N messages over $C conversations"
psql_test -d bench_orig >/dev/null <<SQL
INSERT INTO users SELECT 1, 'coach@orig.io', '$HASH', 'Coach', 'One', 'TRAINER', NULL, true, NULL,
  now(), now(), now(), NULL, false, false, NULL, NULL;
INSERT INTO users SELECT 1 + i, 'client' || i || '@orig.io', '$HASH', 'Client', i::text, 'TRAINEE', 1,
  true, NULL, now(), now(), now(), NULL, false, false, NULL, NULL FROM generate_series(1, $C) i;
INSERT INTO messaging_conversations SELECT 10 + i, 1, 1 + i, now(), false, now() - interval '2 years',
  now() FROM generate_series(1, $C) i;
INSERT INTO messaging_messages SELECT 100 + i, 10 + 1 + (i % $C), CASE WHEN i % 2 = 0 THEN 1 ELSE 1 + 1 + (i % $C) END,
  'Message ' || i || ' about squats, sleep and protein', NULL, i % 10 <> 0,
  CASE WHEN i % 10 <> 0 THEN now() - interval '2 years' + i * interval '50 ms' END, NULL, false,
  now() - interval '2 years' + i * interval '40 ms' FROM generate_series(1, $N) i;
ANALYZE;
SQL
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
target=(--data-dir "$D")
if [ "${PG:-}" = 1 ]; then
  psql_test -d test -c 'DROP DATABASE IF EXISTS bench_pg' -c 'CREATE DATABASE bench_pg' >/dev/null
  target+=(--database-url postgres://postgres@127.0.0.1:5432/bench_pg)
fi
run() {
  local label=$1 start end
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$D/rss" "$BIN/spotter" import original --from "$ORIG" "${target[@]}" \
    --jwt-secret bench-secret >"$D/out" 2>&1 || { cat "$D/out"; exit 1; }
  end=$(date +%s.%N)
  awk -v l="$label" -v s="$start" -v e="$end" -v n="$N" -v rss="$(cat "$D/rss")" \
    'BEGIN { t = e - s; printf "%-28s %8.1f s  %9.0f messages/s  max RSS %d MiB\n", l, t, n / t, rss / 1024 }'
}
run "first import"
run "second run, nothing changed"
psql_test -d bench_orig >/dev/null <<SQL
INSERT INTO messaging_messages SELECT 100 + $N + i, 11, 2, 'New ' || i, NULL, false, NULL, NULL, false, now()
  FROM generate_series(1, 1000) i;
UPDATE messaging_messages SET content = content || ' (edited)', edited_at = now() WHERE id % 997 = 0 AND id <= 100 + 997000;
UPDATE messaging_messages SET is_deleted = true, content = '' WHERE id % 9973 = 1;
SQL
run "third run, ~2,100 rows changed"
grep -A8 '^table' "$D/out"

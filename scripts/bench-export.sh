#!/usr/bin/env bash
# The export's memory at scale: a trainer with N messages over C conversations (inserted
# straight into a fresh SQLite database: positions, counters, a deleted message every 500th, an
# image every 100th), then the server's resident memory before and at its peak during a JSON
# export, a CSV export, and a JSON export read by a slow client (5 MiB/s: the body must wait
# for it, not pile up in the server). Peak RSS is reset between runs (`clear_refs`).
# Figures in docs/benchmarks.md ("Export").
#
#   scripts/bench-export.sh [MESSAGES] [CONVERSATIONS]       # defaults 200000 4
#   BIN=target/debug scripts/bench-export.sh                 # an existing build
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
C=${2:-4}
if [ -z "${BIN:-}" ]; then
  BIN=${CARGO_TARGET_DIR:-target}/release
  cargo build --release -q -p spotter
fi
D=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$D"' EXIT
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cfg=(--data-dir "$D" --jwt-secret bench-secret)
PASS=bench-password-1
"$BIN/spotter" migrate "${cfg[@]}" >/dev/null
"$BIN/spotter" user add "${cfg[@]}" --email coach@bench.io --password "$PASS" --role trainer \
  --first-name Coach --last-name Bench >/dev/null
for i in $(seq 1 "$C"); do
  "$BIN/spotter" user add "${cfg[@]}" --email "client$i@bench.io" --password "$PASS" \
    --role trainee --first-name Client --last-name "$i" --trainer-email coach@bench.io >/dev/null
done
echo "filling: $N messages over $C conversations"
NOW=$(($(date +%s) * 1000000))
sqlite3 "$D/spotter.db" <<SQL
PRAGMA foreign_keys = ON;
INSERT INTO conversations (trainer_id, trainee_id, created_at, last_message_at, last_activity_at,
  last_message_preview, message_count)
  SELECT t.id, e.id, $NOW - $N * 1000000, $NOW, $NOW, 'Message', 0
  FROM users t JOIN users e ON e.parent_trainer_id = t.id WHERE t.email = 'coach@bench.io' ORDER BY e.id;
WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < $N),
  c AS (SELECT id, trainer_id, trainee_id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM conversations)
INSERT INTO messages (conversation_id, seq, sender_id, content, created_at, read_at, delivered_at,
  image, image_width, image_height, deleted_at)
  SELECT c.id, (n - 1) / $C + 1, CASE WHEN n % 2 = 0 THEN c.trainer_id ELSE c.trainee_id END,
    CASE WHEN n % 500 = 0 THEN '' ELSE 'Message ' || n || ': squats, sleep and "protein" today' END,
    $NOW - ($N - n) * 1000000, $NOW, $NOW,
    CASE WHEN n % 100 = 0 AND n % 500 <> 0 THEN 'message_images/' || printf('%032x', n) || '.jpg' END,
    CASE WHEN n % 100 = 0 AND n % 500 <> 0 THEN 640 END,
    CASE WHEN n % 100 = 0 AND n % 500 <> 0 THEN 480 END,
    CASE WHEN n % 500 = 0 THEN $NOW END
  FROM i JOIN c ON c.k = (n - 1) % $C;
UPDATE conversations SET message_count = (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = conversations.id);
-- These rows are not for search: the background indexer would otherwise work through them
-- during the measurement.
UPDATE search_progress SET indexed_up_to = (SELECT MAX(id) FROM messages);
SQL
"$BIN/spotter" serve "${cfg[@]}" --bind "127.0.0.1:$PORT" >"$D/server.log" 2>&1 &
PID=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.1; done
TOKEN=$(curl -sf -H 'Content-Type: application/json' \
  -d "{\"email\": \"coach@bench.io\", \"password\": \"$PASS\"}" "$BASE/api/auth/jwt/create/" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access"])')
kib() { awk -v f="$1" '$1 == f":" { print $2 }' "/proc/$PID/status"; }
echo "server idle: RSS $(($(kib VmRSS) / 1024)) MiB (heap $(($(kib RssAnon) / 1024)) MiB); database $(($(stat -c %s "$D/spotter.db") / 1048576)) MiB"
run() {
  local label=$1 query=$2 rate=$3 start end before anon peak_anon=0 curl_pid
  echo 5 >"/proc/$PID/clear_refs" # peak RSS starts again from now
  before=$(kib VmRSS)
  start=$(date +%s.%N)
  curl -sf ${rate:+--limit-rate "$rate"} -H "Authorization: Bearer $TOKEN" \
    -o "$D/export" "$BASE/api/messaging/export/?$query" &
  curl_pid=$!
  # Anonymous memory (heap) apart: the readers map the database file (mmap_size), so pages
  # read count in RSS as file-backed memory the kernel can drop at will.
  while kill -0 "$curl_pid" 2>/dev/null; do
    anon=$(kib RssAnon)
    [ "$anon" -gt "$peak_anon" ] && peak_anon=$anon
    sleep 0.05
  done
  wait "$curl_pid"
  end=$(date +%s.%N)
  awk -v l="$label" -v s="$start" -v e="$end" -v size="$(stat -c %s "$D/export")" \
    -v before="$before" -v peak="$(kib VmHWM)" -v anon="$peak_anon" -v file="$(kib RssFile)" \
    'BEGIN { printf "%-26s %5.1f s %6.1f MiB body | RSS before %5.1f, peak %5.1f MiB (heap peak %5.1f, file-backed after %5.1f)\n",
      l, e - s, size / 1048576, before / 1024, peak / 1024, anon / 1024, file / 1024 }'
}
run "JSON" "format=json" ""
run "CSV" "format=csv" ""
run "JSON, client at 5 MiB/s" "format=json" "${SLOW:-5M}"
python3 -c "import json; d = json.load(open('$D/export')); print('checked: JSON parses,', sum(len(c['messages']) for c in d['conversations']), 'messages')"

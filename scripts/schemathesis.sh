#!/usr/bin/env bash
# Schema fuzzing: Schemathesis generates requests from the server's own /api/openapi.json and
# checks every answer against it: no 5xx, a documented status, the documented content type, a
# body matching the documented schema. Against a real `spotter serve --demo` (debug build, temp
# data dir, random port, no push worker), in three passes:
#   1. SQLite, throttling lifted: every operation once per kind of token (trainee, the trainer
#      impersonating her, admin, trainer; the trainer's `remove` last, as it archives);
#   2. PostgreSQL (a fresh schema, as the test suite uses): trainee and trainer, who write text;
#   3. the default limits (30 a minute): login, refresh, start and send, which then answer 429.
# Bounded for CI (2 to 3 minutes on 2 cores): SPOTTER_SCHEMATHESIS_EXAMPLES test cases per
# operation and phase (default 25). Each run prints its seed; SPOTTER_SCHEMATHESIS_SEED replays
# one. Reports (JSON, and a pytest file reproducing each failure) go to
# SPOTTER_SCHEMATHESIS_REPORTS when set. SPOTTER_SCHEMATHESIS_POSTGRES=off skips pass 2.
# Prints `schemathesis: N passed, M failed` (test cases) and exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
examples="${SPOTTER_SCHEMATHESIS_EXAMPLES:-25}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}"
venv="$cache/spotter-schemathesis-venv"
st="$venv/bin/schemathesis"
py="$venv/bin/python"

if ! "$st" --version 2>/dev/null | grep -qF "version $SCHEMATHESIS_VERSION"; then
  echo "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build -q -p spotter
bin="${CARGO_TARGET_DIR:-target}/debug/spotter"

work="$(mktemp -d)"
reports="${SPOTTER_SCHEMATHESIS_REPORTS:-$work/reports}"
mkdir -p "$reports"
pids=()
pg_schema=""
st_pid=""
stop_servers() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
cleanup() {
  if [ -n "$st_pid" ]; then
    kill "$st_pid" 2>/dev/null || true
    wait "$st_pid" 2>/dev/null || true
  fi
  stop_servers
  if [ -n "$pg_schema" ]; then
    psql "$pg_url" -qc "DROP SCHEMA IF EXISTS $pg_schema CASCADE" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME [ENV=VALUE ...]: a fresh `spotter serve --demo`; sets $url.
start_server() {
  local name="$1"
  shift
  stop_servers
  mkdir -p "$work/$name"
  # No push worker: generated device registrations must not make the server call out.
  env SPOTTER_PUSH_WORKER=off RUST_LOG="spotter=warn" "$@" "$bin" serve --demo --bind 127.0.0.1:0 \
    --data-dir "$work/$name" >"$work/$name.log" 2>&1 &
  pids+=("$!")
  local pid="$!"
  url=""
  for _ in $(seq 1 300); do
    url="$(sed -n 's/^Spotter is running at \(http[^ ]*\)$/\1/p' "$work/$name.log")"
    [ -n "$url" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "spotter ($name) did not start:" >&2
    cat "$work/$name.log" >&2
    echo "schemathesis: 0 passed, 1 failed"
    exit 1
  fi
  url="${url%/}"
}

# api METHOD URL TOKEN [JSON BODY] [FIELD]: calls the API, prints FIELD of the JSON answer (or
# the whole answer); fails on a non-2xx.
api() {
  "$py" - "$@" <<'EOF'
import json, sys, urllib.request
method, url, token = sys.argv[1:4]
body = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
field = sys.argv[5] if len(sys.argv) > 5 else None
req = urllib.request.Request(url, method=method, data=body.encode() if body else None)
req.add_header("Content-Type", "application/json")
if token:
    req.add_header("Authorization", f"Bearer {token}")
with urllib.request.urlopen(req, timeout=30) as r:
    answer = json.load(r)
for part in (field.split(".") if field else []):
    answer = answer[int(part)] if isinstance(answer, list) else answer[part]
print(answer if isinstance(answer, (str, int)) else json.dumps(answer))
EOF
}

login() {
  api POST "$url/api/auth/jwt/create/" "" \
    "{\"email\": \"$1\", \"password\": \"spotter-demo\"}" access
}

# Known ids, so that generated requests reach existing rows half of the time (Schemathesis
# draws the other half itself, mostly ids that do not exist); and, a fifth of the time, strings
# that have broken servers before (NUL, which PostgreSQL refuses in text; LIKE wildcards;
# quotes; bidi, combining and astral characters; the length limits), which Hypothesis draws too
# rarely for a short run to find.
write_config() {
  local x2000 y2001 z65
  x2000="$(head -c 2000 /dev/zero | tr '\0' x)"
  y2001="$(head -c 2001 /dev/zero | tr '\0' y)"
  z65="$(head -c 65 /dev/zero | tr '\0' z)"
  cat >"$work/schemathesis.toml" <<EOF
[dictionaries.ids]
values = [$1]

[dictionaries.nasty]
values = ["\u0000", "a\u0000b", " \u0000 ", "%", "_", "\\\\", "%00", "' OR '1'='1", "\"",
          "\u202e", "\U0001F3CB\uFE0F", "e\u0301", "\t", "$x2000", "  $x2000  ", "$y2001", "$z65"]

[parameters]
"path.id" = { dictionary = "ids", probability = 0.5 }
"body.trainee_id" = { dictionary = "ids", probability = 0.5 }
"query.search" = { dictionary = "nasty", probability = 0.2 }
"body.content" = { dictionary = "nasty", probability = 0.2 }
"body.client_message_id" = { dictionary = "nasty", probability = 0.2 }
"body.email" = { dictionary = "nasty", probability = 0.2 }
"body.password" = { dictionary = "nasty", probability = 0.2 }
"body.refresh" = { dictionary = "nasty", probability = 0.2 }
EOF
}

passed=0
failed=0
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance

# run NAME TOKEN [schemathesis options...]
run() {
  local name="$1" token="$2"
  shift 2
  echo
  echo "==> schemathesis as $name"
  local rc=0 started=$SECONDS
  # `timeout` is a guard against a hang; a normal run takes 10 to 60 s. In the background and
  # waited for, so that a signal to this script stops it at once (see cleanup).
  timeout 300 "$st" --config-file "$work/schemathesis.toml" run "$url/api/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks "$checks" \
    --max-examples "$examples" \
    ${SPOTTER_SCHEMATHESIS_SEED:+--seed "$SPOTTER_SCHEMATHESIS_SEED"} \
    --generation-database none \
    --request-timeout 10 \
    --no-color --output-truncate false \
    --report json,pytest \
    --report-json-path "$reports/$name.json" \
    --report-pytest-path "$reports/$name-repro.py" \
    "$@" >"$work/$name.out" 2>&1 &
  st_pid=$!
  wait "$st_pid" || rc=$?
  st_pid=""
  sed -n '/^=* FAILURES =*$/,$p; /^=* ERRORS =*$/,$p' "$work/$name.out" | head -400
  grep -E '^(Seed:|  [0-9]+ generated)' "$work/$name.out" || true
  local counts
  counts="$("$py" - "$reports/$name.json" <<'EOF' 2>/dev/null || echo "0 1"
import json, sys
r = json.load(open(sys.argv[1]))
t = r["test_cases"]
bad = t["with_failures"] + t["errored"] + len(r["errors"])
print(max(t["generated"] - t["with_failures"] - t["errored"], 0), bad)
EOF
)"
  local p="${counts% *}" f="${counts#* }"
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "schemathesis exited $rc for $name:" >&2
    tail -40 "$work/$name.out" >&2
    f=1
  fi
  echo "$name: $p passed, $f failed ($((SECONDS - started)) s)"
  passed=$((passed + p))
  failed=$((failed + f))
}

# setup: logs in as each demo user and starts a conversation coach ↔ Ana with a reply; sets the
# tokens ($admin, $coach, $ana, $impersonating: the trainer acting as Ana, read-only) and writes
# the config with the ids that exist.
setup() {
  admin="$(login admin@example.com)"
  coach="$(login coach@example.com)"
  ana="$(login ana@example.com)"
  local ana_id coach_id conversation
  ana_id="$(api GET "$url/api/auth/users/me/" "$ana" "" id)"
  coach_id="$(api GET "$url/api/auth/users/me/" "$coach" "" id)"
  conversation="$(api POST "$url/api/messaging/conversations/start/" "$coach" \
    "{\"trainee_id\": $ana_id, \"content\": \"Welcome to Spotter!\"}" conversation_id)"
  api POST "$url/api/messaging/conversations/$conversation/send/" "$ana" \
    '{"content": "Thanks, coach!"}' id >/dev/null
  impersonating="$(api POST "$url/api/trainer/impersonate/$ana_id/start/" "$coach" "" access)"
  write_config "$(printf '%s\n' 1 "$coach_id" "$ana_id" "$conversation" | sort -nu | paste -sd,)"
}

# The trainer's run may not remove a trainee (that would archive the conversation under the
# runs after it): that operation runs last, on its own.
remove='^/api/trainer/trainees/\{id\}/remove/$'
unthrottled=(SPOTTER_AUTH_RATE_PER_MINUTE=100000 SPOTTER_SEND_RATE_PER_MINUTE=100000)

# 1. SQLite (the default store), throttling lifted so that 429s do not hide the rest; every
#    operation with each kind of token.
start_server sqlite "${unthrottled[@]}"
setup
run trainee "$ana"
run impersonating "$impersonating"
run admin "$admin"
run trainer "$coach" --exclude-path-regex "$remove"
run trainer-remove "$coach" --include-path-regex "$remove"

# 2. PostgreSQL, which refuses some text that SQLite stores (NUL): the roles that write text.
#    Needs PostgreSQL as the test suite does (SPOTTER_TEST_DATABASE_URL); fails loudly without
#    it, unless SPOTTER_SCHEMATHESIS_POSTGRES=off.
if [ "${SPOTTER_SCHEMATHESIS_POSTGRES:-on}" != off ]; then
  pg_url="${SPOTTER_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
  pg_schema="schemathesis_$$_$RANDOM"
  if ! psql "$pg_url" -qc "CREATE SCHEMA $pg_schema" >/dev/null; then
    pg_schema=""
    echo "PostgreSQL is not reachable at $pg_url (SPOTTER_SCHEMATHESIS_POSTGRES=off skips it)" >&2
    echo "schemathesis: $passed passed, $((failed + 1)) failed"
    exit 1
  fi
  case "$pg_url" in *\?*) sep='&' ;; *) sep='?' ;; esac
  start_server postgres "${unthrottled[@]}" \
    SPOTTER_DATABASE_URL="$pg_url${sep}options=-c%20search_path%3D$pg_schema"
  setup
  run postgres-trainee "$ana"
  run postgres-trainer "$coach" --exclude-path-regex "$remove"
fi

# 3. The default limits (30 a minute): what is throttled answers 429 as documented.
start_server limits
setup
run trainer-default-limits "$coach" \
  --include-path-regex '^/api/(auth/jwt/|messaging/conversations/(start|\{id\}/send)/)'

echo
echo "schemathesis: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

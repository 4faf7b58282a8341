#!/usr/bin/env bash
# A real S3-speaking server for the media tests: moto's server (Python), on a free 127.0.0.1 port,
# in the background. Prints its URL on stdout, ready to be used:
#
#   export SPOTTER_TEST_S3_ENDPOINT="$(bash scripts/s3-server.sh)"
#   cargo test -p spotter --test media_s3
#   bash scripts/s3-server.sh stop "$SPOTTER_TEST_S3_ENDPOINT"   # that one (no URL: every one)
#
# moto is installed on first use into a virtualenv under ${XDG_CACHE_HOME:-$HOME/.cache}/spotter/moto
# (created with the system's site packages, so a moto already installed there is used as is).
# moto keeps every bucket in memory: each start is empty. Each server has its own pid file and
# log (moto-<port>.pid, moto-<port>.log) in the same folder, so two test runs side by side (two
# checkouts on one machine) never stop each other's server.
set -euo pipefail

# 5.1 and later speak the SigV4 presigned requests Spotter sends; 6 may change the CLI.
MOTO_REQUIREMENT='moto[server]>=5.1,<6'
dir="${XDG_CACHE_HOME:-$HOME/.cache}/spotter/moto"
venv="$dir/venv"

# Stops the server of one pid file: only a process this script started, and only if still moto.
stop_one() {
  local file="$1" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null && grep -q moto "/proc/$pid/cmdline" 2>/dev/null; then
    kill "$pid"
  fi
  rm -f "$file"
}

if [ "${1:-}" = stop ]; then
  if [ -n "${2:-}" ]; then
    stop_one "$dir/moto-${2##*:}.pid"
  else
    for f in "$dir"/moto-*.pid "$dir"/moto.pid; do stop_one "$f"; done
  fi
  exit 0
fi

mkdir -p "$dir"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv --system-site-packages "$venv" >&2
fi
if ! "$venv/bin/python" -c 'import moto.server, flask, flask_cors' 2>/dev/null; then
  echo "installing $MOTO_REQUIREMENT into $venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$MOTO_REQUIREMENT" >&2
fi

port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
pidfile="$dir/moto-$port.pid"
log="$dir/moto-$port.log"
nohup "$venv/bin/python" -m moto.server -H 127.0.0.1 -p "$port" >"$log" 2>&1 </dev/null &
echo $! >"$pidfile"

url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if "$venv/bin/python" - "$url" <<'EOF' 2>/dev/null; then
import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=1)
EOF
    echo "$url"
    exit 0
  fi
  if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    break
  fi
  sleep 0.2
done
echo "moto did not start on $url; its log ($log):" >&2
tail -n 20 "$log" >&2 || true
stop_one "$pidfile"
exit 1

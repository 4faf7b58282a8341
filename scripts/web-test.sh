#!/usr/bin/env bash
# Web dashboard tests: ESLint (its failure stops the script), Vitest component tests, then the end-to-end suite (playwright-core driving
# Debian's Chromium against a real `spotter serve --demo` that the suite starts itself).
# Exits non-zero on any failure. Installs Chromium with apt when /usr/bin/chromium is missing;
# never downloads browsers any other way.
#   SPOTTER_BIN=path   use that server binary (default: the workspace's debug build, built first)
#   WEB_TEST_SKIP_E2E=1  component tests only
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WEB="$ROOT/web"

bash "$ROOT/scripts/web-build.sh"
cd "$WEB"

echo "== web-test: lint (eslint, zero warnings)"
npm run --silent lint

echo "== web-test: component tests (vitest)"
unit_rc=0
npx vitest run --reporter=default 2>&1 | tee /tmp/spotter-web-vitest.$$.log || unit_rc=$?

e2e_rc=0
if [[ "${WEB_TEST_SKIP_E2E:-0}" != "1" ]]; then
  # Debian's Chromium (and an emoji font, so screenshots show emoji rather than boxes).
  missing=()
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || missing+=(fonts-noto-color-emoji)
  if [[ ${#missing[@]} -gt 0 ]]; then
    echo "== web-test: apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
    apt-get install -y -qq fonts-noto-color-emoji >/dev/null || echo "web-test: no emoji font (screenshots only)"
  fi
  if [[ -z "${SPOTTER_BIN:-}" ]]; then
    # Always the current server: a no-op when it is up to date, wherever cargo puts its target.
    echo "== web-test: building the server (cargo build -p spotter)"
    (cd "$ROOT" && cargo build -q -p spotter)
    export SPOTTER_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/spotter"
  fi
  echo "== web-test: end-to-end (node --test, chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'))"
  node --test --test-reporter=spec --test-concurrency=1 --test-timeout=600000 e2e/messages.e2e.test.mjs 2>&1 \
    | tee /tmp/spotter-web-e2e.$$.log || e2e_rc=$?
fi

# One closing line for both runners.
strip() { sed -e 's/\x1b\[[0-9;]*m//g' "$1" 2>/dev/null || true; }
tests_line=$(strip /tmp/spotter-web-vitest.$$.log | grep -E '^ *Tests +[0-9]' | tail -1 || true)
u_pass=$(grep -oE '[0-9]+ passed' <<<"$tests_line" | grep -oE '[0-9]+' || true)
u_fail=$(grep -oE '[0-9]+ failed' <<<"$tests_line" | grep -oE '[0-9]+' || true)
e_pass=$(strip /tmp/spotter-web-e2e.$$.log | sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' | tail -1)
e_fail=$(strip /tmp/spotter-web-e2e.$$.log | sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' | tail -1)
rm -f /tmp/spotter-web-vitest.$$.log /tmp/spotter-web-e2e.$$.log
pass=$(( ${u_pass:-0} + ${e_pass:-0} ))
fail=$(( ${u_fail:-0} + ${e_fail:-0} ))
if [[ $unit_rc -ne 0 || $e2e_rc -ne 0 ]] && [[ $fail -eq 0 ]]; then fail=1; fi
echo "web-test: ${pass} passed, ${fail} failed"
[[ $unit_rc -eq 0 && $e2e_rc -eq 0 ]]

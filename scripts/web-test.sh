#!/usr/bin/env bash
# Web dashboard tests: ESLint (zero warnings; its failure stops the script), Vitest component
# tests, the API types' drift check (web/src/api/schema.d.ts against the server's OpenAPI document,
# scripts/web-types.sh --check), then the end-to-end suite (@playwright/test driving Debian's
# Chromium against a real `spotter serve --demo` per suite file, started by its fixture).
# Exits non-zero on any failure. Installs Chromium with apt when /usr/bin/chromium is missing;
# never downloads browsers any other way.
#   SPOTTER_BIN=path   use that server binary (default: the workspace's debug build, built first)
#   WEB_TEST_SKIP_E2E=1  component tests only (and the drift check when SPOTTER_BIN is given)
# End-to-end failures keep a trace, a screenshot and the server's logs in web/test-results/
# (open a trace with `cd web && npx playwright show-trace test-results/<test>/trace.zip`).
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

if [[ "${WEB_TEST_SKIP_E2E:-0}" != "1" && -z "${SPOTTER_BIN:-}" ]]; then
  # Always the current server: a no-op when it is up to date, wherever cargo puts its target.
  echo "== web-test: building the server (cargo build -p spotter)"
  (cd "$ROOT" && cargo build -q -p spotter)
  target="${CARGO_TARGET_DIR:-target}"
  [[ "$target" = /* ]] || target="$ROOT/$target"
  export SPOTTER_BIN="$target/debug/spotter"
fi

types_rc=0
if [[ -n "${SPOTTER_BIN:-}" ]]; then
  echo "== web-test: API types against the server's OpenAPI document"
  bash "$ROOT/scripts/web-types.sh" --check || types_rc=$?
fi

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
  echo "== web-test: end-to-end (playwright test, chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'))"
  rm -f "$WEB/test-results/results.json"
  npx playwright test || e2e_rc=$?
fi

# One closing line for both runners.
strip() { sed -e 's/\x1b\[[0-9;]*m//g' "$1" 2>/dev/null || true; }
tests_line=$(strip /tmp/spotter-web-vitest.$$.log | grep -E '^ *Tests +[0-9]' | tail -1 || true)
u_pass=$(grep -oE '[0-9]+ passed' <<<"$tests_line" | grep -oE '[0-9]+' || true)
u_fail=$(grep -oE '[0-9]+ failed' <<<"$tests_line" | grep -oE '[0-9]+' || true)
# Playwright's counts, from its JSON report (written by the config's json reporter): passed are
# the expected results, failed the unexpected ones and the flaky ones (no retries are allowed).
e_pass=""
e_fail=""
results="$WEB/test-results/results.json"
if [[ "${WEB_TEST_SKIP_E2E:-0}" != "1" && -f "$results" ]]; then
  read -r e_pass e_fail < <(node -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).stats;
    console.log(s.expected, s.unexpected + s.flaky);' "$results" || echo "0 1")
fi
rm -f /tmp/spotter-web-vitest.$$.log
pass=$(( ${u_pass:-0} + ${e_pass:-0} ))
fail=$(( ${u_fail:-0} + ${e_fail:-0} ))
# The drift check counts as one check.
if [[ -n "${SPOTTER_BIN:-}" ]]; then
  if [[ $types_rc -eq 0 ]]; then pass=$(( pass + 1 )); else fail=$(( fail + 1 )); fi
fi
if [[ $unit_rc -ne 0 || $e2e_rc -ne 0 ]] && [[ $fail -eq 0 ]]; then fail=1; fi
echo "web-test: ${pass} passed, ${fail} failed"
[[ $unit_rc -eq 0 && $types_rc -eq 0 && $e2e_rc -eq 0 ]]

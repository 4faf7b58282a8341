#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo fuzz, libFuzzer) of what the server parses from untrusted bytes
# before it touches any state: socket text frames (`fuzz/fuzz_targets/frame.rs`) and the edge
# validators of REST bodies and frames (`fuzz/fuzz_targets/input.rs`).
#
#   scripts/fuzz.sh [seconds]      # each target for that long (default 60; CI passes 45)
#
# First every input kept under fuzz/regressions/<target>/ is replayed (each counts as a test),
# then the targets are fuzzed side by side, one core each (one test each). A crash fails the
# run and its input is copied into fuzz/regressions/<target>/: fix the bug and commit the input,
# which is replayed from then on. The working corpus and the build live in the cache
# (SPOTTER_FUZZ_CACHE, default ~/.cache/spotter-fuzz), so a later run goes on from where the
# last one stopped; fuzz/seeds/<target>/ seeds it. A cold build takes about 7 minutes on
# 2 cores (the server's whole dependency tree, instrumented), a warm one seconds to a minute.
# Prints `fuzz: N passed, M failed` and exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
CARGO_FUZZ_VERSION=0.13.2
targets=(frame input)
cache="${SPOTTER_FUZZ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spotter-fuzz}"
# cargo fuzz passes nightly-only flags to rustc; the stable toolchain takes them with this.
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
  echo "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install --locked --quiet cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi

# Safe Rust needs no AddressSanitizer (the crate has no `unsafe`); without it the build is
# lighter and each execution about twice as fast. SPOTTER_FUZZ_SANITIZER=address turns it on.
sanitizer="${SPOTTER_FUZZ_SANITIZER:-none}"
target_dir="$cache/target-$sanitizer"
host="$(rustc -vV | sed -n 's/^host: //p')"
echo "==> building the fuzz targets (sanitizer: $sanitizer)"
cargo fuzz build --sanitizer "$sanitizer" --debug-assertions --codegen-units 16 \
  --target-dir "$target_dir" >&2

passed=0
failed=0
work="$(mktemp -d)"
pids=()
# Stops the fuzzers this script started, by pid, however it ends.
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bin_of() { echo "$target_dir/$host/release/$1"; }

# 1. Every kept regression input, one test each.
for t in "${targets[@]}"; do
  regressions="fuzz/regressions/$t"
  mkdir -p "$regressions" "fuzz/seeds/$t" "$cache/corpus/$t" "$work/artifacts-$t"
  echo "==> $t: replaying $regressions"
  for input in "$regressions"/*; do
    [ -f "$input" ] || continue
    if "$(bin_of "$t")" -runs=1 "$input" >"$work/replay.log" 2>&1; then
      passed=$((passed + 1))
    else
      echo "FAILED: $input" >&2
      tail -30 "$work/replay.log" >&2
      failed=$((failed + 1))
    fi
  done
done

# 2. The targets side by side, one core each, one test each. The first corpus folder takes what
#    a run finds; the others only seed it.
echo "==> fuzzing ${targets[*]} for ${seconds}s"
declare -A pid_of
for t in "${targets[@]}"; do
  "$(bin_of "$t")" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts-$t/" \
    "$cache/corpus/$t" "fuzz/seeds/$t" "fuzz/regressions/$t" >"$work/$t.log" 2>&1 &
  pid_of[$t]=$!
  pids+=("$!")
done
for t in "${targets[@]}"; do
  rc=0
  wait "${pid_of[$t]}" || rc=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log" | tail -1)"
  corpus="$(grep -Eo 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$work/$t.log" | tail -1)"
  cov="$(grep -Eo 'cov: [0-9]+' "$work/$t.log" | tail -1)"
  echo "$t: ${execs:-?} executions, ${cov:-cov: ?} edges, ${corpus:-corp: ?}"
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    continue
  fi
  failed=$((failed + 1))
  echo "FAILED: $t (libFuzzer exited $rc)" >&2
  grep -B5 -A40 -m1 -E '^(==[0-9]+==|thread .* panicked|ERROR: libFuzzer)' "$work/$t.log" >&2 ||
    tail -60 "$work/$t.log" >&2
  for crash in "$work/artifacts-$t"/*; do
    [ -f "$crash" ] || continue
    cp "$crash" "fuzz/regressions/$t/"
    echo "kept as a regression case: fuzz/regressions/$t/$(basename "$crash")" >&2
  done
done

echo
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

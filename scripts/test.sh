#!/usr/bin/env bash
# Every test: formatting and lints, the operator's alert rules and dashboard (promtool), the Rust
# unit and integration suites (each integration test runs on SQLite and on PostgreSQL, and
# real-time tests against the real Redis), then the web dashboard's lint, type drift, component
# and browser tests, then Schemathesis against the OpenAPI document and 45 s of cargo fuzz per
# target. Needs PostgreSQL on 127.0.0.1:5432 (user postgres,
# database test) and Redis on 127.0.0.1:6379; fails loudly when they are not there. Starts (and
# stops) moto's S3 server for the media store's S3 tests, installing it from PyPI on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "checking services"
pg_url="${SPOTTER_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  echo "PostgreSQL is not reachable on 127.0.0.1:5432 ($pg_url): the suite needs it" >&2
  exit 1
fi

if [ -f web/package.json ]; then
  step "building the web dashboard"
  bash scripts/web-build.sh
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "the operator's kit: alert rules (promtool check and test), dashboard queries"
bash scripts/ops-test.sh

step "starting an S3-speaking server (moto) for the media store's S3 tests"
SPOTTER_TEST_S3_ENDPOINT="$(bash scripts/s3-server.sh)"
export SPOTTER_TEST_S3_ENDPOINT
trap 'bash scripts/s3-server.sh stop "$SPOTTER_TEST_S3_ENDPOINT"' EXIT

step "cargo test"
cargo test --workspace

if [ -f scripts/web-test.sh ]; then
  step "web tests"
  bash scripts/web-test.sh
fi

step "schema fuzzing (Schemathesis) and cargo fuzz"
bash scripts/schemathesis.sh
bash scripts/fuzz.sh 45

#!/usr/bin/env bash
# The operator's kit: the Prometheus alert rules checked (`promtool check rules`) and
# unit-tested (`promtool test rules`), and every query of the Grafana dashboard parsed by
# promtool too (as recording rules of a scratch file), and the systemd unit (systemd-analyze
# verify, where present). Installs Debian's `prometheus` package
# (for promtool) when promtool is missing. Part of scripts/test.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT/deploy"

if ! command -v promtool >/dev/null; then
  echo "== ops-test: apt-get install prometheus (for promtool)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The package's service is not wanted: promtool is.
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
echo "== ops-test: $(promtool --version 2>&1 | head -1)"

promtool check rules prometheus/spotter-rules.yml
promtool test rules prometheus/spotter-rules.test.yml

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
python3 - grafana/spotter-dashboard.json "$scratch/dashboard-queries.yml" <<'PY'
import json, sys
dashboard = json.load(open(sys.argv[1]))
rules = []
for panel in dashboard["panels"]:
    for target in panel.get("targets", []):
        # Grafana's own variables, as Grafana would fill them in.
        expr = target["expr"].replace("$__rate_interval", "5m").replace("$instance", ".*")
        rules.append({"record": f"dashboard:panel_{panel['id']}_{target['refId']}", "expr": expr})
assert rules, "the dashboard has queries"
# JSON is YAML: promtool reads this as a rule file.
json.dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(sys.argv[2], "w"), indent=1)
print(f"== ops-test: {len(rules)} dashboard queries")
PY
promtool check rules "$scratch/dashboard-queries.yml"

# The systemd unit's directives, where systemd-analyze is there (the binary it starts is
# installed only on a real host: a stand-in takes its place for the check).
if command -v systemd-analyze >/dev/null; then
  sed 's|^ExecStart=/usr/local/bin/spotter|ExecStart=/bin/true|' systemd/spotter.service >"$scratch/spotter.service"
  out="$(systemd-analyze verify "$scratch/spotter.service" 2>&1 || true)"
  if [[ -n "$out" ]]; then
    echo "$out"
    echo "ops-test: systemd-analyze verify found problems in deploy/systemd/spotter.service" >&2
    exit 1
  fi
  echo "== ops-test: systemd unit verified"
fi
echo "ops-test: ok"

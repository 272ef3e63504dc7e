#!/usr/bin/env bash
# Runs the ADL LRS conformance test suite (xAPI 1.0.3) against a freshly started Shiftwell
# in demo mode. Usage: scripts/xapi-conformance.sh SUITE_DIR [PORT]
# The suite is not part of this repository; see docs/conformance.md to install it.
set -euo pipefail
suite=${1:?usage: $0 SUITE_DIR [PORT]}
port=${2:-5103}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.venv/bin"

if [ ! -f "$suite/bin/console_runner.js" ] || [ ! -d "$suite/node_modules" ]; then
  cat >&2 <<MSG
The ADL LRS conformance suite is not installed at $suite.
Install it (Node.js 18+ and npm needed), then run this again:
  git clone https://github.com/adlnet/lrs-conformance-test-suite.git $suite
  (cd $suite && npm install)
or point CONFORMANCE_SUITE=/path/to/suite at an existing copy: make conformance CONFORMANCE_SUITE=...
MSG
  exit 2
fi

work=$(mktemp -d /tmp/shiftwell-conformance.XXXXXX)
server_pid=""
cleanup() {
  local rc=$?
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

export SHIFTWELL_ENV=demo
export SHIFTWELL_INSTANCE_PATH="$work/instance"
export SHIFTWELL_DATABASE_URL=${CONFORMANCE_DATABASE_URL:-sqlite:///$work/instance/shiftwell.sqlite}
export SHIFTWELL_BASE_URL="http://127.0.0.1:$port"
"$bin/shiftwell" db upgrade >/dev/null
"$bin/shiftwell" demo load >/dev/null
credentials=$("$bin/shiftwell" xapi add-credentials --tenant demo-hospital --label "ADL conformance suite")
key=$(printf '%s' "$credentials" | "$bin/python" -c 'import json,sys; print(json.load(sys.stdin)["key"])')
secret=$(printf '%s' "$credentials" | "$bin/python" -c 'import json,sys; print(json.load(sys.stdin)["secret"])')

"$bin/shiftwell" run --host 127.0.0.1 --port "$port" --no-reload >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "ADL LRS conformance suite, xAPI 1.0.3, against http://127.0.0.1:$port/xapi ($started)"
(cd "$suite" && node bin/console_runner.js -e "http://127.0.0.1:$port/xapi" -a -u "$key" -p "$secret" \
   -x 1.0.3 -z) >"$work/suite.log" 2>&1 || true
# The runner's exit code is its failure count modulo 256: read its last summary line.
summary=$(grep -E '^\{.*"total"' "$work/suite.log" | tail -n1)
grep -E '^Full run log' "$work/suite.log" || true
echo "$summary"
"$bin/python" - "$summary" <<'PY'
import json, sys
summary = json.loads(sys.argv[1] or "{}")
total, passed, failed = summary.get("total"), summary.get("passed"), summary.get("failed")
print(f"{passed} passed, {failed} failed (of {total})")
sys.exit(0 if total and failed == 0 else 1)
PY

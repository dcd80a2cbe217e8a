#!/usr/bin/env bash
# The metrics scrape: starts the binary, makes requests, scrapes /metrics and reads it with the Prometheus project's
# own parser (prometheus-client, pinned in .ci/metrics/requirements.txt), checking every family the README lists.
#
#   bash .ci/metrics.sh     # SERVICE_BIN names a built binary; otherwise the script builds one
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# shellcheck source=.ci/common.sh
. .ci/common.sh

python_requirements .ci/metrics/requirements.txt
service_binary

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$work" && AUTHTOKEN_BIND=127.0.0.1:0 AUTHTOKEN_DATABASE_URL="sqlite://$work/authtoken.sqlite3" \
  AUTHTOKEN_REGISTRATION_ENABLED=true AUTHTOKEN_THROTTLE_LOGIN_FAILURES_IP_ACCOUNT=2/1h \
  AUTHTOKEN_PASSWORD_HASH_MEMORY_KIB=1024 AUTHTOKEN_PASSWORD_HASH_ITERATIONS=1 AUTHTOKEN_LOG=info \
  exec "$bin" serve 2>"$work/server.log") &
server=$!
await_service "$work/server.log" "$server"
"$venv/bin/python" .ci/metrics/check.py "$url"

#!/usr/bin/env bash
# Clients generated from the OpenAPI document the binary serves, run against the binary: a Python client from
# openapi-python-client and a TypeScript one from openapi-typescript with openapi-fetch. Each flow (clients/python,
# clients/typescript) registers, logs in, reads /auth/me/ with the Token prefix, logs out, and parses the 400, 401,
# 415 and 429 answers into the documented models. The generators are pinned here and in
# clients/typescript/package-lock.json; the generated code lives in a temporary directory and is never committed.
#
#   bash .ci/clients.sh        # SERVICE_BIN names a built binary; otherwise the script builds one
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# shellcheck source=.ci/common.sh
. .ci/common.sh

python_generator=0.29.1
python_tool openapi-python-client "$python_generator" openapi-python-client
service_binary

work=$(mktemp -d)
servers=()
cleanup() {
  for server in "${servers[@]}"; do kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Starts a service of its own for one client, with registration on and a low limit on wrong passwords so that the
# flow meets a 429; sets `url`.
start() {
  local dir="$work/$1"
  mkdir -p "$dir"
  (cd "$dir" && AUTHTOKEN_BIND=127.0.0.1:0 \
    AUTHTOKEN_DATABASE_URL="sqlite://$dir/authtoken.sqlite3" \
    AUTHTOKEN_REGISTRATION_ENABLED=true \
    AUTHTOKEN_THROTTLE_LOGIN_FAILURES_IP_ACCOUNT=3/1h \
    AUTHTOKEN_PASSWORD_HASH_MEMORY_KIB=1024 \
    AUTHTOKEN_PASSWORD_HASH_ITERATIONS=1 \
    AUTHTOKEN_LOG=info \
    exec "$bin" serve 2>"$dir/server.log") &
  servers+=($!)
  await_service "$dir/server.log" "${servers[-1]}"
}

echo "== Python: openapi-python-client $python_generator"
start python
curl -sSf "$url/openapi.json" -o "$work/python/openapi.json"
"$venv/bin/openapi-python-client" generate --path "$work/python/openapi.json" --meta none \
  --output-path "$work/python/authtoken_client" >"$work/python/generate.log" 2>&1 || {
  cat "$work/python/generate.log" >&2
  exit 1
}
# Every generated module must import, not only those the flow uses.
PYTHONPATH="$work/python" "$venv/bin/python" -c '
import importlib, pkgutil, authtoken_client
for module in pkgutil.walk_packages(authtoken_client.__path__, "authtoken_client."):
    importlib.import_module(module.name)
'
AUTHTOKEN_URL="$url" PYTHONPATH="$work/python" "$venv/bin/python" "$root/clients/python/flow.py"

echo "== TypeScript: openapi-typescript and openapi-fetch, as clients/typescript/package-lock.json pins them"
start typescript
ts="$work/typescript"
cp "$root/clients/typescript/"{package.json,package-lock.json,tsconfig.json,flow.ts} "$ts/"
(cd "$ts" && npm ci --no-audit --no-fund --loglevel=error)
curl -sSf "$url/openapi.json" -o "$ts/openapi.json"
(cd "$ts" && npx --no-install openapi-typescript openapi.json --output schema.d.ts && npx --no-install tsc -p .)
AUTHTOKEN_URL="$url" node "$ts/out/flow.js"

#!/usr/bin/env bash
# Schemathesis against the real binary: every operation of the served OpenAPI document, with all checks, so that the
# service answers no status the document does not list, no body or header the document does not describe, and takes
# what the document says it takes. Any failure fails the script.
#
#   bash .ci/schemathesis.sh                      # the CI run: a few dozen examples per operation
#   ST_EXAMPLES=1000 bash .ci/schemathesis.sh --max-time 1800   # a long run; extra arguments go to `st run`
#
# SERVICE_BIN names a binary already built (CI passes the one `cargo test --workspace` built); otherwise the script
# builds one. The service runs on a free loopback port over a throwaway SQLite file, with registration and email
# confirmation on and mail dropped as files, so that every route the document can list is tested.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# shellcheck source=.ci/common.sh
. .ci/common.sh

examples="${ST_EXAMPLES:-25}"
python_tool schemathesis 4.32.5 st
service_binary

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cd "$work"
AUTHTOKEN_BIND=127.0.0.1:0 \
AUTHTOKEN_DATABASE_URL="sqlite://$work/authtoken.sqlite3" \
AUTHTOKEN_REGISTRATION_ENABLED=true \
AUTHTOKEN_REGISTRATION_EMAIL_CONFIRM=true \
AUTHTOKEN_PASSWORD_RESET_ENABLED=true \
AUTHTOKEN_MAIL_URL="file://$work/mail" \
AUTHTOKEN_LOG=info \
  "$bin" serve 2>"$work/server.log" &
server=$!
await_service "$work/server.log" "$server"
echo "service at $url"

# One user, and a token for each authenticated run, all minted before any run: the runs re-enter wrong passwords,
# which the throttles count as failed logins of the user, so a login after them would be throttled.
curl -sSf -X POST "$url/auth/register/" -H 'Content-Type: application/json' \
  -d '{"username":"schemathesis","password":"correct horse","email":"schemathesis@example.org"}' >/dev/null
token() {
  curl -sSf -X POST "$url/auth/login/" -H 'Content-Type: application/json' \
    -d '{"username":"schemathesis","password":"correct horse"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

st() {
  PYTHONPATH="$root/.ci" SCHEMATHESIS_HOOKS=schemathesis_hooks "$venv/bin/st" --config-file "$root/.ci/schemathesis.toml" \
    run "$url/openapi.json" --checks all --max-examples "$examples" \
    --generation-database none --no-color "$@"
}

# Logout revokes the token it presents, and revoking a session by the id that listing the sessions gives can revoke
# the token of the run too, so each runs after the others, on a token of its own.
first=$(token)
second=$(token)
third=$(token)
echo "== every operation without a token"
st "${@}"
echo "== every operation but logout and revoke_session, with a token"
st -H "Authorization: Token $first" --exclude-operation-id logout --exclude-operation-id revoke_session "${@}"
echo "== revoke_session"
st -H "Authorization: Token $second" --include-operation-id revoke_session "${@}"
echo "== logout"
st -H "Authorization: Token $third" --include-operation-id logout "${@}"

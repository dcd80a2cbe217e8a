#!/usr/bin/env bash
# The import from a real Django deployment: .ci/django/make_db.py builds a Django database with Django 4.2.30 and
# django-rest-authtoken 2.1.4 (users registered and logged in through the package's API, passwords from Django's
# PBKDF2, bcrypt and Argon2 hashers), `authtoken import django` imports it, and .ci/django/check.py shows through the
# running service that Django's tokens and passwords work, and that each hash is Argon2id after its first login.
# Once with both databases on SQLite, once with both on PostgreSQL.
#
#   bash .ci/django-import.sh     # SERVICE_BIN names a built binary; AUTHTOKEN_TEST_POSTGRES_URL a PostgreSQL
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# shellcheck source=.ci/common.sh
. .ci/common.sh

python_requirements .ci/django/requirements.txt
python="$venv/bin/python"
service_binary
postgres="${AUTHTOKEN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
admin_url="${postgres%/*}/postgres"

work=$(mktemp -d)
server=""
databases=()
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  for db in "${databases[@]}"; do psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The settings of both the import and the service: links are imported only with email confirmation on.
export AUTHTOKEN_REGISTRATION_ENABLED=true AUTHTOKEN_REGISTRATION_EMAIL_CONFIRM=true
export AUTHTOKEN_MAIL_URL="file://$work/mail" AUTHTOKEN_LOG=warn

# Runs the import with the given arguments; its stdout and stderr go to `$work/out` and `$work/err`, and its exit
# status to `status`.
import() {
  status=0
  "$bin" import django "$@" >"$work/out" 2>"$work/err" || status=$?
  echo "--- authtoken import django $* (exit $status)"
  cat "$work/out" "$work/err"
}

expect() {
  if ! grep -qF -- "$1" "$work/$2"; then
    echo "expected \`$1\` in the import's ${2/out/stdout}" >&2
    exit 1
  fi
}

# One round: a Django database at `$1` imported into an authtoken database at `$2`.
round() {
  local django=$1 target=$2
  "$python" .ci/django/make_db.py "$django" "$work/facts.json"
  local users
  users=$("$python" -c "import json; print(json.load(open('$work/facts.json'))['user_count'])")
  export AUTHTOKEN_DATABASE_URL="$target"

  import --from "$django" --dry-run
  expect "would import $((users - 1)) users, 8 sessions and 1 confirmation link" out
  expect "dry run: nothing was written" out
  expect "not imported: user" err
  expect "(mallory smith): the username is not valid" err
  [ "$status" -ne 0 ] || { echo "a run with a bad row must end non-zero" >&2; exit 1; }
  [ "$("$bin" users list | grep -c example.org || true)" -eq 0 ] || { echo "the dry run wrote users" >&2; exit 1; }

  import --from "$django"
  expect "imported $((users - 1)) users, 8 sessions and 1 confirmation link" out
  expect "left out as expired: 1 session" out
  expect "1 user had a password hash of a kind authtoken cannot check" out

  import --from "$django"
  expect "nothing new to import: $((users - 1)) users are there from an earlier import" out
  if grep -q "left out\|cannot check" "$work/out"; then echo "the second run counted again" >&2; exit 1; fi

  (cd "$work" && AUTHTOKEN_BIND=127.0.0.1:0 AUTHTOKEN_LOG=info exec "$bin" serve 2>"$work/server.log") &
  server=$!
  await_service "$work/server.log" "$server"
  "$python" .ci/django/check.py "$url" "$work/facts.json" "$target"
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=""
}

echo "== Django on SQLite into authtoken on SQLite"
round "sqlite://$work/django.sqlite3" "sqlite://$work/authtoken.sqlite3"

echo "== Django on PostgreSQL into authtoken on PostgreSQL"
suffix="$$_$(date +%s)"
databases=("django_import_$suffix" "authtoken_import_$suffix")
for db in "${databases[@]}"; do psql "$admin_url" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $db"; done
round "${postgres%/*}/django_import_$suffix" "${postgres%/*}/authtoken_import_$suffix"
echo "the import from Django works on SQLite and PostgreSQL"

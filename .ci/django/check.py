"""Checks an authtoken that imported the database of make_db.py, through its HTTP API and its database.

    python check.py SERVICE_URL FACTS_JSON AUTHTOKEN_DATABASE_URL

Django's live tokens authenticate, its logged-out, expired and inactive users' tokens do not, Django's passwords log
in (and the stored hash is Argon2id afterwards, not before), the MD5 user cannot log in, and the pending link
confirms.
"""

import json
import sqlite3
import sys
import urllib.error
import urllib.request

service, facts_path, database = sys.argv[1], sys.argv[2], sys.argv[3]
with open(facts_path) as f:
    facts = json.load(f)
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def call(method, path, body=None, token=None):
    request = urllib.request.Request(service + path, method=method)
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


def stored_hash(username):
    if database.startswith("sqlite://"):
        with sqlite3.connect(database[len("sqlite://"):]) as db:
            row = db.execute("SELECT password_hash FROM users WHERE username = ?", (username,)).fetchone()
    else:
        import psycopg

        with psycopg.connect(database) as db:
            row = db.execute("SELECT password_hash FROM users WHERE username = %s", (username,)).fetchone()
    return row[0]


for name, user in facts["users"].items():
    for token in user["tokens"]:
        status, body = call("GET", "/auth/me/", token=token)
        check(status == 200 and json.loads(body).get("username") == name, f"{name}'s Django token authenticates as {name}")
    for token in user["logged_out"]:
        status, _ = call("GET", "/auth/me/", token=token)
        check(status == 401, f"{name}'s token logged out in Django stays logged out")

for what in ["expired_token", "inactive_token"]:
    status, _ = call("GET", "/auth/me/", token=facts[what])
    check(status == 401, f"the {what.replace('_', ' ')} is refused")

for name, user in facts["users"].items():
    before = stored_hash(name)
    status, body = call("POST", "/auth/login/", {"username": name, "password": user["password"]})
    after = stored_hash(name)
    if user["hasher"] == "md5":
        check(before == "!", f"{name}'s MD5 hash was imported as no usable password")
        check(status != 200, f"{name} (MD5 hash) cannot log in")
        continue
    if name == "frank":
        check(status != 200, "frank (inactive) cannot log in")
        continue
    check(before.startswith(user["hasher"] + "$"), f"{name}'s Django hash ({user['hasher']}) was imported as it was")
    check(status == 200 and "token" in json.loads(body), f"{name} logs in with the Django password")
    check(after.startswith("$argon2id$"), f"{name}'s stored hash is Argon2id after the login")
    status, _ = call("POST", "/auth/login/", {"username": name, "password": user["password"]})
    check(status == 200, f"{name} logs in again, against the Argon2id hash")
    status, _ = call("POST", "/auth/login/", {"username": name, "password": user["password"] + "!"})
    check(status != 200, f"{name}'s wrong password is refused")

opener = urllib.request.build_opener(NoRedirect)
try:
    opener.open(service + f"/auth/register/confirm/{facts['link']}/")
    status = 200
except urllib.error.HTTPError as answer:
    status = answer.code
check(status == 302, "heidi's pending Django confirmation link confirms")

# A registration after the import gets an id of its own (PostgreSQL's sequence was moved past the imported ids).
status, body = call("POST", "/auth/register/", {"username": "newcomer", "password": "a new password", "email": "new@example.org"})
check(status == 201, f"a new user registers after the import ({status} {body[:200]!r})")

if failures:
    print(f"{len(failures)} checks failed")
    sys.exit(1)
print("every check passed")

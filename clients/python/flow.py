"""The flow of a client that openapi-python-client generated from the document the binary serves.

It registers, logs in, reads /auth/me/ with `AuthenticatedClient(token=..., prefix="Token")` and logs out, and checks
that each error response parses into the model the document gives it: 400 field errors, 401 detail, 415 and 429.
`.ci/clients.sh` generates the client into a temporary directory and runs this with `AUTHTOKEN_URL` set.
"""

import os
import sys

from authtoken_client import AuthenticatedClient, Client
from authtoken_client.api.registration import register
from authtoken_client.api.sessions import login, logout, me
from authtoken_client.models import ErrorBody, LoginBody, LoginFields, RegisterErrors, RegisterFields, User

BASE = os.environ["AUTHTOKEN_URL"]
NAME = "python_client"
PASSWORD = "correct horse"


def check(condition, what):
    if not condition:
        sys.exit(f"python client: {what}")


client = Client(base_url=BASE)

created = register.sync_detailed(client=client, body=RegisterFields(username=NAME, password=PASSWORD))
check(created.status_code == 201, f"register answered {created.status_code}: {created.content!r}")

again = register.sync_detailed(client=client, body=RegisterFields(username=NAME, password=PASSWORD))
check(again.status_code == 400 and isinstance(again.parsed, RegisterErrors), f"a second register: {again!r}")
check(again.parsed.username == ["A user with that username already exists."], f"its field errors: {again.parsed!r}")

short = register.sync_detailed(client=client, body=RegisterFields(username="bad name", password="short"))
check(isinstance(short.parsed, RegisterErrors) and short.parsed.password == ["password too short"], repr(short))

logged_in = login.sync_detailed(client=client, body=LoginFields(username=NAME, password=PASSWORD))
check(logged_in.status_code == 200 and isinstance(logged_in.parsed, LoginBody), f"login: {logged_in!r}")
token = logged_in.parsed.token
check(len(token) == 64, f"a token of 64 characters: {token!r}")

authenticated = AuthenticatedClient(base_url=BASE, token=token, prefix="Token")
user = me.sync(client=authenticated)
check(isinstance(user, User) and user.username == NAME, f"/auth/me/: {user!r}")

logged_out = logout.sync_detailed(client=authenticated)
check(logged_out.status_code == 204, f"logout: {logged_out!r}")

refused = me.sync_detailed(client=authenticated)
check(refused.status_code == 401 and isinstance(refused.parsed, ErrorBody), f"/auth/me/ after logout: {refused!r}")
check(refused.parsed.detail == "invalid auth token", f"its detail: {refused.parsed!r}")

# The generated client sends JSON only: a text body goes through its own HTTP client, and its parser reads the 415.
raw = client.get_httpx_client().post("/auth/login", content=b"username=x", headers={"Content-Type": "text/plain"})
unsupported = login._build_response(client=client, response=raw)
check(unsupported.status_code == 415 and isinstance(unsupported.parsed, ErrorBody), f"415: {unsupported!r}")

# The server runs with throttle_login_failures_ip_account = 3/1h: the fourth wrong password is throttled.
for _ in range(3):
    wrong = login.sync_detailed(client=client, body=LoginFields(username=NAME, password="wrong password"))
    check(wrong.status_code == 401 and wrong.parsed == "invalid credentials", f"a wrong password: {wrong!r}")
throttled = login.sync_detailed(client=client, body=LoginFields(username=NAME, password="wrong password"))
check(throttled.status_code == 429 and isinstance(throttled.parsed, ErrorBody), f"429: {throttled!r}")
check(throttled.parsed.detail.startswith("Request was throttled."), f"its detail: {throttled.parsed!r}")
check(throttled.headers.get("retry-after", "").isdigit(), f"its Retry-After: {throttled.headers!r}")

print("python client: register, login, /auth/me/ with the Token prefix and logout work; 400, 401, 415 and 429 parse")

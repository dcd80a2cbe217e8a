"""Scrapes /metrics of a running authtoken and reads it with the Prometheus project's own parser.

    python check.py SERVICE_URL

Registers a user, logs in once rightly and three times wrongly (the last is throttled), then checks that every
metric the README lists parses, has its type, and counts what was done.
"""

import json
import sys
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

service = sys.argv[1]


def post(path, body):
    request = urllib.request.Request(service + path, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status
    except urllib.error.HTTPError as answer:
        return answer.code


jane = {"username": "jane", "password": "correct horse"}
assert post("/auth/register/", jane) == 201
assert post("/auth/login/", jane) == 200
statuses = [post("/auth/login/", {"username": "jane", "password": "wrong horse"}) for _ in range(3)]
assert statuses == [401, 401, 429], statuses

with urllib.request.urlopen(service + "/metrics") as answer:
    assert answer.headers["Content-Type"] == "text/plain; version=0.0.4", answer.headers["Content-Type"]
    text = answer.read().decode()

families = {family.name: family for family in text_string_to_metric_families(text)}
expected_types = {
    "authtoken_http_requests": "counter",
    "authtoken_http_request_duration_seconds": "histogram",
    "authtoken_logins": "counter",
    "authtoken_throttled_requests": "counter",
    "authtoken_password_hash_queue_wait_seconds": "histogram",
    "authtoken_outbox_mail": "gauge",
    "authtoken_outbox_oldest_pending_age_seconds": "gauge",
    "authtoken_database_connections": "gauge",
    "authtoken_database_max_connections": "gauge",
    "authtoken_database_up": "gauge",
}
for name, kind in expected_types.items():
    assert name in families, f"{name} is missing; found {sorted(families)}"
    assert families[name].type == kind, f"{name} is a {families[name].type}, not a {kind}"


def value(family, sample_name, **labels):
    for sample in families[family].samples:
        if sample.name == sample_name and all(sample.labels.get(k) == v for k, v in labels.items()):
            return sample.value
    raise AssertionError(f"no sample {sample_name} {labels}")


assert value("authtoken_logins", "authtoken_logins_total", outcome="success") == 1
assert value("authtoken_logins", "authtoken_logins_total", outcome="invalid_credentials") == 2
assert value("authtoken_logins", "authtoken_logins_total", outcome="throttled") == 1
assert value("authtoken_throttled_requests", "authtoken_throttled_requests_total", route="/auth/login") == 1
assert value("authtoken_http_requests", "authtoken_http_requests_total", method="POST", route="/auth/register", status="201") == 1
assert value("authtoken_password_hash_queue_wait_seconds", "authtoken_password_hash_queue_wait_seconds_count") == 4
assert value("authtoken_database_up", "authtoken_database_up") == 1
print(f"the scrape parses: {len(families)} families, every one the README lists, with the counts of this run")

"""Builds a Django deployment's database with the real Django and django-rest-authtoken 2.1.4, for the import test.

    python make_db.py DATABASE_URL FACTS_JSON

DATABASE_URL is `sqlite:////absolute/path.sqlite3` or `postgres://user@host:port/db` (an empty database). Users
register and log in through the package's own HTTP API (Django's test client, no server), with Django's default
PBKDF2 hasher; others get their passwords from Django's other hashers. FACTS_JSON receives what the check needs: each
user's password, the tokens Django issued (live, logged out, expired) and a pending confirmation link.
"""

import json
import sys
from base64 import urlsafe_b64encode
from datetime import timedelta
from urllib.parse import urlparse

import django
from django.conf import settings


def database(url):
    if url.startswith("sqlite://"):
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": url[len("sqlite://"):]}
    parts = urlparse(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/"),
        "USER": parts.username or "",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or 5432),
    }


url, facts_path = sys.argv[1], sys.argv[2]
settings.configure(
    SECRET_KEY="the import test",
    ALLOWED_HOSTS=["testserver"],
    USE_TZ=True,
    DATABASES={"default": database(url)},
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework", "rest_authtoken"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    REGISTRATION_ENABLED=True,
    # The first is the default that registration uses; the others are there so that make_password can use them.
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ],
    REST_FRAMEWORK={"DEFAULT_AUTHENTICATION_CLASSES": ["rest_authtoken.auth.AuthTokenAuthentication"]},
)
django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_authtoken.models import AuthToken, EmailConfirmationToken  # noqa: E402

urlpatterns = [path("auth/", include("rest_authtoken.urls"))]

call_command("migrate", verbosity=0)
client = Client()


def register(username, password, email):
    answer = client.post(
        "/auth/register/", {"username": username, "password": password, "email": email}, content_type="application/json"
    )
    assert answer.status_code == 201, (answer.status_code, answer.content)


def login(username, password):
    answer = client.post("/auth/login/", {"username": username, "password": password}, content_type="application/json")
    assert answer.status_code == 200, (answer.status_code, answer.content)
    token = answer.json()["token"]
    # Django's token authenticates in Django: the check then shows it authenticates in authtoken too.
    return token


def logout(token):
    answer = client.delete("/auth/logout/", HTTP_AUTHORIZATION=f"Token {token}")
    assert answer.status_code in (200, 204), (answer.status_code, answer.content)


facts = {"users": {}}

# Registered and logged in through the package's API, with Django's default hasher (PBKDF2-SHA256, 600,000).
for name, password in [("alice", "alice's password"), ("zoë", "zoë's password")]:
    register(name, password, f"{name}@example.org")
    tokens = [login(name, password), login(name, password)]
    facts["users"][name] = {"password": password, "hasher": "pbkdf2_sha256", "tokens": tokens, "logged_out": []}
# One of alice's sessions logged out in Django: it must stay logged out.
gone = login("alice", "alice's password")
logout(gone)
facts["users"]["alice"]["logged_out"].append(gone)

# Passwords from Django's other hashers, each with a login through the API. Django replaces a hash that is not of
# its first hasher at a login, as authtoken does, so the hash is set again after it.
for name, hasher in [("bob", "bcrypt_sha256"), ("carol", "argon2"), ("dave", "pbkdf2_sha1")]:
    password = f"{name}'s password"
    User.objects.create(username=name, email=f"{name}@example.org", password=make_password(password, hasher=hasher))
    facts["users"][name] = {"password": password, "hasher": hasher, "tokens": [login(name, password)], "logged_out": []}
    User.objects.filter(username=name).update(password=make_password(password, hasher=hasher))

# A hash authtoken cannot check (unsalted MD5): imported without a usable password.
User.objects.create(username="erin", password=make_password("erin's password", hasher="md5"))
facts["users"]["erin"] = {"password": "erin's password", "hasher": "md5", "tokens": [], "logged_out": []}

# An inactive user with a session made while active: neither the password nor the token works after the import.
frank = User.objects.create(username="frank", password=make_password("frank's password"))
frank_token = login("frank", "frank's password")
frank.is_active = False
frank.save()
facts["users"]["frank"] = {"password": "frank's password", "hasher": "pbkdf2_sha256", "tokens": [], "logged_out": []}
facts["inactive_token"] = frank_token

# A session older than AUTH_TOKEN_VALIDITY (one day): expired in Django, left out of the import.
User.objects.create(username="grace", password=make_password("grace's password"))
old = login("grace", "grace's password")
AuthToken.objects.filter(user__username="grace").update(created=timezone.now() - timedelta(days=2))
facts["users"]["grace"] = {"password": "grace's password", "hasher": "pbkdf2_sha256", "tokens": [], "logged_out": []}
facts["expired_token"] = old

# A pending confirmation link, made by the package as send_confirmation_email makes it.
heidi = User.objects.create(username="heidi", email="heidi@example.org", password=make_password("heidi's password"))
facts["link"] = urlsafe_b64encode(EmailConfirmationToken.create_token_for_user(heidi)).decode()
facts["users"]["heidi"] = {"password": "heidi's password", "hasher": "pbkdf2_sha256", "tokens": [], "logged_out": []}

# A row Django's forms would refuse but its ORM wrote: the import reports it and goes on.
User.objects.create(username="mallory smith", password=make_password("x"))
facts["bad_user"] = "mallory smith"

facts["user_count"] = User.objects.count()
with open(facts_path, "w") as out:
    json.dump(facts, out, ensure_ascii=False, indent=1)
print(f"made {facts['user_count']} users in {url.split('@')[-1]}")

"""Schemathesis hooks for `.ci/schemathesis.sh`.

A username can be registered once, and registering it again answers 400 `A user with that username already exists.`
(the wire contract). Schemathesis draws the same short names again and again, so a valid registration that reuses a
name is given a fresh one of the same shape.

A multipart part header cannot carry ESC or DEL: the client library percent-encodes the other control characters in a
field name, as RFC 7578 says, but sends these two as they are, and the service then answers 400 for a malformed body.
Such extra fields are left out of multipart bodies, since no such body is a valid serialization of the drawn object.
Every other request goes out as drawn.
"""

import itertools
import threading

import schemathesis

# Unicode's White_Space, which the service trims around a username.
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
MAX_CHARS = 150

# The script registers this one before the run.
_seen = {"schemathesis"}
_counter = itertools.count()
_lock = threading.Lock()


# Characters a multipart part header cannot carry once the client library has encoded the field name.
UNSENDABLE_IN_PART_HEADERS = ("\x1b", "\x7f")


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.media_type == "multipart/form-data" and isinstance(case.body, dict):
        for key in [key for key in case.body if any(c in key for c in UNSENDABLE_IN_PART_HEADERS)]:
            del case.body[key]
    if case.operation.path != "/auth/register" or case.meta is None:
        return
    if not case.meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return
    username = case.body.get("username")
    if not isinstance(username, str):
        return
    name = username.strip(WHITE_SPACE)
    with _lock:
        if name in _seen:
            suffix = f".{next(_counter)}"
            name = name[: MAX_CHARS - len(suffix)] + suffix
            start = len(username) - len(username.lstrip(WHITE_SPACE))
            end = len(username.rstrip(WHITE_SPACE))
            case.body["username"] = username[:start] + name + username[end:]
        _seen.add(name)

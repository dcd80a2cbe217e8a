"""Schemathesis hooks for `.ci/schemathesis.sh`.

A username can be registered once, and registering it again answers 400 `A user with that username already exists.`
(the wire contract). Schemathesis draws the same short names again and again, so a valid registration that reuses a
name is given a fresh one of the same shape.

A multipart part header cannot carry control characters other than tab (the header grammar of RFC 9110 section 5.5;
RFC 7578 has clients percent-encode what a name cannot carry). Schemathesis writes them raw into a part's
`Content-Disposition`, and the service then answers 400 for a malformed body; such a body is no valid serialization
of the drawn object, so these extra fields are left out of multipart bodies.
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


# Characters a multipart part header cannot carry: the C0 controls but tab, and DEL.
UNSENDABLE_IN_PART_HEADERS = frozenset(chr(c) for c in [*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F])


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

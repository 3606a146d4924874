"""Browser sessions: a personal key is exchanged once for a signed, expiring session token that
travels in an ``HttpOnly; SameSite=Strict`` cookie, so pages and their event streams need no key
in a URL or in script-readable storage.

Token: ``base64url(claims JSON) "." base64url(HMAC-SHA256(key, claims))``. The claims name the
subject, whether it is a person or a service token, a stamp of the credential (a rotated key or
a changed token no longer matches) and the expiry. Pure: the time is a parameter.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Literal

COOKIE = "hotline_session"
# A page sends this header with every state change it makes on its session cookie: its value is
# handed to the page in the body of ``GET /session`` (which other sites cannot read: no CORS).
CSRF_HEADER = "x-hotline-csrf"
MAX_TOKEN_LENGTH = 1024

Kind = Literal["person", "service"]


@dataclass(frozen=True, slots=True)
class SessionClaims:
    subject: str  # user id (person) or token name (service)
    kind: Kind
    stamp: str  # key id of the person's current key, or the service token's fingerprint
    expires_at: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, b"hotline-session:" + body.encode(), hashlib.sha256).digest())


def issue(key: bytes, claims: SessionClaims) -> str:
    body = _b64(
        json.dumps(
            {"s": claims.subject, "k": claims.kind, "p": claims.stamp, "e": claims.expires_at},
            separators=(",", ":"),
        ).encode()
    )
    return f"{body}.{_mac(key, body)}"


def csrf_token(key: bytes, subject: str, kind: Kind, stamp: str) -> str:
    """The value a signed-in page must send in ``CSRF_HEADER`` to change state with its cookie.

    Bound to the person and their current credential (so it survives renewals and dies with a
    rotation or revocation), and useless without the cookie itself."""
    return _b64(
        hmac.new(key, f"hotline-csrf:{kind}:{subject}:{stamp}".encode(), hashlib.sha256).digest()
    )


def verify(key: bytes, token: str, now: float) -> SessionClaims | None:
    """The claims of an authentic, unexpired token; None for anything else."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    body, _, mac = token.partition(".")
    if not hmac.compare_digest(_mac(key, body).encode(), mac.encode()):
        return None
    try:
        data = json.loads(_unb64(body))
        claims = SessionClaims(str(data["s"]), data["k"], str(data["p"]), float(data["e"]))
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    if claims.kind not in ("person", "service") or now >= claims.expires_at:
        return None
    return claims

"""AMI login: plain and MD5-challenge, for both sides.

Client helpers return ``(action, headers)`` ready for ``ClientConnection.send_action(*...)``.
MD5 login (recorded in ami_login_and_actions.txt, section 2): ``Action: Challenge`` with
``AuthType: MD5`` answers ``Challenge: <digits>``; the Login then carries
``Key: md5hex(challenge + secret)`` instead of the secret, so the secret never crosses the wire.
``Events: off`` is sent only when events are not wanted: the recorded default login has no
``Events`` header and then gets every event the user's ``read=`` permits.

Server side (main/manager.c ``action_challenge``: the challenge is ``ast_random()`` printed with
``%ld`` and kept for the session; ``authenticate``: the user name is looked up case-insensitively,
``AuthType: MD5`` compares ``Key`` with the MD5 of challenge + secret, otherwise ``Secret`` is
compared with the configured secret).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from acd.asterisk.ami.message import Message

ActionRequest = tuple[str, tuple[tuple[str, str], ...]]

AUTH_ACCEPTED = "Authentication accepted"
AUTH_FAILED = "Authentication failed"


def md5_key(challenge: str, secret: str) -> str:
    """The ``Key`` of an MD5 login: lower-case hex MD5 of challenge followed by secret."""
    return hashlib.md5((challenge + secret).encode("utf-8"), usedforsecurity=False).hexdigest()


def _events_header(events: bool) -> tuple[tuple[str, str], ...]:
    return () if events else (("Events", "off"),)


def login(username: str, secret: str, *, events: bool = True) -> ActionRequest:
    """Plain-text login (as in the recorded session 3)."""
    return ("Login", (("Username", username), ("Secret", secret), *_events_header(events)))


def challenge() -> ActionRequest:
    return ("Challenge", (("AuthType", "MD5"),))


def login_md5(username: str, secret: str, challenge: str, *, events: bool = True) -> ActionRequest:
    """MD5 login answering ``challenge`` (the ``Challenge`` header of the Challenge response)."""
    key = md5_key(challenge, secret)
    return (
        "Login",
        (("AuthType", "MD5"), ("Username", username), ("Key", key), *_events_header(events)),
    )


def new_challenge(random_value: int) -> str:
    """Server side: the challenge text for a random number (the caller owns randomness)."""
    return str(abs(random_value))


def check_login(action: Message, secrets: Mapping[str, str], challenge: str | None) -> str | None:
    """Server side: the user name if ``action`` (a Login) authenticates, else ``None``.

    ``secrets`` maps user name to secret; ``challenge`` is the one this session handed out
    (``None`` if the client never asked for one, which makes an MD5 login fail).
    """
    wanted = (action.get("Username") or "").lower()
    user = next((name for name in secrets if name.lower() == wanted), None)
    if user is None:
        return None
    secret = secrets[user]
    if (action.get("AuthType") or "").lower() == "md5":
        key = action.get("Key") or ""
        if not challenge or not key:
            return None
        ok = _same(key, md5_key(challenge, secret))
    else:
        ok = _same(action.get("Secret") or "", secret)
    return user if ok else None


def _same(given: str, expected: str) -> bool:
    # Constant time; bytes because compare_digest rejects non-ASCII str.
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))

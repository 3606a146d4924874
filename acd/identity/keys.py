"""Personal API keys: ``hlk_<key_id>_<secret>``.

``key_id`` (12 hex digits) is public and finds the user's row; the secret (256 random bits,
base64url) is kept only as its SHA-256. A random secret that long needs no slow password hash:
nobody can guess it, so a stolen hash gives nothing to brute-force. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

PREFIX = "hlk"
KEY_ID_HEX = 12
SECRET_BYTES = 32
MAX_KEY_LENGTH = 128  # anything longer is not one of ours; never hashed


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: str  # shown once to the person, never stored
    key_id: str
    key_sha256: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key() -> IssuedKey:
    key_id = secrets.token_hex(KEY_ID_HEX // 2)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return IssuedKey(f"{PREFIX}_{key_id}_{secret}", key_id, hash_secret(secret))


def split_key(presented: str) -> tuple[str, str] | None:
    """(key_id, secret) of something shaped like a personal key, else None."""
    if len(presented) > MAX_KEY_LENGTH:
        return None
    prefix, _, rest = presented.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or len(key_id) != KEY_ID_HEX or not secret:
        return None
    if any(c not in "0123456789abcdef" for c in key_id):
        return None
    return key_id, secret


def secret_matches(secret: str, key_sha256: str) -> bool:
    return hmac.compare_digest(hash_secret(secret).encode(), key_sha256.encode())


def fingerprint(token: str) -> str:
    """A short, non-reversible stamp of a service token (its sessions end when it changes)."""
    return hashlib.sha256(b"hotline-token:" + token.encode()).hexdigest()[:16]

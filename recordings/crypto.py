"""Encryption at rest for recordings: AES-256-GCM with the key from an environment variable.

File format: ``HLREC1`` magic, 12-byte random nonce, then ciphertext with its 16-byte GCM tag.
GCM authenticates as well as encrypts, so a tampered or truncated file fails to decrypt
instead of playing garbage. The nonce is random per file (never reused with one key).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"HLREC1"
NONCE_BYTES = 12
KEY_BYTES = 32
# Binds the ciphertext to its purpose, so a blob encrypted with the key for something else
# cannot be passed off as a recording.
_AAD = b"hotline-recording"


class RecordingKeyError(ValueError):
    """The configured key is absent or not 32 bytes in base64 or hex."""


class DecryptionError(ValueError):
    """Not our format, wrong key, or the file was altered or truncated."""


def parse_key(text: str | None) -> bytes:
    """A 256-bit key given as 64 hex digits or base64 (standard or URL-safe)."""
    if not text:
        raise RecordingKeyError("no recording encryption key set")
    value = text.strip()
    candidates: list[bytes] = []
    with contextlib.suppress(ValueError):
        candidates.append(bytes.fromhex(value))
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        with contextlib.suppress(binascii.Error, ValueError):
            candidates.append(decode(value.encode("ascii")))
    for key in candidates:
        if len(key) == KEY_BYTES:
            return key
    raise RecordingKeyError("the recording key must be 32 bytes, as 64 hex digits or base64")


def is_encrypted(blob: bytes) -> bool:
    return blob.startswith(MAGIC)


def encrypt_bytes(key: bytes, plain: bytes, nonce: bytes | None = None) -> bytes:
    """``nonce`` is a parameter only so tests can be exact; leave it None in production."""
    nonce = os.urandom(NONCE_BYTES) if nonce is None else nonce
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, plain, _AAD)


def decrypt_bytes(key: bytes, blob: bytes) -> bytes:
    if not is_encrypted(blob) or len(blob) < len(MAGIC) + NONCE_BYTES + 16:
        raise DecryptionError("not an encrypted hotline recording")
    nonce = blob[len(MAGIC) : len(MAGIC) + NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, blob[len(MAGIC) + NONCE_BYTES :], _AAD)
    except InvalidTag:
        raise DecryptionError("wrong key, or the file was altered or truncated") from None


def encrypt_file(key: bytes, path: Path) -> None:
    """Encrypt in place: write a sibling file, then atomically replace the clear one."""
    plain = path.read_bytes()
    if is_encrypted(plain):
        return
    tmp = path.with_name(path.name + ".enc-tmp")
    tmp.write_bytes(encrypt_bytes(key, plain))
    os.replace(tmp, path)


def read_recording(path: Path, key: bytes | None) -> bytes:
    """The playable WAV bytes of a recording, decrypting when it is encrypted."""
    blob = path.read_bytes()
    if not is_encrypted(blob):
        return blob
    if key is None:
        raise RecordingKeyError("recording is encrypted and no key is configured")
    return decrypt_bytes(key, blob)

"""Encryption at rest for recordings: AES-256-GCM with the key from an environment variable.

File format 2: ``HLREC2`` magic, 12-byte random nonce, then ciphertext with its 16-byte GCM tag.
The associated data names the recording and the part (``mix``, ``in``, ``out`` leg), so a file
decrypts only as the recording it was written for: two encrypted files swapped on disk (or a
leg put in place of the mixed file) fail to decrypt instead of playing the wrong call. GCM also
authenticates, so a tampered or truncated file fails too. The nonce is random per file.

Format 1 (``HLREC1``, hotline before 0.2) bound every file to the same constant, so swaps went
unnoticed. Such files are refused for playback and export with ``LegacyFormat``; ``hotline
recordings reencrypt`` rewrites them as format 2 after checking each against the checksum the
catalogue stored when it was written (docs/security.md, "Recordings").
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"HLREC2"
LEGACY_MAGIC = b"HLREC1"
MAGIC_BYTES = 6
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
_LEGACY_AAD = b"hotline-recording"

Part = Literal["mix", "in", "out"]


class RecordingKeyError(ValueError):
    """The configured key is absent or not 32 bytes in base64 or hex."""


class DecryptionError(ValueError):
    """Not our format, wrong key, another recording's file, or altered or truncated."""


class LegacyFormat(DecryptionError):
    """Format 1 (not bound to its recording): run ``hotline recordings reencrypt``."""


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


def associated_data(recording_id: str, part: Part = "mix") -> bytes:
    if not recording_id:
        raise ValueError("a recording id is needed to encrypt or decrypt a recording")
    return b"hotline-recording/2\0" + recording_id.encode() + b"\0" + part.encode()


def is_encrypted(blob: bytes) -> bool:
    return blob.startswith((MAGIC, LEGACY_MAGIC))


def is_legacy(blob: bytes) -> bool:
    return blob.startswith(LEGACY_MAGIC)


def encrypt_bytes(
    key: bytes, plain: bytes, *, recording_id: str, part: Part = "mix", nonce: bytes | None = None
) -> bytes:
    """``nonce`` is a parameter only so tests can be exact; leave it None in production."""
    nonce = os.urandom(NONCE_BYTES) if nonce is None else nonce
    aad = associated_data(recording_id, part)
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, plain, aad)


def _split(blob: bytes) -> tuple[bytes, bytes]:
    if len(blob) < MAGIC_BYTES + NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("not an encrypted hotline recording")
    return blob[MAGIC_BYTES : MAGIC_BYTES + NONCE_BYTES], blob[MAGIC_BYTES + NONCE_BYTES :]


def decrypt_bytes(key: bytes, blob: bytes, *, recording_id: str, part: Part = "mix") -> bytes:
    if is_legacy(blob):
        raise LegacyFormat(
            "recording encrypted in format 1 (not bound to its recording): run"
            " `hotline recordings reencrypt` to check and convert it"
        )
    if not blob.startswith(MAGIC):
        raise DecryptionError("not an encrypted hotline recording")
    nonce, sealed = _split(blob)
    try:
        return AESGCM(key).decrypt(nonce, sealed, associated_data(recording_id, part))
    except InvalidTag:
        raise DecryptionError(
            "wrong key, another recording's file, or the file was altered or truncated"
        ) from None


def decrypt_legacy(key: bytes, blob: bytes) -> bytes:
    """Format 1 only, for ``hotline recordings reencrypt`` (after the checksum matched)."""
    if not is_legacy(blob):
        raise DecryptionError("not a format 1 hotline recording")
    nonce, sealed = _split(blob)
    try:
        return AESGCM(key).decrypt(nonce, sealed, _LEGACY_AAD)
    except InvalidTag:
        raise DecryptionError("wrong key, or the file was altered or truncated") from None


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically with ``data``, readable by the owner only (0600)."""
    tmp = path.with_name(path.name + ".enc-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)  # O_CREAT's mode does not apply to a leftover tmp file
    os.replace(tmp, path)


def encrypt_file(key: bytes, path: Path, *, recording_id: str, part: Part = "mix") -> None:
    """Encrypt in place: write a sibling file, then atomically replace the clear one."""
    plain = path.read_bytes()
    if is_encrypted(plain):
        return
    write_private(path, encrypt_bytes(key, plain, recording_id=recording_id, part=part))


def decode_recording(
    blob: bytes, key: bytes | None, *, recording_id: str, part: Part = "mix"
) -> bytes:
    """The playable WAV bytes of a stored recording, decrypting when it is encrypted."""
    if not is_encrypted(blob):
        return blob
    if key is None:
        raise RecordingKeyError("recording is encrypted and no key is configured")
    return decrypt_bytes(key, blob, recording_id=recording_id, part=part)


def read_recording(
    path: Path, key: bytes | None, *, recording_id: str, part: Part = "mix"
) -> bytes:
    return decode_recording(path.read_bytes(), key, recording_id=recording_id, part=part)

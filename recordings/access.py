"""Reading a stored recording for playback or export, proving first that it is the right one.

The catalogue keeps the SHA-256 of every stored file. Before anything is decrypted or played,
the file's hash must equal the row's: a file swapped, replaced or altered on disk is refused
(and the refusal audited by the caller), never played as this call. Encrypted files are bound
to their recording id as well (``recordings.crypto``). Blocking file I/O: call from a thread.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Literal

from recordings.crypto import (
    DecryptionError,
    LegacyFormat,
    Part,
    RecordingKeyError,
    decode_recording,
)

Problem = Literal["missing", "unreadable", "checksum", "legacy", "undecryptable", "no_key"]


class RecordingUnavailable(Exception):
    """Why a recording cannot be given out; ``problem`` is one word for the audit log."""

    def __init__(self, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


def load_verified(
    path: Path,
    *,
    recording_id: str,
    sha256: str | None,
    key: bytes | None,
    part: Part = "mix",
) -> bytes:
    """The playable audio of the recording, or ``RecordingUnavailable``."""
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise RecordingUnavailable("missing", "the recording file is gone") from None
    except OSError as exc:
        raise RecordingUnavailable("unreadable", f"cannot read the file: {exc.strerror}") from None
    digest = hashlib.sha256(blob).hexdigest()
    if sha256 is None or not hmac.compare_digest(digest, sha256):
        raise RecordingUnavailable(
            "checksum",
            "the file does not match the checksum catalogued for this recording: refused",
        )
    try:
        return decode_recording(blob, key, recording_id=recording_id, part=part)
    except LegacyFormat as exc:
        raise RecordingUnavailable("legacy", str(exc)) from None
    except DecryptionError as exc:
        raise RecordingUnavailable("undecryptable", str(exc)) from None
    except RecordingKeyError as exc:
        raise RecordingUnavailable("no_key", str(exc)) from None

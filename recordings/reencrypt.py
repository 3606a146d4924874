"""Converting recordings encrypted in format 1 (one constant associated data for every file)
to format 2 (bound to the recording id and the part), without ever trusting a file that may
have been swapped: each file's SHA-256 must still be the one catalogued when it was stored.

Mismatching, missing or undecryptable files are reported and left untouched. A converted file
gets its new hash and size in the catalogue in the same transaction, and one audit entry.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from acd.storage.models import Recording, RecordingLeg
from recordings.crypto import (
    DecryptionError,
    Part,
    decrypt_legacy,
    encrypt_bytes,
    is_legacy,
    write_private,
)
from recordings.repository import add_audit


@dataclass
class ReencryptResult:
    converted: list[str] = field(default_factory=list)  # paths
    current: int = 0  # already format 2, or stored in clear
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, why)


def _convert(
    path: Path, key: bytes, recording_id: str, part: Part, sha256: str | None
) -> tuple[int, str] | str | None:
    """(size, sha256) after converting; None when nothing to do; a string says why not."""
    try:
        blob = path.read_bytes()
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if not is_legacy(blob):
        return None
    if sha256 is None or not hmac.compare_digest(hashlib.sha256(blob).hexdigest(), sha256):
        return "does not match its catalogued checksum: left as it is"
    try:
        plain = decrypt_legacy(key, blob)
    except DecryptionError as exc:
        return str(exc)
    sealed = encrypt_bytes(key, plain, recording_id=recording_id, part=part)
    write_private(path, sealed)
    return len(sealed), hashlib.sha256(sealed).hexdigest()


async def reencrypt_legacy(
    session: AsyncSession, key: bytes, *, who: str, now: datetime
) -> ReencryptResult:
    result = ReencryptResult()
    recordings = (
        await session.scalars(
            select(Recording).where(Recording.encrypted.is_(True), Recording.purged_at.is_(None))
        )
    ).all()
    legs = (
        await session.scalars(select(RecordingLeg).where(RecordingLeg.encrypted.is_(True)))
    ).all()
    files: list[tuple[Recording | RecordingLeg, str, Part]] = [(r, r.id, "mix") for r in recordings]
    live = {r.id for r in recordings}
    for leg in legs:
        if leg.recording_id in live:  # a purged recording's legs are gone with it
            files.append((leg, leg.recording_id, "in" if leg.leg == "in" else "out"))
    for row, recording_id, part in files:
        outcome = await asyncio.to_thread(
            _convert, Path(row.path), key, recording_id, part, row.sha256
        )
        if outcome is None:
            result.current += 1
        elif isinstance(outcome, str):
            result.problems.append((row.path, outcome))
        else:
            row.size_bytes, row.sha256 = outcome
            result.converted.append(row.path)
            add_audit(
                session,
                who=who,
                role="system",
                action="recording.reencrypt",
                target=f"recording:{recording_id}",
                reason=f"format 1 -> 2 ({part})",
                at=now,
            )
    return result

"""Where a call's recording lives, how the daemon starts it, and cataloguing the finished file.

Layout: ``recording.layout`` under the recording directory, ``.wav`` added. Placeholders:
``{date}`` is ``YYYY/MM/DD`` (UTC date of the call start), ``{queue}``, ``{call_id}`` and
``{agent}``; the default ``{date}/{queue}/{call_id}`` makes a day's or a queue's recordings one
directory, so retention can work date by date. Files are always WAV: MixMonitor picks the format
from the file name's extension (apps/app_mixmonitor.c ``mixmonitor_save_prep``), and cataloguing
reads the WAV header (``recordings.wavfile``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from acd.storage.commands import InsertRecording
from recordings.crypto import MAGIC, encrypt_file, is_encrypted
from recordings.wavfile import WavError, read_info

NO_QUEUE = "_none"  # calls recorded outside any queue (direct agent calls)
NO_AGENT = "_none"


@dataclass(frozen=True)
class CatalogueProblem:
    """A recording that could not be catalogued; the job reports it and goes on."""

    call_id: str
    path: Path
    reason: str  # "missing" | "unreadable" | "corrupt"
    detail: str


def _path_part(value: str, what: str) -> str:
    # Call ids and queue names come from the PBX/config; never let them escape the root.
    if not value or value in (".", "..") or "/" in value or "\\" in value or "\0" in value:
        raise ValueError(f"{what} {value!r} cannot be used in a file name")
    return value


DEFAULT_LAYOUT = "{date}/{queue}/{call_id}"


def recording_path(
    root: Path,
    layout: str = DEFAULT_LAYOUT,
    *,
    call_id: str,
    queue: str | None,
    agent_id: str | None = None,
    started_at: datetime,
) -> Path:
    """Absolute-or-relative file path (as ``root`` is) for the call's recording."""
    if started_at.tzinfo is None:
        raise ValueError("started_at must be timezone-aware")
    day = started_at.astimezone(UTC)
    name = layout.format(
        date=f"{day:%Y}/{day:%m}/{day:%d}",
        queue=_path_part(queue or NO_QUEUE, "queue"),
        call_id=_path_part(call_id, "call id"),
        agent=_path_part(agent_id or NO_AGENT, "agent"),
    )
    return root / f"{name}.wav"


def mixmonitor_action_headers(
    channel: str, path: Path, *, dual_channel: bool
) -> list[tuple[str, str]]:
    """Headers of the AMI ``MixMonitor`` action (the action name goes separately).

    Option ``b``: record only while bridged, so queue music and ringing are not in the file.
    Dual channel adds ``r(<stem>-in.wav)`` and ``t(<stem>-out.wav)``: the receive and transmit
    legs in their own files next to the mixed one, for speech analytics (apps/app_mixmonitor.c,
    ``mixmonitor_opts`` AST_APP_OPTION_ARG 'r' MUXFLAG_READ / 't' MUXFLAG_WRITE; the AMI action
    ``manager_mixmonitor`` passes Options through to ``mixmonitor_exec`` unchanged). An absolute
    path is used as is; a relative one would land in Asterisk's monitor spool directory.
    """
    options = "b"
    if dual_channel:
        legs = dual_channel_paths(path)
        options += f"r({legs[0]})t({legs[1]})"
    return [("Channel", channel), ("File", str(path)), ("Options", options)]


def dual_channel_paths(path: Path) -> tuple[Path, Path]:
    """(read leg, write leg) files: audio read from the channel (that party's own voice) and
    audio written to it (what that party hears), in audiohook terms."""
    return (
        path.with_name(f"{path.stem}-in{path.suffix}"),
        path.with_name(f"{path.stem}-out{path.suffix}"),
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def catalogue_file(
    path: Path,
    *,
    call_id: str,
    agent_id: str | None,
    queue: str | None,
    started_at: datetime,
    recording_id: str | None = None,
    key: bytes | None = None,
) -> InsertRecording | CatalogueProblem:
    """The storage command for a finished recording, or why it cannot be catalogued.

    Duration comes from the WAV header (audio actually present). With ``key`` (encryption at
    rest enabled) the file is encrypted in place after its header is read, and size and hash
    are those of the stored, encrypted file. A truncated file is still catalogued (it may hold
    most of the call); QA flags it later. A file already encrypted (a re-run after a crash) is
    catalogued without a duration. Blocking file I/O: from asyncio, call it via
    ``asyncio.to_thread``.
    """
    rec_id = recording_id or call_id
    if not path.exists():
        return CatalogueProblem(call_id, path, "missing", f"no file at {path}")
    duration: float | None = None
    try:
        with path.open("rb") as f:
            already_encrypted = is_encrypted(f.read(len(MAGIC)))
        if not already_encrypted:
            duration = read_info(path).duration_s
            if key is not None:
                encrypt_file(key, path)
        size = path.stat().st_size
        sha = file_sha256(path)
    except WavError as exc:
        return CatalogueProblem(call_id, path, "corrupt", str(exc))
    except OSError as exc:
        return CatalogueProblem(call_id, path, "unreadable", str(exc))
    return InsertRecording(
        idempotency_key=f"{call_id}:rec:{rec_id}",
        recording_id=rec_id,
        call_id=call_id,
        agent_id=agent_id,
        queue=queue,
        started_at=started_at,
        path=str(path),
        duration_s=duration,
        size_bytes=size,
        sha256=sha,
        encrypted=already_encrypted or key is not None,
    )

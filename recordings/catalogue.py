"""Where a call's recording lives, how the daemon starts it, and cataloguing the finished file.

Layout: ``recording.layout`` under the recording directory, ``.wav`` added. Placeholders:
``{date}`` is ``YYYY/MM/DD`` (UTC date of the call start), ``{queue}`` and ``{call_id}``; the
default ``{date}/{queue}/{call_id}`` makes a day's or a queue's recordings one directory, so
retention can work date by date. Files are always WAV: MixMonitor picks the format from the
file name's extension (apps/app_mixmonitor.c ``mixmonitor_save_prep``), and cataloguing reads the
WAV header (``recordings.wavfile``). With dual channel on, the two leg files ``<name>-in.wav`` /
``-out.wav`` sit next to it; they are catalogued (``recording_legs``) and encrypted like the mixed
file.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from acd.storage.commands import InsertRecording
from recordings.crypto import MAGIC_BYTES, Part, encrypt_file, is_encrypted
from recordings.wavfile import WavError, read_info

NO_QUEUE = "_none"  # calls recorded outside any queue (direct agent calls)
LEG_PARTS: tuple[Part, Part] = ("in", "out")  # the order of dual_channel_paths


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
    started_at: datetime,
    leg: int = 1,
) -> Path:
    """Absolute-or-relative file path (as ``root`` is) for the recording of the call's
    ``leg``-th answered leg (each agent's conversation is its own file: ``-<leg>`` after the
    second one's name)."""
    if started_at.tzinfo is None:
        raise ValueError("started_at must be timezone-aware")
    day = started_at.astimezone(UTC)
    name = layout.format(
        date=f"{day.year:04d}/{day.month:02d}/{day.day:02d}",
        queue=_path_part(queue or NO_QUEUE, "queue"),
        call_id=_path_part(call_id, "call id"),
    )
    if leg < 1:
        raise ValueError(f"leg {leg} is not an answered leg's number")
    return root / (f"{name}.wav" if leg == 1 else f"{name}-{leg}.wav")


def mixmonitor_options(path: Path, *, dual_channel: bool) -> str:
    """Options of the ``MixMonitor`` application, run on the agent's channel when it answers,
    by the Dial's U() Gosub (the rendered ``[hotline-answer]``: ``MixMonitor(<file>,<options>)``).

    Not the AMI action: ``MixMonitor`` is registered with the write class ``system`` only
    (apps/app_mixmonitor.c load_module), which would also let the AMI user run shell commands
    (its ``Command`` header). Option ``b``: record only while bridged (mixmonitor_thread writes
    a frame only when ``mixmonitor_autochan_is_bridged``), so IVR, music and ringing are not in
    the file. Dual channel adds the caller's side (``<stem>-in.wav``) and the agent's
    (``<stem>-out.wav``) in their own files: on the agent's channel the audio written to it
    (``t()``, MUXFLAG_WRITE) is the caller's voice and the audio read from it (``r()``,
    MUXFLAG_READ) the agent's (``mixmonitor_save_prep`` opens them next to the mixed file). An
    absolute path is used as is.
    """
    options = "b"
    if dual_channel:
        caller, agent = _leg_names(str(path))
        options += f"r({agent})t({caller})"
    return options


def dual_channel_paths(path: Path) -> tuple[Path, Path]:
    """(caller's side, agent's side) files of a dual-channel recording: what the customer said,
    and what the agent said."""
    caller, agent = _leg_names(str(path))
    return Path(caller), Path(agent)


def _leg_names(path: str) -> tuple[str, str]:
    """The legs' file names beside ``path``: ``-in`` / ``-out`` before the name's suffix (as
    ``PurePath.suffix`` has it). Plain string work: a Dial's options are built on the caller's
    way to the ring, where pathlib's machinery cost ~0.1 ms from cold caches."""
    slash = path.rfind("/")
    dot = path.rfind(".")
    if not slash + 1 < dot < len(path) - 1:  # no suffix: a leading dot only, or a last one
        dot = len(path)
    stem, suffix = path[:dot], path[dot:]
    return f"{stem}-in{suffix}", f"{stem}-out{suffix}"


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
    rest enabled) the file is encrypted in place after its header is read (bound to the
    recording id, ``recordings.crypto``), and size and hash are those of the stored, encrypted
    file: playback and export check that hash first. Dual-channel leg files found next to it are
    catalogued and encrypted the same way. A truncated file is still catalogued (it may hold
    most of the call); QA flags it later. A file already encrypted (a re-run after a crash) is
    catalogued without a duration. Every stored file is made readable by its owner only.
    Blocking file I/O: from asyncio, call it via ``asyncio.to_thread``.
    """
    rec_id = recording_id or call_id
    if not path.exists():
        return CatalogueProblem(call_id, path, "missing", f"no file at {path}")
    duration: float | None = None
    try:
        with path.open("rb") as f:
            already_encrypted = is_encrypted(f.read(MAGIC_BYTES))
        if not already_encrypted:
            duration = read_info(path).duration_s
        size, sha, encrypted = _store(path, key, rec_id, "mix")
        legs = tuple(
            (part, str(leg), *_store(leg, key, rec_id, part))
            for part, leg in zip(LEG_PARTS, dual_channel_paths(path), strict=True)
            if leg.exists()
        )
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
        encrypted=encrypted,
        legs=legs,
    )


def _store(path: Path, key: bytes | None, recording_id: str, part: Part) -> tuple[int, str, bool]:
    """Encrypt (when a key is given), make private; (size, sha256, encrypted) as stored."""
    if key is not None:
        encrypt_file(key, path, recording_id=recording_id, part=part)
    # Owner-only; a clear file Asterisk wrote as another user stays as Asterisk's umask made it
    # (docs/security.md: run Asterisk with umask 0077 for the recordings directory).
    with contextlib.suppress(PermissionError):
        path.chmod(0o600)
    with path.open("rb") as f:
        encrypted = is_encrypted(f.read(MAGIC_BYTES))
    return path.stat().st_size, file_sha256(path), encrypted

"""The on-disk write spool: JSON lines, fsync'd before an append returns.

The spool holds caller data (numbers, names, order numbers) while the database is away: the
directory is 0700 and every file 0600, whatever the process umask.

Holds the write commands the database could not take (outage) until they are replayed. The
parsing is pure (``parse_spool``); ``Spool`` only moves bytes. Blocking calls: the writer runs
them in a worker thread.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from acd.storage.commands import SpoolFormatError, WriteCommand, decode_command, encode_command

SPOOL_FILE = "writes.jsonl"
REJECTED_FILE = "rejected.jsonl"


@dataclass(frozen=True)
class SpoolContents:
    commands: tuple[WriteCommand, ...]
    # (line number, raw line, why) for lines that are not commands: kept aside, never dropped.
    bad_lines: tuple[tuple[int, str, str], ...]


def parse_spool(data: bytes) -> SpoolContents:
    """Commands in file order. A final line without its newline is a torn write (the process
    died inside ``append`` before fsync returned) and is ignored: nobody was told it was kept."""
    complete = data[: data.rfind(b"\n") + 1]
    commands: list[WriteCommand] = []
    bad: list[tuple[int, str, str]] = []
    for number, raw in enumerate(complete.split(b"\n")[:-1], start=1):
        text = raw.decode("utf-8", errors="replace")
        if not text.strip():
            continue
        try:
            commands.append(decode_command(text))
        except SpoolFormatError as exc:
            bad.append((number, text, str(exc)))
    return SpoolContents(tuple(commands), tuple(bad))


def encode_lines(commands: Iterable[WriteCommand]) -> bytes:
    return b"".join(encode_command(c).encode() + b"\n" for c in commands)


class Spool:
    """``<dir>/writes.jsonl`` plus ``<dir>/rejected.jsonl`` for commands the database refused."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / SPOOL_FILE
        self.rejected_path = directory / REJECTED_FILE
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        _private(directory, 0o700)
        for existing in (self.path, self.rejected_path):
            _private(existing, 0o600)
        self._drop_torn_tail()

    def _drop_torn_tail(self) -> None:
        # Otherwise the next append would be glued onto the torn bytes and both lines lost.
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        keep = data.rfind(b"\n") + 1
        if keep != len(data):
            with self.path.open("r+b") as f:
                f.truncate(keep)
                os.fsync(f.fileno())

    def has_entries(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def append(self, commands: Iterable[WriteCommand]) -> None:
        data = encode_lines(commands)
        if not data:
            return
        created = not self.path.exists()
        _append_durably(self.path, data)
        if created:
            _fsync_dir(self.directory)  # make the new file's directory entry durable too

    def load(self) -> SpoolContents:
        try:
            return parse_spool(self.path.read_bytes())
        except FileNotFoundError:
            return SpoolContents((), ())

    def clear(self) -> None:
        """Called only after every loaded command was applied (or rejected)."""
        with _open_private(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC) as f:
            os.fsync(f.fileno())

    def replace(self, commands: Iterable[WriteCommand]) -> None:
        """Atomically keep only ``commands`` (what a partial replay did not get to)."""
        temporary = self.path.with_suffix(".tmp")
        with _open_private(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC) as f:
            f.write(encode_lines(commands))
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, self.path)
        _fsync_dir(self.directory)

    def reject(self, line: str, reason: str) -> None:
        """Keep a command the database refused for good (a bug, not an outage) for inspection."""
        record = json.dumps({"reason": reason, "line": line}, separators=(",", ":"))
        _append_durably(self.rejected_path, record.encode() + b"\n")


def _private(path: Path, mode: int) -> None:
    # another owner's path (a shared directory) keeps its mode: nothing we may change
    with contextlib.suppress(FileNotFoundError, PermissionError):
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)


def _open_private(path: Path, flags: int) -> BinaryIO:
    fd = os.open(path, flags, 0o600)
    _private(path, 0o600)  # an existing file keeps its mode through O_CREAT
    return os.fdopen(fd, "ab" if flags & os.O_APPEND else "wb")


def _append_durably(path: Path, data: bytes) -> None:
    with _open_private(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND) as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

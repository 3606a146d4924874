"""Summarise a captured AMI byte stream: events per type, responses, protocol errors.

Pure functions behind ``hotline ami-replay``. The capture is the raw bytes as read from the
socket (gzip-compressed if it starts with the gzip magic). A banner line is counted where a session
starts (at the beginning, or where a capture of several sessions was concatenated). After a
protocol error the stream is resynchronised at the next blank line, so every good message is still
counted; the bad message itself is lost.
"""

from __future__ import annotations

import gzip
import zlib
from collections import Counter
from dataclasses import dataclass, field

from acd.asterisk.ami.framing import Banner, Framer, resync_point
from acd.asterisk.ami.message import Kind, Message
from acd.asterisk.errors import RemoteProtocolError

GZIP_MAGIC = b"\x1f\x8b"
BANNER_PREFIX = b"Asterisk Call Manager/"


@dataclass(frozen=True, slots=True)
class ReplayError:
    offset: int  # byte offset in the (decompressed) stream
    message: str


@dataclass(slots=True)
class ReplaySummary:
    events: int = 0
    responses: int = 0
    other: int = 0  # messages that are neither events nor responses (e.g. actions)
    banners: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    errors: list[ReplayError] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """The ``--json`` shape: events, responses, by_type (most frequent first), errors."""
        return {
            "events": self.events,
            "responses": self.responses,
            "by_type": dict(self.by_type.most_common()),
            "errors": [{"offset": e.offset, "message": e.message} for e in self.errors],
        }


def load_capture(raw: bytes) -> bytes:
    """The stream bytes of a capture file; raises ``ValueError`` for a corrupt gzip file."""
    if raw.startswith(GZIP_MAGIC):
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"not a readable gzip file: {exc}") from exc
    return raw


def summarize(data: bytes) -> ReplaySummary:
    """Count what ``data`` (an AMI stream from the Asterisk or client side) contains."""
    summary = ReplaySummary()
    pos = 0
    while pos < len(data):
        pos = _run(data, pos, summary)
    return summary


def _run(data: bytes, pos: int, summary: ReplaySummary) -> int:
    """Parse from ``pos`` until the end or an error; returns where to go on."""
    framer = Framer(expect_banner=data.startswith(BANNER_PREFIX, pos))
    framer.receive_data(data[pos:])
    framer.receive_data(b"")
    while True:
        try:
            item = framer.next_message()
        except RemoteProtocolError as exc:
            bad = pos + (exc.offset if exc.offset is not None else framer.offset)
            if bad > pos and data.startswith(BANNER_PREFIX, bad):
                return bad  # a new session starts here: not an error
            summary.errors.append(ReplayError(bad, exc.message))
            # Always move on: a damaged banner at ``pos`` itself must not be parsed forever.
            return max(resync_point(data, bad), bad + 1)
        if isinstance(item, Banner):
            summary.banners += 1
            continue
        if not isinstance(item, Message):
            return len(data)  # END_OF_STREAM (NEED_DATA cannot follow an EOF)
        if item.kind is Kind.EVENT:
            summary.events += 1
            summary.by_type[item.name] += 1
        elif item.kind is Kind.RESPONSE:
            summary.responses += 1
        else:
            summary.other += 1

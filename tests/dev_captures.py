"""The captures recorded from a real Asterisk 22.10.1 in ``tests/fixtures/asterisk-dev``.

Each ``.txt`` is the shared notation (see tests/transcripts.py): ``--- <<< asterisk -> client
[<conn>] <time> (t=+<s>s)`` / ``--- >>> client -> asterisk [...]`` chunk headers, wire lines with
a visible ``\\r\\n`` (AMI) or ``\\n`` (FastAGI), and ``### <time> (t=+<s>s) <note>`` notes. Big
files are gzipped. ``items`` turns a capture back into its AMI messages, FastAGI lines and
notes, in order, each with its time since the start of the capture.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from acd.asterisk.ami.framing import NEED_DATA, Framer
from acd.asterisk.ami.message import Message

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "asterisk-dev"
_HEADER = re.compile(r"^--- (<<<|>>>) \S+ -> \S+ \[([^\]]+)\] \S+ \(t=\+([0-9.]+)s\)")
_NOTE = re.compile(r"^### \S+ \(t=\+([0-9.]+)s\) (.*)$")


def capture_text(name: str) -> str:
    path = FIXTURES / name
    if path.exists():
        return path.read_text(encoding="utf-8")
    return gzip.decompress((FIXTURES / f"{name}.gz").read_bytes()).decode("utf-8")


def capture_json(name: str) -> Any:
    return json.loads(capture_text(name))


@dataclass(frozen=True)
class Item:
    """One thing in a capture: an AMI message, a FastAGI line (with its LF) or a note."""

    t: float
    conn: str  # "ami", "agi#1", "agi-victim", or "note"
    direction: str  # "<<<" from Asterisk, ">>>" to it, "" for a note
    message: Message | None = None
    line: str = ""


@cache
def items(name: str) -> tuple[Item, ...]:
    """Cached: the tests read the same few captures many times."""
    out: list[Item] = []
    framers: dict[tuple[str, str], Framer] = {}
    conn = direction = ""
    t = 0.0
    for raw in capture_text(name).splitlines():
        header = _HEADER.match(raw)
        if header:
            direction, conn, t = header.group(1), header.group(2), float(header.group(3))
            continue
        note = _NOTE.match(raw)
        if note:
            out.append(Item(float(note.group(1)), "note", "", line=note.group(2)))
            continue
        if conn == "ami" and raw.endswith("\\r\\n"):
            key = (conn, direction)
            if key not in framers:
                framers[key] = Framer(expect_banner=direction == "<<<")
            framer = framers[key]
            framer.receive_data((raw[: -len("\\r\\n")] + "\r\n").encode())
            while (message := framer.next_message()) is not NEED_DATA:
                if isinstance(message, Message):
                    out.append(Item(t, conn, direction, message=message))
        elif conn.startswith("agi") and raw.endswith("\\n"):
            out.append(Item(t, conn, direction, line=raw[: -len("\\n")] + "\n"))
    return tuple(out)


def ami_events(name: str) -> list[Item]:
    """The AMI messages Asterisk sent, with their times."""
    return [i for i in items(name) if i.conn == "ami" and i.direction == "<<<" and i.message]


def note_time(name: str, containing: str) -> float:
    """The time of the first note that contains ``containing``."""
    return next(i.t for i in items(name) if i.conn == "note" and containing in i.line)


def recorded_test_contexts() -> str:
    """The test contexts the captures were made with (customer phone, t-agi, t-redirect,
    t-queue), to be loaded next to the shipped dialplan."""
    return (FIXTURES / "test-contexts.conf").read_text(encoding="utf-8")

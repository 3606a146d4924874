"""What the transcripts themselves say about their AMI streams (counts written in the files).

The numbers come from the files' own summary sections, never from our parser, so the framing
tests compare two independent sources.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from acd.asterisk.ami.framing import END_OF_STREAM, NEED_DATA, Banner, Framer
from acd.asterisk.ami.message import Message
from tests.transcripts import read_text, transcript_path, wire_bytes

BANNER_PREFIX = b"Asterisk Call Manager/"
SESSION3_FROM_ASTERISK = "ami_session3_asterisk_to_client.raw"
SESSION3_TO_ASTERISK = "ami_session3_client_to_asterisk.raw"

_COUNT_LINE = re.compile(r"^\s+(\S+): (\d+)$")


def _count_blocks(text: str, heading: str) -> Iterator[tuple[str, int]]:
    inside = False
    for line in text.splitlines():
        if line.strip() == heading:
            inside = True
            continue
        if inside:
            match = _COUNT_LINE.match(line)
            if match is None:
                inside = False
                continue
            yield match.group(1), int(match.group(2))


def recorded_counts(name: str) -> tuple[int, Counter[str]]:
    """(total events, events per type) as written in a transcript's summary sections."""
    text = read_text(name)
    if name == "ami_events_full_call.txt":
        totals = re.findall(r"^== events: (\d+) total", text, re.MULTILINE)
        by_type = Counter[str]()
        for key, count in _count_blocks(text, "-- counts by Event type --"):
            by_type[key] += count
        return sum(map(int, totals)), by_type
    if name == "chanspy_events.txt":
        totals = re.findall(r"^== events: (\d+)$", text, re.MULTILINE)
        by_type = Counter[str]()
        for key, count in _count_blocks(text, "-- counts --"):
            by_type[key] += count
        return sum(map(int, totals)), by_type
    if name == "load_test_direct-queue_raw.txt.gz":
        return load_test_direct_queue_counts()
    raise KeyError(name)


def load_test_direct_queue_counts() -> tuple[int, Counter[str]]:
    """The direct-queue block of load_test_50_calls.txt (the run captured in the .gz file)."""
    text = read_text("load_test_50_calls.txt")
    block = text.split("## direct-queue", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"^events: (\d+)", block, re.MULTILINE)
    assert match is not None
    total = int(match.group(1))
    by_type = Counter[str](dict(_count_blocks(block, "counts by type:")))
    return total, by_type


def session3_bytes(direction: str = "<<<") -> bytes:
    name = SESSION3_FROM_ASTERISK if direction == "<<<" else SESSION3_TO_ASTERISK
    return transcript_path(name).read_bytes()


def sessions_from_asterisk(name: str = "ami_login_and_actions.txt") -> list[bytes]:
    """The Asterisk->client stream of a multi-session transcript, one entry per banner."""
    data = wire_bytes(name, "<<<")
    return [BANNER_PREFIX + part for part in data.split(BANNER_PREFIX)[1:]]


def parse_all(
    data: bytes, *, expect_banner: bool, chunks: list[int] | None = None, eof: bool = True
) -> list[Message | Banner]:
    """Every item of ``data`` fed in ``chunks`` (sizes, cycled) or whole."""
    framer = Framer(expect_banner=expect_banner)
    out: list[Message | Banner] = []
    sizes = chunks or [len(data) or 1]
    pos = 0
    i = 0
    while pos < len(data):
        size = sizes[i % len(sizes)]
        i += 1
        framer.receive_data(data[pos : pos + size])
        pos += size
        while (item := framer.next_message()) is not NEED_DATA:
            assert item is not END_OF_STREAM
            out.append(item)
    if eof:
        framer.receive_data(b"")
        while (item := framer.next_message()) is not END_OF_STREAM:
            assert item is not NEED_DATA
            out.append(item)
    return out

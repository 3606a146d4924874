"""Framer against every recorded AMI stream, fed whole, byte by byte and in random chunks."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from ami_recorded import (
    parse_all,
    recorded_counts,
    session3_bytes,
    sessions_from_asterisk,
)

from acd.asterisk.ami.framing import END_OF_STREAM, NEED_DATA, Banner, Framer
from acd.asterisk.ami.message import Kind, Message, encode
from acd.asterisk.errors import LocalProtocolError, RemoteProtocolError
from tests.transcripts import wire_bytes

EVENT_STREAMS = [
    "ami_events_full_call.txt",
    "chanspy_events.txt",
    "load_test_direct-queue_raw.txt.gz",
]


def _event_counts(items: list[Message | Banner]) -> Counter[str]:
    return Counter(m.name for m in items if isinstance(m, Message) and m.kind is Kind.EVENT)


@pytest.mark.parametrize("name", EVENT_STREAMS)
def test_event_streams_match_the_recorded_counts(name: str) -> None:
    total, by_type = recorded_counts(name)
    items = parse_all(wire_bytes(name), expect_banner=False)
    assert len(items) == total
    assert _event_counts(items) == by_type


@pytest.mark.parametrize("name", EVENT_STREAMS)
def test_random_chunks_give_the_same_messages(name: str) -> None:
    data = wire_bytes(name)
    rng = random.Random(name)
    sizes = [rng.randint(1, 3000) for _ in range(500)]
    assert parse_all(data, expect_banner=False, chunks=sizes) == parse_all(
        data, expect_banner=False
    )


def test_session3_byte_by_byte_both_directions() -> None:
    from_asterisk = session3_bytes("<<<")
    whole = parse_all(from_asterisk, expect_banner=True)
    assert parse_all(from_asterisk, expect_banner=True, chunks=[1]) == whole
    assert whole[0] == Banner("Asterisk Call Manager/11.0.0")
    kinds = Counter(m.kind for m in whole if isinstance(m, Message))
    # Independent count: the raw text cut at blank lines, after the banner line.
    blocks = from_asterisk.split(b"\r\n", 1)[1].split(b"\r\n\r\n")
    assert kinds[Kind.EVENT] == sum(b.startswith(b"Event: ") for b in blocks)
    assert kinds[Kind.RESPONSE] == sum(b.startswith(b"Response: ") for b in blocks)

    to_asterisk = session3_bytes(">>>")
    actions = parse_all(to_asterisk, expect_banner=False, chunks=[1])
    assert actions == parse_all(to_asterisk, expect_banner=False)
    assert len(actions) == to_asterisk.lower().count(b"action: ")
    assert all(isinstance(a, Message) and a.kind is Kind.ACTION for a in actions)


def test_session3_raw_equals_its_transcript_and_round_trips() -> None:
    # The .raw file and section 3 of the .txt are the same bytes; re-encoding what we parsed
    # gives those bytes back, so nothing (order, repeats, empty values, colons) was lost.
    raw = session3_bytes("<<<")
    assert sessions_from_asterisk()[-1] == raw
    items = parse_all(raw, expect_banner=True)
    rebuilt = b"Asterisk Call Manager/11.0.0\r\n" + b"".join(
        encode(m) for m in items if isinstance(m, Message)
    )
    assert rebuilt == raw


def test_every_session_of_the_action_transcript() -> None:
    sessions = sessions_from_asterisk()
    assert len(sessions) == 3
    parsed = [parse_all(s, expect_banner=True, chunks=[7, 1, 64]) for s in sessions]
    assert [type(p[0]) for p in parsed] == [Banner, Banner, Banner]
    first = parsed[0][1]
    assert isinstance(first, Message)
    assert first.name == "Error"
    assert first["Message"] == "Authentication failed"
    to_asterisk = parse_all(wire_bytes("ami_login_and_actions.txt", ">>>"), expect_banner=False)
    names = [m.name.lower() for m in to_asterisk if isinstance(m, Message)]
    assert names.count("login") == 3
    assert "ping" in names  # the lower-case 'action: ping' of 38g


def test_lf_only_input_gives_the_same_messages() -> None:
    raw = session3_bytes(">>>")
    assert parse_all(raw.replace(b"\r\n", b"\n"), expect_banner=False) == parse_all(
        raw, expect_banner=False
    )


def test_values_are_kept_exactly() -> None:
    data = (
        b"Event: RequestBadFormat\r\nRequestType: Action: Queues\r\nAccountCode: \r\n"
        b"Empty:\r\nTwo:  spaces\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n"
    )
    (message,) = parse_all(data, expect_banner=False)
    assert isinstance(message, Message)
    assert message.headers == (
        ("Event", "RequestBadFormat"),
        ("RequestType", "Action: Queues"),
        ("AccountCode", ""),
        ("Empty", ""),
        ("Two", " spaces"),
        ("Variable", "A=1"),
        ("Variable", "B=2"),
    )


def test_trailing_partial_message_stays_pending_across_a_split_utf8_character() -> None:
    complete = session3_bytes("<<<")
    extra = "Event: UserEvent\r\nCallerIDName: Zoë Ångström\r\n\r\n".encode()
    cut = extra.index("ë".encode()) + 1  # inside the two-byte character
    framer = Framer(expect_banner=True)
    framer.receive_data(complete + extra[:cut])
    items = []
    while (item := framer.next_message()) is not NEED_DATA:
        items.append(item)
    assert items == parse_all(complete, expect_banner=True)
    assert framer.pending_bytes == extra[:cut]
    assert framer.offset == len(complete)
    framer.receive_data(extra[cut:])
    last = framer.next_message()
    assert isinstance(last, Message)
    assert last["CallerIDName"] == "Zoë Ångström"
    assert framer.next_message() is NEED_DATA
    framer.receive_data(b"")
    assert framer.next_message() is END_OF_STREAM


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    (message,) = parse_all(b"Event: X\r\nCallerIDName: a\xff\xfeb\r\n\r\n", expect_banner=False)
    assert isinstance(message, Message)
    assert message["CallerIDName"] == "a\ufffd\ufffdb"


def test_blank_lines_between_messages_are_skipped() -> None:
    items = parse_all(b"\r\n\nEvent: A\r\n\r\n\r\n\r\nEvent: B\n\n", expect_banner=False)
    assert [m.name for m in items if isinstance(m, Message)] == ["A", "B"]


def test_line_without_colon_reports_its_offset_and_stays_broken() -> None:
    data = b"Event: A\r\n\r\nEvent: B\r\nno colon here\r\n\r\n"
    framer = Framer(expect_banner=False)
    framer.receive_data(data)
    first = framer.next_message()
    assert isinstance(first, Message)
    with pytest.raises(RemoteProtocolError) as info:
        framer.next_message()
    assert info.value.offset == data.index(b"no colon")
    with pytest.raises(RemoteProtocolError):
        framer.next_message()


def test_empty_header_name_is_an_error() -> None:
    framer = Framer(expect_banner=False)
    framer.receive_data(b"\r\nEvent: A\r\n: x\r\n\r\n")
    with pytest.raises(RemoteProtocolError) as info:
        framer.next_message()
    assert info.value.offset == 12


def test_oversized_message_is_rejected_with_and_without_terminator() -> None:
    framer = Framer(expect_banner=False, max_message_bytes=64)
    framer.receive_data(b"Event: A\r\n\r\n" + b"Event: B\r\nX: " + b"y" * 100)
    assert isinstance(framer.next_message(), Message)
    with pytest.raises(RemoteProtocolError) as info:
        framer.next_message()
    assert info.value.offset == 12

    framer = Framer(expect_banner=False, max_message_bytes=64)
    framer.receive_data(b"Event: B\r\nX: " + b"y" * 100 + b"\r\n\r\n")
    with pytest.raises(RemoteProtocolError) as info:
        framer.next_message()
    assert info.value.offset == 0


def test_eof_inside_a_message_is_an_error_with_offset() -> None:
    framer = Framer(expect_banner=True)
    framer.receive_data(b"Asterisk Call Manager/11.0.0\r\nResponse: Success\r\n")
    framer.receive_data(b"")
    assert framer.next_message() == Banner("Asterisk Call Manager/11.0.0")
    with pytest.raises(RemoteProtocolError) as info:
        framer.next_message()
    assert info.value.offset == 30


def test_eof_before_any_data_is_a_clean_end() -> None:
    framer = Framer(expect_banner=True)
    framer.receive_data(b"")
    assert framer.next_message() is END_OF_STREAM
    with pytest.raises(LocalProtocolError):
        framer.receive_data(b"more")

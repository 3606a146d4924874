"""Fuzzing invariants: any bytes give messages or RemoteProtocolError, nothing else."""

from __future__ import annotations

from ami_recorded import session3_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acd.asterisk.ami.client import ClientConnection, ConnectionClosed
from acd.asterisk.ami.framing import END_OF_STREAM, NEED_DATA, Banner, Framer
from acd.asterisk.ami.message import Message, encode
from acd.asterisk.ami.replay import summarize
from acd.asterisk.ami.server import ServerConnection
from acd.asterisk.errors import RemoteProtocolError

# Inputs are bounded, so a test that never returns would show up as a hang of this file.
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_RAW = session3_bytes("<<<")
SAMPLE = _RAW[: _RAW.rfind(b"\r\n\r\n", 0, 6000) + 4]  # whole messages only
chunk_sizes = st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=20)


def _chunks(data: bytes, sizes: list[int]) -> list[bytes]:
    out, pos, i = [], 0, 0
    while pos < len(data):
        size = sizes[i % len(sizes)]
        out.append(data[pos : pos + size])
        pos += size
        i += 1
    return out


def _framer_outcome(data: bytes, sizes: list[int], expect_banner: bool) -> list[object]:
    """Items until END_OF_STREAM, or the error as the last element."""
    framer = Framer(expect_banner=expect_banner, max_message_bytes=4096)
    items: list[object] = []
    try:
        for chunk in [*_chunks(data, sizes), b""]:
            framer.receive_data(chunk)
            while (item := framer.next_message()) is not NEED_DATA:
                if item is END_OF_STREAM:
                    return items
                assert isinstance(item, Message | Banner)
                items.append(item)
    except RemoteProtocolError as exc:
        error = exc
    else:
        raise AssertionError("no END_OF_STREAM after EOF")
    assert error.offset is None or 0 <= error.offset <= len(data)
    items.append(error)
    return items


@FUZZ
@given(st.binary(max_size=3000), chunk_sizes, st.booleans())
def test_any_bytes_give_messages_or_remote_error(
    data: bytes, sizes: list[int], expect_banner: bool
) -> None:
    _framer_outcome(data, sizes, expect_banner)


@FUZZ
@given(st.binary(max_size=200), st.integers(min_value=0, max_value=len(SAMPLE)), chunk_sizes)
def test_garbage_spliced_into_a_real_stream(junk: bytes, at: int, sizes: list[int]) -> None:
    data = SAMPLE[:at] + junk + SAMPLE[at:]
    outcome = _framer_outcome(data, sizes, True)
    # Everything complete before the splice point is still delivered intact.
    clean = _framer_outcome(SAMPLE[: SAMPLE.rfind(b"\r\n\r\n", 0, at) + 4], [len(SAMPLE)], True)
    if at > 0 and clean and not isinstance(clean[-1], Exception):
        assert outcome[: len(clean)] == clean


@FUZZ
@given(chunk_sizes)
def test_chunking_never_changes_the_result(sizes: list[int]) -> None:
    assert _framer_outcome(SAMPLE, sizes, True) == _framer_outcome(SAMPLE, [len(SAMPLE)], True)


header_names = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters=":\r\n"), min_size=1
)
header_values = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"))


@FUZZ
@given(st.lists(st.tuples(header_names, header_values), min_size=1, max_size=12), chunk_sizes)
def test_encode_then_frame_round_trips(headers: list[tuple[str, str]], sizes: list[int]) -> None:
    message = Message(tuple(headers))
    data = encode(message) * 2
    assert _framer_outcome(data, sizes, False) == [message, message]


@FUZZ
@given(st.binary(max_size=2000), chunk_sizes)
def test_client_and_server_roles_on_any_bytes(data: bytes, sizes: list[int]) -> None:
    client = ClientConnection()
    client.send_action("Ping", action_id="x")
    server = ServerConnection()
    for conn in (client, server):
        try:
            for chunk in [*_chunks(data, sizes), b""]:
                conn.receive_data(chunk)
                while (event := conn.next_event()) is not NEED_DATA:
                    if isinstance(event, ConnectionClosed):
                        break
        except RemoteProtocolError:
            pass


@FUZZ
@given(st.binary(max_size=2000), st.integers(min_value=0, max_value=len(SAMPLE)))
def test_replay_counts_every_good_event_around_garbage(junk: bytes, at: int) -> None:
    baseline = summarize(SAMPLE)
    assert not baseline.errors
    summary = summarize(SAMPLE[:at] + junk + SAMPLE[at:])
    assert all(0 <= e.offset <= len(SAMPLE) + len(junk) for e in summary.errors)
    # Garbage spoils at most the message it landed in, or the two it joined by landing inside
    # their blank-line separator; every other event is still counted.
    assert summary.events >= baseline.events - 2


def test_replay_moves_on_after_a_damaged_banner() -> None:
    """A banner line that is itself bad (no line end before EOF) is an error, not a loop."""
    summary = summarize(b"Asterisk Call Manager/11.0.0")
    assert summary.events == 0
    assert summary.errors
    summary = summarize(b"Event: A\r\n\r\nAsterisk Call Manager/1\x00: x" + b"y" * 50)
    assert summary.events == 1

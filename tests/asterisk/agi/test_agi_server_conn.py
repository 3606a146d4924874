"""Server role against the six recorded FastAGI sessions (fastagi_session.txt, scenarios A-F)."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable

import pytest
from agi_transcript_sessions import NAME, RecordedSession, recorded_sessions

from acd.asterisk.agi.server_conn import (
    NEED_DATA,
    ConnectionClosed,
    EnvironmentReceived,
    HangupReceived,
    ProgressReceived,
    ReplyReceived,
    ServerConnection,
    ServerEvent,
    ServerState,
)
from acd.asterisk.errors import LocalProtocolError, RemoteProtocolError
from tests.transcripts import read_text, wire_bytes

SESSIONS = {s.scenario: s for s in recorded_sessions()}


def drive(session: RecordedSession, chunks: Iterable[bytes], *, eof: bool = True) -> list[object]:
    """Play the recorded server: send the next recorded command after the env and each reply."""
    conn = ServerConnection()
    commands = iter(session.commands)
    events: list[object] = []

    def pump() -> None:
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                return
            events.append(event)
            if isinstance(event, EnvironmentReceived | ReplyReceived):
                line = next(commands, None)
                if line is not None:
                    assert conn.send_command(line) == line.encode() + b"\n"
            if isinstance(event, ConnectionClosed):
                return

    for chunk in chunks:
        conn.receive_data(chunk)
        pump()
    if eof:
        conn.receive_data(b"")
        pump()
    return events


def replies(events: list[object]) -> list[ReplyReceived]:
    return [e for e in events if isinstance(e, ReplyReceived)]


def chunked(data: bytes, rng: random.Random) -> list[bytes]:
    out, i = [], 0
    while i < len(data):
        n = rng.randint(1, 40)
        out.append(data[i : i + n])
        i += n
    return out


def test_six_sessions_split_cover_the_file() -> None:
    assert sorted(SESSIONS) == ["A", "B", "C", "D", "E", "F"]
    marker = re.compile(rb"^<<.*>>\n", re.MULTILINE)
    # The shared helper keeps the <<EOF ...>> / <<server ...>> note lines; they are not wire data.
    assert marker.sub(b"", wire_bytes(NAME, "<<<")) == b"".join(
        s.from_asterisk for s in SESSIONS.values()
    )
    assert wire_bytes(NAME, ">>>") == b"".join(s.to_asterisk for s in SESSIONS.values())


@pytest.mark.parametrize("scenario", list("ABCDEF"))
def test_every_reply_matches_its_command_in_any_chunking(scenario: str) -> None:
    session = SESSIONS[scenario]
    data = session.from_asterisk
    whole = drive(session, [data])
    assert isinstance(whole[0], EnvironmentReceived)
    assert isinstance(whole[-1], ConnectionClosed)
    assert [r.command for r in replies(whole)] == session.commands
    assert drive(session, [data[i : i + 1] for i in range(len(data))]) == whole
    assert drive(session, chunked(data, random.Random(scenario))) == whole


def test_reply_codes_counted_from_the_file() -> None:
    expected: Counter[int] = Counter()
    closing: str | None = None
    for line in read_text(NAME).splitlines():
        if closing is not None:
            closing = None if line.startswith(closing) else closing
        elif m := re.match(r"(\d{3})-", line):
            expected[int(m[1])] += 1
            closing = f"{m[1]} "
        elif m := re.match(r"(\d{3}) ", line):
            expected[int(m[1])] += 1
    got = Counter(
        r.reply.code for s in SESSIONS.values() for r in replies(drive(s, [s.from_asterisk]))
    )
    assert got == expected
    assert expected[510] == 3
    assert expected[511] == 2
    assert expected[520] == 3


def test_trailing_partial_data_stays_pending() -> None:
    session = SESSIONS["E"]
    body = session.from_asterisk.removesuffix(b"HANGUP\n")
    events = drive(session, [body + b"HANG"], eof=False)
    assert not any(isinstance(e, HangupReceived | ConnectionClosed) for e in events)
    assert len(replies(events)) == len(session.commands)


def test_scenario_a_environment_and_reply_forms() -> None:
    events = drive(SESSIONS["A"], [SESSIONS["A"].from_asterisk])
    env = events[0].env  # type: ignore[attr-defined]
    assert (env.script_path, env.network_script, dict(env.params)) == ("ivr", "ivr", {})
    assert env.args == ("hotline", "5550200")
    assert env.channel == "Local/5550200@caller-sim-000001aa;1"
    assert (env.uniqueid, env.callerid, env.calleridname) == (
        "1795327343.852",
        "5550200",
        "Caller 5550200",
    )
    assert (env.context, env.extension, env.language, env.accountcode) == ("hotline", "s", "en", "")
    by_cmd = {r.command: r.reply for r in replies(events)}
    assert by_cmd["GET VARIABLE CALLERID(num)"].data == "5550200"
    assert by_cmd["GET VARIABLE NO_SUCH_VARIABLE"].data is None
    full = by_cmd['GET FULL VARIABLE "${CHANNEL}|${UNIQUEID}|${TALKTIME}"']
    assert full.data == "Local/5550200@caller-sim-000001aa;1|1795327343.852|5"
    beep = by_cmd['STREAM FILE beep ""']
    assert (beep.result, beep.endpos, beep.digit, beep.ok) == ("0", 3404, None, True)
    assert by_cmd["GET DATA vm-enter-num-to-call 6000 1"].digits == "1"
    assert by_cmd["EXEC NoSuchApplication foo"].result == "-2"
    assert not by_cmd["EXEC NoSuchApplication foo"].ok
    assert by_cmd["FOOBAR"].code == 510
    usage = by_cmd["STREAM FILE"]
    assert usage.code == 520
    assert len(usage.lines) == 7
    assert usage.text.startswith("Send the given file")
    assert "<value>FAILED</value>" in usage.text
    # Only the end-of-session HANGUP, after the last reply.
    assert [type(e) for e in events[-2:]] == [HangupReceived, ConnectionClosed]
    assert sum(isinstance(e, HangupReceived) for e in events) == 1


def test_scenario_d_hangup_after_reply_then_511() -> None:
    events = drive(SESSIONS["D"], [SESSIONS["D"].from_asterisk])
    kinds = [type(e).__name__ for e in events]
    i = next(
        i
        for i, e in enumerate(events)
        if isinstance(e, ReplyReceived) and e.command.startswith("STREAM FILE tt-monkeys")
    )
    stream = events[i].reply  # type: ignore[attr-defined]
    assert (stream.result, stream.endpos) == ("-1", 24160)
    assert isinstance(events[i + 1], HangupReceived)
    by_cmd = {r.command: r.reply for r in replies(events)}
    assert by_cmd["GET VARIABLE CHANNEL"].data == "Local/5550203@caller-sim-000001b4;1"
    assert by_cmd['STREAM FILE beep ""'].dead_channel
    assert by_cmd['SET VARIABLE AFTER_HANGUP "yes"'].ok
    assert kinds.count("HangupReceived") == 2


def test_scenario_e_missing_file() -> None:
    by_cmd = {
        r.command: r.reply for r in replies(drive(SESSIONS["E"], [SESSIONS["E"].from_asterisk]))
    }
    missing = by_cmd['STREAM FILE no-such-soundfile ""']
    assert (missing.result, missing.endpos, missing.ok) == ("-1", 0, False)


def test_scenario_f_query_dtmf_and_hangup_before_reply() -> None:
    events = drive(SESSIONS["F"], [SESSIONS["F"].from_asterisk])
    env = events[0].env  # type: ignore[attr-defined]
    assert env.network_script == "ivr-dtmf?lang=en&mode=test"
    assert (env.script_path, dict(env.params)) == ("ivr-dtmf", {"lang": "en", "mode": "test"})
    by_cmd = {r.command: r.reply for r in replies(events)}
    timeout = by_cmd["GET DATA beep 1500 4"]
    assert (timeout.result, timeout.data, timeout.timed_out, timeout.digits) == (
        "",
        "timeout",
        True,
        "",
    )
    assert (
        by_cmd['STREAM FILE tt-monkeys "123"'].digit,
        by_cmd['STREAM FILE tt-monkeys "123"'].endpos,
    ) == ("1", 10240)
    assert by_cmd["WAIT FOR DIGIT 5000"].digit == "2"
    assert by_cmd["GET DATA beep 4000 3"].digits == "45"
    record = by_cmd["RECORD FILE /var/spool/asterisk/monitor/agi-record-test wav # 1500"]
    assert (record.result, record.data, record.endpos) == ("0", "timeout", 12000)
    # HANGUP arrives while GET VARIABLE CHANNEL is outstanding; the next reply is still its reply.
    i = next(i for i, e in enumerate(events) if isinstance(e, HangupReceived))
    before = events[i - 1]
    assert isinstance(before, ReplyReceived)
    assert before.command == "HANGUP"
    after = events[i + 1]
    assert isinstance(after, ReplyReceived)
    assert after.command == "GET VARIABLE CHANNEL"
    assert after.reply.data == "Local/5550205@caller-sim-dtmf-000001b6;1"
    assert by_cmd["WAIT FOR DIGIT 100"].dead_channel


ENV = b"agi_network: yes\nagi_network_script: ivr\nagi_arg_2: b\nagi_arg_1: a\nagi_arg_10: j\n\n"


def ready() -> ServerConnection:
    conn = ServerConnection()
    conn.receive_data(ENV)
    event = conn.next_event()
    assert isinstance(event, EnvironmentReceived)
    assert event.env.args == ("a", "b", "j")
    return conn


def test_one_command_at_a_time_and_no_newlines() -> None:
    conn = ServerConnection()
    with pytest.raises(LocalProtocolError):
        conn.send_command("ANSWER")
    conn = ready()
    with pytest.raises(LocalProtocolError):
        conn.send_command("VERBOSE x\nHANGUP")
    conn.send_command("ANSWER")
    with pytest.raises(LocalProtocolError):
        conn.send_command("NOOP")
    assert conn.state is ServerState.AWAITING_REPLY


def test_gosub_progress_then_final_reply() -> None:
    conn = ready()
    conn.send_command("GOSUB sub s 1")
    conn.receive_data(b"100 result=0 Trying...\n200 result=0 Gosub complete\n")
    first, second = conn.next_event(), conn.next_event()
    assert isinstance(first, ProgressReceived)
    assert first.reply.code == 100
    assert isinstance(second, ReplyReceived)
    assert second.reply.text == "Gosub complete"
    assert conn.next_event() is NEED_DATA


@pytest.mark.parametrize(
    ("data", "offset"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0),
        (b"agi_network: yes\nHost: example\n", 17),
        (b"agi_network: yes\nagi_x: \xff\n", 24),
        (b"agi_network: " + b"y" * 70000, 0),
    ],
)
def test_garbage_environment_is_rejected_with_offset(data: bytes, offset: int) -> None:
    conn = ServerConnection()
    conn.receive_data(data)
    with pytest.raises(RemoteProtocolError) as err:
        conn.next_event()
    assert err.value.offset == offset


def test_unsolicited_reply_and_eof_mid_line_are_errors() -> None:
    conn = ready()
    conn.receive_data(b"200 result=0\n")
    with pytest.raises(RemoteProtocolError):
        conn.next_event()
    conn = ready()
    conn.send_command("NOOP")
    conn.receive_data(b"200 res")
    conn.receive_data(b"")
    with pytest.raises(RemoteProtocolError):
        conn.next_event()


def test_eof_while_awaiting_reply_is_connection_closed() -> None:
    conn = ready()
    conn.send_command("NOOP")
    conn.receive_data(b"HANGUP\n")
    conn.receive_data(b"")
    events: list[ServerEvent] = [conn.next_event(), conn.next_event()]
    assert [type(e) for e in events] == [HangupReceived, ConnectionClosed]
    assert conn.hung_up
    assert conn.pending_command == "NOOP"
    with pytest.raises(LocalProtocolError):
        conn.send_command("NOOP")

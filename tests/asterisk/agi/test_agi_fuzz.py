"""Fuzzing: any bytes fed to either role yield events or RemoteProtocolError, nothing else."""

from __future__ import annotations

from agi_transcript_sessions import recorded_sessions
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.asterisk.agi import client_conn
from acd.asterisk.agi.server_conn import NEED_DATA, ConnectionClosed, ServerConnection, ServerState
from acd.asterisk.errors import RemoteProtocolError

RECORDED = b"".join(s.from_asterisk for s in recorded_sessions()[:1])
LIMIT = 300  # events per run: feeding must terminate, never spin


def drain_server(conn: ServerConnection) -> None:
    for _ in range(LIMIT):
        # Keep a command outstanding so reply lines are legal wherever the fuzz puts them.
        if (
            conn.env is not None
            and conn.pending_command is None
            and conn.state is not ServerState.CLOSED
        ):
            conn.send_command("NOOP")
        event = conn.next_event()
        if event is NEED_DATA or isinstance(event, ConnectionClosed):
            return
    raise AssertionError("next_event did not reach NEED_DATA")


chunks = st.lists(st.binary(min_size=1, max_size=64), max_size=20)  # b"" would mean EOF


@settings(max_examples=300, deadline=None)
@given(chunks, st.booleans())
def test_server_role_any_bytes(data: list[bytes], eof: bool) -> None:
    conn = ServerConnection()
    try:
        for chunk in [*data, b""] if eof else data:
            conn.receive_data(chunk)
            drain_server(conn)
    except RemoteProtocolError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(RECORDED)), st.binary(max_size=40), st.integers(1, 50))
def test_server_role_garbage_spliced_into_a_recording(at: int, junk: bytes, step: int) -> None:
    stream = RECORDED[:at] + junk + RECORDED[at:]
    conn = ServerConnection()
    try:
        for i in range(0, len(stream), step):
            conn.receive_data(stream[i : i + step])
            drain_server(conn)
    except RemoteProtocolError:
        pass


@settings(max_examples=300, deadline=None)
@given(chunks, st.booleans())
def test_client_role_any_bytes(data: list[bytes], eof: bool) -> None:
    conn = client_conn.ClientConnection()
    conn.start([("agi_network", "yes")])
    try:
        for chunk in [*data, b""] if eof else data:
            conn.receive_data(chunk)
            for _ in range(LIMIT):
                event = conn.next_event()
                if event is client_conn.NEED_DATA or isinstance(
                    event, client_conn.ConnectionClosed
                ):
                    break
                conn.reply()
            else:
                raise AssertionError("next_event did not reach NEED_DATA")
    except RemoteProtocolError:
        pass

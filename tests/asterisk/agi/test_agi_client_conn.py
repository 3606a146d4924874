"""Client role (Asterisk's side, for the simulator): replays the recorded sessions byte-exactly."""

from __future__ import annotations

import pytest
from agi_transcript_sessions import RecordedSession, recorded_sessions

from acd.asterisk.agi.client_conn import (
    NEED_DATA,
    ClientConnection,
    CommandReceived,
    ConnectionClosed,
)
from acd.asterisk.agi.replies import parse_reply
from acd.asterisk.agi.server_conn import EnvironmentReceived, ReplyReceived, ServerConnection
from acd.asterisk.errors import LocalProtocolError, RemoteProtocolError

SESSIONS = {s.scenario: s for s in recorded_sessions()}


def split_recorded(session: RecordedSession) -> tuple[list[tuple[str, str]], list[str]]:
    """The env pairs and the reply/HANGUP blocks, in order, from the recorded Asterisk bytes."""
    text = session.from_asterisk.decode()
    env_text, _, rest = text.partition("\n\n")
    pairs = [tuple(line.split(": ", 1)) for line in env_text.split("\n")]
    blocks: list[str] = []
    lines = rest.splitlines()
    while lines:
        line = lines.pop(0)
        if line.startswith("520-"):
            while not line.endswith("\n520 End of proper usage."):
                line += "\n" + lines.pop(0)
        blocks.append(line)
    return [(k, v) for k, v in pairs], blocks


@pytest.mark.parametrize("scenario", list("ABCDEF"))
def test_client_role_reproduces_asterisk_bytes(scenario: str) -> None:
    session = SESSIONS[scenario]
    env_pairs, blocks = split_recorded(session)
    client = ClientConnection()
    out = [client.start(env_pairs)]
    client.receive_data(session.to_asterisk)
    received: list[CommandReceived] = []
    for block in blocks:
        if block == "HANGUP":
            out.append(client.hangup())
            continue
        event = client.next_event()
        assert isinstance(event, CommandReceived)
        received.append(event)
        if block.startswith("520-"):
            out.append(client.reply_usage("\n".join(block.split("\n")[1:-1])))
        elif block.startswith("510 "):
            out.append(client.reply_invalid())
        elif block.startswith("511 "):
            out.append(client.reply_dead_channel())
        else:
            r = parse_reply((block,))
            out.append(client.reply(r.code, r.result, r.data, r.endpos))
    assert b"".join(out) == session.from_asterisk
    assert [e.line for e in received] == session.commands
    assert client.next_event() is NEED_DATA
    client.receive_data(b"")
    assert isinstance(client.next_event(), ConnectionClosed)


def test_argv_and_pipelined_commands() -> None:
    client = ClientConnection()
    client.start([("agi_network", "yes")])
    client.receive_data(b'EXEC Dial "Local/1001@agents/n,20"\nGET VAR')
    first = client.next_event()
    assert isinstance(first, CommandReceived)
    assert first.argv == ("EXEC", "Dial", "Local/1001@agents/n,20")
    assert client.next_event() is NEED_DATA
    client.receive_data(b"IABLE X\n\n")
    assert client.next_event() == CommandReceived("GET VARIABLE X", ("GET", "VARIABLE", "X"))
    # An empty line is still a command to Asterisk (it answers 510).
    assert client.next_event() == CommandReceived("", ())
    assert client.unanswered == 3
    client.reply(100, "0")  # intermediate: still three unanswered
    assert client.unanswered == 3


def test_client_misuse_is_local_error() -> None:
    client = ClientConnection()
    with pytest.raises(LocalProtocolError):
        client.hangup()
    with pytest.raises(LocalProtocolError):
        client.start([("network", "yes")])
    client = ClientConnection()
    client.start([])
    with pytest.raises(LocalProtocolError):
        client.reply()
    with pytest.raises(LocalProtocolError):
        client.start([])


def test_oversized_or_non_utf8_command_is_remote_error() -> None:
    client = ClientConnection()
    client.start([])
    client.receive_data(b"V" * 3000)
    with pytest.raises(RemoteProtocolError):
        client.next_event()
    client = ClientConnection()
    client.start([])
    client.receive_data(b"NOOP\n\xc3\x28\n")
    assert isinstance(client.next_event(), CommandReceived)
    with pytest.raises(RemoteProtocolError) as err:
        client.next_event()
    assert err.value.offset == 5


def test_client_and_server_roles_talk_to_each_other() -> None:
    client, server = ClientConnection(), ServerConnection()
    server.receive_data(client.start([("agi_network_script", "ivr?x=1"), ("agi_arg_1", "hotline")]))
    env = server.next_event()
    assert isinstance(env, EnvironmentReceived)
    assert dict(env.env.params) == {"x": "1"}
    client.receive_data(server.send_command('GET FULL VARIABLE "${A} ${B}"'))
    command = client.next_event()
    assert isinstance(command, CommandReceived)
    assert command.argv[-1] == "${A} ${B}"
    server.receive_data(client.hangup() + client.reply(200, "1", "x y"))
    events = [server.next_event(), server.next_event()]
    assert isinstance(events[1], ReplyReceived)
    assert events[1].reply.data == "x y"

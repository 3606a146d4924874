"""Server role: parses what real clients sent, formats replies byte-identical to Asterisk's."""

from __future__ import annotations

import pytest
from ami_recorded import parse_all, session3_bytes, sessions_from_asterisk

from acd.asterisk.ami.message import Message, encode
from acd.asterisk.ami.server import (
    BANNER,
    NEED_DATA,
    ActionReceived,
    ConnectionClosed,
    ServerConnection,
)
from tests.transcripts import wire_bytes


def _actions(data: bytes, chunk: int = 0) -> list[ActionReceived]:
    conn = ServerConnection()
    out: list[ActionReceived] = []
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)] if chunk else [data]
    for piece in [*pieces, b""]:
        conn.receive_data(piece)
        while (event := conn.next_event()) is not NEED_DATA:
            if isinstance(event, ConnectionClosed):
                assert conn.closed
                return out
            out.append(event)
    raise AssertionError("no ConnectionClosed after EOF")


def _recorded() -> tuple[dict[str | None, Message], list[Message]]:
    """Session 3: the client's actions by ActionID, and Asterisk's messages in order."""
    actions = {
        m.action_id: m
        for m in parse_all(session3_bytes(">>>"), expect_banner=False)
        if isinstance(m, Message)
    }
    replies = [
        m for m in parse_all(session3_bytes("<<<"), expect_banner=True) if isinstance(m, Message)
    ]
    return actions, replies


def _reply_bytes(replies: list[Message], action_id: str) -> tuple[Message, list[Message], Message]:
    """The recorded list for ``action_id``: response, items, closing event."""
    mine = [m for m in replies if m.action_id == action_id and m.name != "OriginateResponse"]
    return mine[0], mine[1:-1], mine[-1]


def test_parses_every_recorded_client_action_incl_lf_lower_case_and_pipelined() -> None:
    data = wire_bytes("ami_login_and_actions.txt", ">>>")
    actions = _actions(data)
    assert _actions(data, chunk=1) == actions
    assert len(actions) == 55
    by_id = {a.action_id: a for a in actions}
    assert by_id["lf-only-1"].action == "Ping"
    assert by_id["lower-1"].action == "ping"
    assert by_id["lower-1"].message["Action"] == "ping"
    ids = [a.action_id for a in actions]
    assert ids.index("pipe-2") == ids.index("pipe-1") + 1
    originate = by_id["act-26"].message
    assert originate.get_all("Variable") == [
        "CALLER_HOLD=120",
        "DTMF_DELAY=0",
        "ORIG_TAG=ami-test",
    ]


def test_banner() -> None:
    assert ServerConnection().banner() == BANNER
    assert session3_bytes("<<<").startswith(BANNER)


def test_plain_responses_are_byte_identical() -> None:
    actions, replies = _recorded()
    server = ServerConnection()
    ping_no_id = next(m for m in replies if m.get("Ping") and m.action_id is None)
    assert server.response(actions[None], headers=ping_no_id.headers[1:]) == encode(ping_no_id)
    queue_add = next(m for m in replies if m.action_id == "act-18")
    assert server.response(actions["act-18"], message="Added interface to queue") == encode(
        queue_add
    )
    duplicate = next(m for m in replies if m.action_id == "act-19")
    assert server.response(
        actions["act-19"], "Error", message="Unable to add interface: Already there"
    ) == encode(duplicate)


@pytest.mark.parametrize(
    ("action_id", "complete_event"),
    [
        ("act-12", "CoreShowChannelsComplete"),
        ("act-13", "QueueStatusComplete"),
        ("act-16", "QueueSummaryComplete"),
        ("act-25", "QueueStatusComplete"),
        ("act-27", "CoreShowChannelsComplete"),
        ("act-28", "StatusComplete"),
    ],
)
def test_event_lists_are_byte_identical(action_id: str, complete_event: str) -> None:
    actions, replies = _recorded()
    response, items, complete = _reply_bytes(replies, action_id)
    assert complete.name == complete_event
    expected = b"".join(encode(m) for m in [response, *items, complete])
    # Items as a simulator would build them: where the recorded item has its ActionID last,
    # leave it out (the server appends it); elsewhere keep a placeholder in place.
    built: list[list[tuple[str, str]]] = []
    for item in items:
        pairs = list(item.headers)
        if pairs[-1][0] == "ActionID":
            pairs.pop()
        else:
            pairs = [(k, "" if k == "ActionID" else v) for k, v in pairs]
        built.append(pairs)
    extra = [
        (k, v)
        for k, v in complete.headers
        if k not in {"Event", "ActionID", "EventList", "ListItems"}
    ]
    got = ServerConnection().event_list(
        actions[action_id],
        built,
        complete_event,
        message=response["Message"],
        complete_headers=extra,
    )
    assert got == expected


def test_event_list_without_action_id_carries_none() -> None:
    action = Message.build(Action="CoreShowChannels")
    data = ServerConnection().event_list(
        action,
        [[("Event", "CoreShowChannel"), ("ActionID", ""), ("Channel", "x")]],
        "CoreShowChannelsComplete",
        message="Channels will follow",
    )
    assert b"ActionID" not in data
    assert data.endswith(
        b"Event: CoreShowChannelsComplete\r\nEventList: Complete\r\nListItems: 1\r\n\r\n"
    )


def test_event_is_byte_identical() -> None:
    _, replies = _recorded()
    booted = next(m for m in replies if m.name == "FullyBooted")
    assert ServerConnection().event("FullyBooted", booted.headers[1:]) == encode(booted)


def test_challenge_and_md5_login_check_against_the_recording() -> None:
    md5_session = parse_all(sessions_from_asterisk()[1], expect_banner=True)
    requests = {
        m.action_id: m
        for m in parse_all(wire_bytes("ami_login_and_actions.txt", ">>>"), expect_banner=False)
        if isinstance(m, Message)
    }
    server = ServerConnection()
    assert server.challenge_response(requests["md5-5"], 942938964) == encode(md5_session[1])
    # The session keeps its first challenge.
    assert b"942938964" in server.challenge_response(requests["md5-5"], 1)
    assert server.check_login(requests["md5-6"], {"ACD": "acdsecret"}) == "ACD"
    assert server.check_login(requests["md5-6"], {"acd": "other"}) is None
    assert server.login_response(requests["md5-6"], True) == encode(md5_session[2])
    # Plain logins: the good one of session 3, the bad one of section 1.
    fresh = ServerConnection()
    assert fresh.check_login(requests["act-8"], {"acd": "acdsecret"}) == "acd"
    assert fresh.check_login(requests["bad-4"], {"acd": "acdsecret"}) is None
    assert fresh.check_login(requests["md5-6"], {"acd": "acdsecret"}) is None  # no challenge
    bad_reply = parse_all(sessions_from_asterisk()[0], expect_banner=True)[1]
    assert fresh.login_response(requests["bad-4"], False) == encode(bad_reply)


def test_challenge_without_md5_is_an_error() -> None:
    reply = ServerConnection().challenge_response(Message.build(Action="Challenge"), 5)
    assert reply == b"Response: Error\r\nMessage: Must specify AuthType\r\n\r\n"

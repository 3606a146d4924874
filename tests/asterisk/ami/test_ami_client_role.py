"""Client role replaying the recorded session 3 and the recorded login sections."""

from __future__ import annotations

import random

import pytest
from ami_recorded import parse_all, session3_bytes, sessions_from_asterisk

from acd.asterisk.ami.client import (
    NEED_DATA,
    ActionCompleted,
    BannerReceived,
    ClientConnection,
    ClientEvent,
    ConnectionClosed,
    EventReceived,
    UnmatchedResponse,
)
from acd.asterisk.ami.message import Message, encode
from acd.asterisk.errors import LocalProtocolError
from tests.transcripts import wire_bytes


def _drain(conn: ClientConnection) -> list[ClientEvent]:
    out: list[ClientEvent] = []
    while (event := conn.next_event()) is not NEED_DATA:
        out.append(event)
        if isinstance(event, ConnectionClosed):
            break
    return out


def _feed(conn: ClientConnection, data: bytes, seed: int = 0) -> list[ClientEvent]:
    rng = random.Random(seed)
    out: list[ClientEvent] = []
    pos = 0
    while pos < len(data):
        size = rng.randint(1, 700)
        conn.receive_data(data[pos : pos + size])
        pos += size
        out.extend(_drain(conn))
    return out


def _replay_session3(data: bytes | None = None) -> tuple[ClientConnection, list[ClientEvent]]:
    conn = ClientConnection()
    raw_actions = session3_bytes(">>>")
    for action in parse_all(raw_actions, expect_banner=False):
        assert isinstance(action, Message)
        if action.action_id is None:
            continue  # our client always sends one; its reply must surface as unmatched
        headers = [(k, v) for k, v in action.headers[2:]]
        action_id, wire = conn.send_action(action.name, headers, action_id=action.action_id)
        assert action_id == action.action_id
        if action.headers[0][0] == "Action" and encode(action) in raw_actions:
            assert wire == encode(action)  # byte for byte what the recorded client sent
    return conn, _feed(conn, data if data is not None else session3_bytes("<<<"))


def _completed(events: list[ClientEvent]) -> dict[str, ActionCompleted]:
    return {e.action_id: e for e in events if isinstance(e, ActionCompleted)}


def test_session3_every_action_completes_and_lists_are_collected() -> None:
    conn, events = _replay_session3()
    assert events[0] == BannerReceived("Asterisk Call Manager/11.0.0")
    assert conn.authenticated
    done = _completed(events)
    assert conn.pending_action_ids == frozenset()
    assert len(done) == 50
    for action_id, expected_items in [
        ("act-12", 0),  # idle CoreShowChannels
        ("act-13", 4),  # QueueStatus sales
        ("act-16", 3),  # QueueSummary all queues
        ("act-25", 0),  # QueueStatus unknown queue
        ("act-27", 2),  # CoreShowChannels with a call
        ("act-28", 2),  # Status
    ]:
        result = done[action_id]
        assert result.complete is not None
        assert result.complete["EventList"] == "Complete"
        assert len(result.events) == expected_items == int(result.complete["ListItems"])
        assert all(item.action_id == action_id for item in result.events)
    assert [e.name for e in done["act-27"].events] == ["CoreShowChannel", "CoreShowChannel"]
    assert done["act-13"].events[0].name == "QueueParams"


def test_queue_add_completes_at_once_and_its_event_is_an_ordinary_event() -> None:
    _, events = _replay_session3()
    index = next(
        i
        for i, e in enumerate(events)
        if isinstance(e, ActionCompleted) and e.action_id == "act-18"
    )
    result = events[index]
    assert isinstance(result, ActionCompleted)
    assert result.ok
    assert result.message == "Added interface to queue"
    assert result.events == ()
    follow = events[index + 1]
    assert isinstance(follow, EventReceived)
    assert follow.message.name == "QueueMemberAdded"
    duplicate = _completed(events)["act-19"]
    assert not duplicate.ok
    assert duplicate.message == "Unable to add interface: Already there"


def test_event_carrying_a_completed_action_id_is_an_event() -> None:
    _, events = _replay_session3()
    originate = [
        e.message
        for e in events
        if isinstance(e, EventReceived) and e.message.name == "OriginateResponse"
    ]
    assert [m.action_id for m in originate][:1] == ["act-26"]
    assert all(m.action_id for m in originate)


def test_response_without_action_id_is_surfaced_unmatched() -> None:
    _, events = _replay_session3()
    unmatched = [e for e in events if isinstance(e, UnmatchedResponse)]
    assert len(unmatched) == 1
    assert unmatched[0].message["Ping"] == "Pong"
    assert unmatched[0].message.action_id is None


def test_every_recorded_event_is_delivered_once() -> None:
    _, events = _replay_session3()
    raw = session3_bytes("<<<")
    recorded = [m for m in parse_all(raw, expect_banner=True) if isinstance(m, Message)]
    recorded_events = [m for m in recorded if m.headers[0][0] == "Event"]
    in_lists = sum(
        len(e.events) + 1 for e in events if isinstance(e, ActionCompleted) and e.complete
    )
    delivered = [e for e in events if isinstance(e, EventReceived)]
    assert len(delivered) + in_lists == len(recorded_events)


def test_lf_only_input_gives_the_same_results() -> None:
    _, crlf = _replay_session3()
    _, lf = _replay_session3(session3_bytes("<<<").replace(b"\r\n", b"\n"))
    assert lf == crlf


def test_interleaved_event_during_a_list_is_delivered_in_place() -> None:
    conn = ClientConnection()
    conn.receive_data(b"Asterisk Call Manager/11.0.0\r\n")
    action_id, _ = conn.send_action("QueueStatus", [("Queue", "sales")])
    conn.receive_data(
        f"Response: Success\r\nActionID: {action_id}\r\nEventList: start\r\n"
        "Message: Queue status will follow\r\n\r\n"
        f"Event: QueueParams\r\nQueue: sales\r\nActionID: {action_id}\r\n\r\n"
        "Event: Newchannel\r\nPrivilege: call,all\r\nChannel: Local/x@y-00000001;1\r\n\r\n"
        f"Event: QueueMember\r\nQueue: sales\r\nName: Agent Two\r\nActionID: {action_id}\r\n\r\n"
        f"Event: QueueStatusComplete\r\nActionID: {action_id}\r\nEventList: Complete\r\n"
        "ListItems: 2\r\n\r\n".encode()
    )
    events = _drain(conn)
    assert isinstance(events[0], BannerReceived)
    assert isinstance(events[1], EventReceived)
    assert events[1].message.name == "Newchannel"
    assert isinstance(events[2], ActionCompleted)
    assert [m.name for m in events[2].events] == ["QueueParams", "QueueMember"]
    assert len(events) == 3


def test_lower_case_headers_from_the_peer_are_understood() -> None:
    conn = ClientConnection()
    action_id, _ = conn.send_action("Ping")
    conn.receive_data(b"asterisk call manager/11.0.0\n")
    conn.receive_data(f"response: Success\nactionid: {action_id}\nping: Pong\n\n".encode())
    events = _drain(conn)
    result = events[1]
    assert isinstance(result, ActionCompleted)
    assert result.ok
    assert result.response["Ping"] == "Pong"


def test_plain_login_bytes_are_the_recorded_ones() -> None:
    conn = ClientConnection()
    _, wire = conn.login("acd", "acdsecret", action_id="act-8")
    assert session3_bytes(">>>").startswith(wire)


def test_failed_login_as_recorded_then_closed() -> None:
    bad_session = sessions_from_asterisk()[0]
    conn = ClientConnection()
    _, wire = conn.login("acd", "wrong", action_id="bad-4")
    assert wire == b"Action: Login\r\nActionID: bad-4\r\nUsername: acd\r\nSecret: wrong\r\n\r\n"
    conn.receive_data(bad_session)
    conn.receive_data(b"")
    events = _drain(conn)
    assert isinstance(events[1], ActionCompleted)
    assert not events[1].ok
    assert events[1].message == "Authentication failed"
    assert events[2] == ConnectionClosed()
    assert not conn.authenticated
    assert conn.closed
    with pytest.raises(LocalProtocolError):
        conn.send_action("Ping")


def test_md5_login_reproduces_the_recorded_exchange() -> None:
    md5_session = sessions_from_asterisk()[1]
    recorded_requests = wire_bytes("ami_login_and_actions.txt", ">>>")
    login_reply = md5_session.index(b"Response: Success\r\nActionID: md5-6")
    conn = ClientConnection()
    _, wire = conn.challenge(action_id="md5-5")
    assert wire in recorded_requests
    conn.receive_data(md5_session[:login_reply])
    challenge = _drain(conn)[1]
    assert isinstance(challenge, ActionCompleted)
    assert challenge.response["Challenge"] == "942938964"
    _, wire = conn.login_md5(
        "acd", "acdsecret", challenge.response["Challenge"], events=False, action_id="md5-6"
    )
    assert wire in recorded_requests  # Key f38353f5... as recorded
    assert b"acdsecret" not in wire
    assert not conn.authenticated
    conn.receive_data(md5_session[login_reply:])
    result = _drain(conn)[0]
    assert isinstance(result, ActionCompleted)
    assert result.message == "Authentication accepted"
    assert conn.authenticated


def test_generated_action_ids_are_unique_and_tracked() -> None:
    conn = ClientConnection(action_id_prefix="acd")
    ids = [conn.send_action("Ping")[0] for _ in range(100)]
    assert len(set(ids)) == 100
    assert conn.pending_action_ids == frozenset(ids)
    with pytest.raises(LocalProtocolError):
        conn.send_action("Ping", action_id=ids[0])


def test_response_to_an_unknown_action_id_is_unmatched() -> None:
    conn = ClientConnection()
    conn.receive_data(b"Asterisk Call Manager/11.0.0\r\n")
    conn.receive_data(b"Response: Success\r\nActionID: never-sent\r\nPing: Pong\r\n\r\n")
    events = _drain(conn)
    assert isinstance(events[1], UnmatchedResponse)
    assert events[1].message.action_id == "never-sent"

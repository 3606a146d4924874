"""Client role against server role over a real TCP connection on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest

from acd.asterisk.ami.client import (
    NEED_DATA,
    ActionCompleted,
    BannerReceived,
    ClientConnection,
    ClientEvent,
    ConnectionClosed,
    EventReceived,
)
from acd.asterisk.ami.message import Message
from acd.asterisk.ami.server import ActionReceived, ServerConnection

SECRETS = {"acd": "acdsecret"}


def _reply(server: ServerConnection, action: Message) -> tuple[bytes, bool]:
    """A tiny Asterisk: (bytes to write, close afterwards)."""
    name = (action.get("Action") or "").lower()
    if name == "challenge":
        return server.challenge_response(action, 942938964), False
    if name == "login":
        ok = server.check_login(action, SECRETS) is not None
        data = server.login_response(action, ok)
        if ok:
            data += server.event(
                "FullyBooted", [("Privilege", "system,all"), ("Status", "Fully Booted")]
            )
        return data, not ok
    if name == "queuestatus":
        items = [
            [("Event", "QueueParams"), ("Queue", "sales"), ("Calls", "0")],
            [("Event", "QueueMember"), ("Queue", "sales"), ("Name", "Agent Two")],
        ]
        return server.event_list(
            action, items, "QueueStatusComplete", message="Queue status will follow"
        ), False
    if name == "queueadd":
        return server.response(action, message="Added interface to queue"), False
    if name == "logoff":
        return server.response(action, "Goodbye", message="Thanks for all the fish."), True
    return server.response(action, "Error", message="Invalid/unknown command"), False


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    server = ServerConnection()
    writer.write(server.banner())
    try:
        while data := await reader.read(4096):
            server.receive_data(data)
            while isinstance(event := server.next_event(), ActionReceived):
                out, close = _reply(server, event.message)
                writer.write(out)
                if close:
                    return
    finally:
        writer.close()


class _Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.conn = ClientConnection()
        self.reader, self.writer = reader, writer
        self.seen: list[ClientEvent] = []

    async def next(self) -> ClientEvent:
        while (event := self.conn.next_event()) is NEED_DATA:
            self.conn.receive_data(await self.reader.read(4096))
        self.seen.append(event)
        return event

    async def call(self, request: tuple[str, bytes]) -> ActionCompleted:
        action_id, data = request
        self.writer.write(data)
        while True:
            event = await self.next()
            if isinstance(event, ActionCompleted) and event.action_id == action_id:
                return event
            assert not isinstance(event, ConnectionClosed)


@pytest.mark.asyncio
async def test_md5_login_list_and_logoff_over_tcp() -> None:
    listener = await asyncio.start_server(_serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = _Client(reader, writer)
        assert await client.next() == BannerReceived("Asterisk Call Manager/11.0.0")
        challenge = await client.call(client.conn.challenge())
        login = await client.call(
            client.conn.login_md5("acd", "acdsecret", challenge.response["Challenge"])
        )
        assert login.ok
        assert client.conn.authenticated
        status = await client.call(client.conn.send_action("QueueStatus", [("Queue", "sales")]))
        assert [m.name for m in status.events] == ["QueueParams", "QueueMember"]
        assert status.complete is not None
        assert status.complete["ListItems"] == "2"
        added = await client.call(
            client.conn.send_action("QueueAdd", [("Queue", "sales"), ("Interface", "PJSIP/1")])
        )
        assert added.message == "Added interface to queue"
        bye = await client.call(client.conn.send_action("Logoff"))
        assert bye.response.name == "Goodbye"
        assert isinstance(await client.next(), ConnectionClosed)
        booted = [e for e in client.seen if isinstance(e, EventReceived)]
        assert [e.message.name for e in booted] == ["FullyBooted"]
        writer.close()
        await writer.wait_closed()


@pytest.mark.asyncio
async def test_wrong_secret_over_tcp_fails_and_closes() -> None:
    listener = await asyncio.start_server(_serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = _Client(reader, writer)
        await client.next()
        challenge = await client.call(client.conn.challenge())
        login = await client.call(
            client.conn.login_md5("acd", "wrong", challenge.response["Challenge"])
        )
        assert not login.ok
        assert login.message == "Authentication failed"
        assert isinstance(await client.next(), ConnectionClosed)
        assert not client.conn.authenticated
        writer.close()
        await writer.wait_closed()

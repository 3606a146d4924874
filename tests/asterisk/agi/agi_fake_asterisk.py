"""A scripted Asterisk for FastAGI server tests: our client-role core over a real TCP socket."""

from __future__ import annotations

import asyncio

from acd.asterisk.agi.client_conn import (
    NEED_DATA,
    ClientConnection,
    CommandReceived,
    ConnectionClosed,
)


class FakeAsterisk:
    """Asterisk's side of one FastAGI connection, driven by the test."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.conn = ClientConnection()

    @classmethod
    async def connect(cls, port: int, script: str = "ivr") -> FakeAsterisk:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        fake = cls(reader, writer)
        env = [
            ("agi_network", "yes"),
            ("agi_network_script", script),
            ("agi_request", f"agi://127.0.0.1:{port}/{script}"),
            ("agi_channel", "Local/5550200@caller-sim-000001aa;1"),
            ("agi_uniqueid", "1795327343.852"),
            ("agi_arg_1", "hotline"),
        ]
        writer.write(fake.conn.start(env))
        return fake

    async def next_command(self) -> str | None:
        """The next command line, or None when the server closed its side."""
        while True:
            event = self.conn.next_event()
            if isinstance(event, CommandReceived):
                return event.line
            if isinstance(event, ConnectionClosed):
                return None
            assert event is NEED_DATA
            self.conn.receive_data(await self.reader.read(4096))

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def finish(self) -> None:
        """What Asterisk does at the end: wait for the server's EOF, send HANGUP, close."""
        assert await self.next_command() is None
        await self.send(self.conn.hangup())
        self.writer.close()
        await self.writer.wait_closed()


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    """EOF, or a reset when the server closed with our bytes still unread (kernel RST)."""
    try:
        return await reader.read() == b""
    except ConnectionResetError:
        return True

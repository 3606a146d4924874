"""A TCP relay to the machine's PostgreSQL that a test can cut like a network.

``cut()`` black-holes every relayed connection: nothing more passes either way, and nothing is
closed, so neither end learns of it from TCP (a cable pulled, a firewall dropping packets).
``heal()`` lets bytes pass again for connections made afterwards. Every relay task is owned
and ended by ``close()``.
"""

from __future__ import annotations

import asyncio
import contextlib


class PgProxy:
    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self._target = target
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self._cut = False
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def cut(self) -> None:
        self._cut = True

    def heal(self) -> None:
        self._cut = False

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        self._writers += [writer, up_writer]
        cut_at_start = self._cut
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst, cut_at_start))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, cut_at_start: bool
    ) -> None:
        with contextlib.suppress(OSError):
            while data := await src.read(65536):
                if self._cut or cut_at_start:
                    continue  # dropped on the floor, like packets into a black hole
                dst.write(data)
                await dst.drain()
            if not (self._cut or cut_at_start):  # a FIN does not cross a cut network either
                dst.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in self._writers:
            writer.close()
        if self._server is not None:
            await self._server.wait_closed()

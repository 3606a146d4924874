"""One ``hotline run`` process: a standby until it holds the leadership, then the daemon.

``Node.run`` waits for the leadership (``acd.daemon.leadership``: a PostgreSQL advisory lock, or
the SQLite database's file lock, which a second daemon never gets), builds a fresh ``Daemon`` and
runs it. When the daemon steps down because the leadership was lost (the database connection
broke), the process becomes a standby again and waits, with a new daemon for the next term:
nothing of the old term's floor is carried over except through the database. ``stop()`` (SIGTERM)
ends the wait or the daemon, and the leadership is released only after the daemon has stopped
and flushed, so the daemon taking over reads everything this one wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from acd.app.daemon import Daemon
from acd.daemon.leadership import Leadership
from acd.logging import get_logger

log = get_logger(__name__)


class Node:
    def __init__(self, make_daemon: Callable[[Leadership], Daemon], leadership: Leadership) -> None:
        self._make_daemon = make_daemon
        self.leadership = leadership
        self._stopping = asyncio.Event()
        self.daemon: Daemon | None = None
        self.terms = 0  # times this process became the active daemon

    def stop(self) -> None:
        self._stopping.set()
        if self.daemon is not None:
            self.daemon.stop()

    async def run(self) -> None:
        while not self._stopping.is_set():
            if not await self._acquire():
                return
            daemon = self.daemon = self._make_daemon(self.leadership)
            self.terms += 1
            try:
                if not self._stopping.is_set():
                    await daemon.run()
            finally:
                self.daemon = None
                await self.leadership.release()
            if not daemon.stepped_down:
                return
            log.warning("standby_again", why="the leadership was lost; waiting to take it back")

    async def _acquire(self) -> bool:
        """True once this process leads; False when stopped while waiting."""
        acquire = asyncio.create_task(self.leadership.acquire(), name="leadership-acquire")
        stopping = asyncio.create_task(self._stopping.wait(), name="stop-wait")
        try:
            await asyncio.wait({acquire, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (acquire, stopping):
                task.cancel()
            await asyncio.gather(stopping, return_exceptions=True)
            with contextlib.suppress(asyncio.CancelledError):
                await acquire  # raises what stopped it (a second daemon on one SQLite file)
        if self._stopping.is_set():
            await self.leadership.release()  # acquired just as the stop came: give it back
            return False
        return True

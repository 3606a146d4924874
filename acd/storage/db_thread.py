"""A thread of its own for the storage writer's transactions, so they stay off the event loop.

SQLAlchemy's part of a group commit (compiling the statements, binding a batch's parameters,
reading results) is Python work of several milliseconds per batch; on the daemon's event loop
it delayed every timer and socket behind it. Here it runs on a second event loop in a dedicated
thread, with an engine of its own (an async engine's pooled connections belong to the loop that
opened them): the daemon's loop hands a coroutine over and awaits its result. The GIL is still
shared: while both threads have Python work, the interpreter switches between them every
``sys.getswitchinterval()`` (5 ms), so the loop waits at most that long per switch instead of a
whole batch.

One owner per piece of state: the thread owns its engine and the transactions in flight; the
writer's queue, spool and counters stay on the daemon's loop (``acd.storage.writer``).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.storage.engine import create_engine

T = TypeVar("T")


class DbThread:
    """``start()`` opens the thread, its loop and engine; ``run(work)`` runs ``work(engine)``
    there; ``stop()`` disposes the engine and joins the thread."""

    def __init__(self, url: URL, name: str = "storage-db") -> None:
        self._url = url
        self._name = name
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._engine: AsyncEngine | None = None
        self._stop: asyncio.Event | None = None  # of the thread's loop
        self._ready = threading.Event()
        self._failed: BaseException | None = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    async def start(self) -> None:
        # daemon=True: a process that ends without a stop (a crash) is not kept alive by it;
        # a stop joins it.
        self._ready.clear()
        self._thread = threading.Thread(target=self._main, name=self._name, daemon=True)
        self._thread.start()
        await asyncio.to_thread(self._ready.wait)
        if self._failed is not None:
            raise self._failed

    async def run(self, work: Callable[[AsyncEngine], Coroutine[Any, Any, T]]) -> T:
        """Run ``work(engine)`` on the thread's loop and return its result (or raise its
        error). Cancelling the caller cancels ``work`` there (a transaction in flight is rolled
        back, or its commit is ambiguous: the writer spools it, as for any cut)."""
        loop, engine = self._loop, self._engine
        if loop is None or engine is None or not self.alive:
            raise RuntimeError("storage thread is not running")
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work(engine), loop))

    async def stop(self) -> None:
        """Dispose of the engine (after whatever runs there now) and join the thread."""
        thread = self._thread
        if thread is None:
            return
        self.stop_nowait()
        await asyncio.to_thread(thread.join)
        self._thread = None

    def stop_nowait(self) -> None:
        """Ask the thread to end (for callers that cannot await: a cancelled writer's done
        callback, whose cancellation already reached the work it had handed over). The thread
        lets running work end, disposes of the engine and ends by itself."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed meanwhile: it is ending anyway
                loop.call_soon_threadsafe(stop.set)

    # -- the thread ----------------------------------------------------------------------

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start(); the thread ends
            self._failed = exc
        finally:
            self._loop = None
            self._ready.set()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        try:
            self._engine = create_engine(self._url)
        except BaseException as exc:
            self._failed = exc
            return
        self._loop = asyncio.get_running_loop()
        self._ready.set()
        try:
            await self._stop.wait()
            # let work handed over before the stop finish first: it was awaited by someone
            others = asyncio.all_tasks() - {asyncio.current_task()}
            if others:
                await asyncio.wait(others)
        finally:
            await self._engine.dispose()

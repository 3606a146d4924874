"""Committing batches of write commands: one transaction per chunk, refused commands set aside.

The storage writer (``acd.storage.writer``) decides what to apply and when (queue, spool,
backoff); this module only turns a list of commands into as few transactions as it can, in
the storage thread (``acd.storage.db_thread``), off the daemon's event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from acd.logging import get_logger
from acd.storage.apply import apply_batch
from acd.storage.commands import WriteCommand, encode_command
from acd.storage.db_thread import DbThread
from acd.storage.errors import is_transient
from acd.storage.spool import Spool

log = get_logger(__name__)

# Commands per transaction: a backlog is caught up in a few commits, while one commit (and the
# SQLite write lock) lasts at most a few hundred milliseconds.
TRANSACTION_SIZE = 1000


@dataclass
class WriterStats:
    """Counters since start (for metrics and the storage benchmark)."""

    applied: int = 0  # commands committed, or set aside as refused
    transactions: int = 0  # commits
    spilled: int = 0  # commands moved to the spool because the backlog passed max_queue
    max_backlog: int = 0  # most commands waiting at once in memory


@dataclass
class _Outcome:
    """What one ``apply_all`` did in the storage thread, counted on the daemon's loop."""

    applied: int = 0  # commands in, or set aside as refused, before a transient failure
    commits: list[tuple[int, float]] = field(default_factory=list)  # (commands, seconds)
    refused: int = 0


class Committer:
    """Runs the transactions in the storage thread (``acd.storage.db_thread``); the counters
    and the ``on_commit`` hook stay on the caller's loop."""

    def __init__(
        self,
        thread: DbThread,
        spool: Spool,
        clock: Callable[[], datetime],
        on_commit: Callable[[int, float], None] | None,
    ) -> None:
        self._thread = thread
        self._spool = spool
        self._clock = clock
        self._on_commit = on_commit
        self.stats = WriterStats()

    async def apply_all(self, batch: list[WriteCommand]) -> int:
        """Apply ``batch`` in order, ``TRANSACTION_SIZE`` commands per transaction; returns how
        many went in before a transient failure (the caller spools the rest)."""
        now = self._clock()  # one time for the batch: the clock is read on the caller's loop
        outcome = _Outcome()  # the thread's until run() returns, then this loop's
        await self._thread.run(lambda engine: _apply_all(engine, batch, now, self._spool, outcome))
        for count, seconds in outcome.commits:
            self.stats.applied += count
            self.stats.transactions += 1
            if self._on_commit is not None:
                self._on_commit(count, seconds)
        self.stats.applied += outcome.refused
        return outcome.applied


# -- in the storage thread ------------------------------------------------------------------------


async def _apply_all(
    engine: AsyncEngine, batch: list[WriteCommand], now: datetime, spool: Spool, out: _Outcome
) -> None:
    while out.applied < len(batch):
        chunk = batch[out.applied : out.applied + TRANSACTION_SIZE]
        done = await _apply_chunk(engine, chunk, now, spool, out)
        out.applied += done
        if done < len(chunk):
            break


async def _apply_chunk(
    engine: AsyncEngine, chunk: list[WriteCommand], now: datetime, spool: Spool, out: _Outcome
) -> int:
    """Commit ``chunk``; how many of it went in (a refused command counts: it is set aside
    to disk) before a transient failure. A chunk the database refuses for another reason is
    halved until the refused command is alone, so only that one is rejected."""
    try:
        await _commit(engine, chunk, now, out)
        return len(chunk)
    except Exception as exc:
        if is_transient(exc):
            log.debug("database_transient_error", error=str(exc))
            return 0
        if len(chunk) == 1:
            command = chunk[0]
            log.error("write_refused", write_id=command.idempotency_key, error=str(exc))
            # blocking is fine here: this thread only writes, the daemon's loop goes on
            spool.reject(encode_command(command), repr(exc))
            out.refused += 1
            return 1
    half = len(chunk) // 2
    first = await _apply_chunk(engine, chunk[:half], now, spool, out)
    if first < half:
        return first
    return half + await _apply_chunk(engine, chunk[half:], now, spool, out)


async def _commit(
    engine: AsyncEngine, chunk: list[WriteCommand], now: datetime, out: _Outcome
) -> None:
    started = time.perf_counter()
    async with engine.begin() as connection:
        await apply_batch(connection, chunk, now)
    out.commits.append((len(chunk), time.perf_counter() - started))

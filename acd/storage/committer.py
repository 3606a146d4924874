"""Committing batches of write commands: one transaction per chunk, refused commands set aside.

The storage writer (``acd.storage.writer``) decides what to apply and when (queue, spool,
backoff); this module only turns a list of commands into as few transactions as it can.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from acd.logging import get_logger
from acd.storage.apply import apply_batch
from acd.storage.commands import WriteCommand, encode_command
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


class Committer:
    def __init__(
        self,
        engine: AsyncEngine,
        spool: Spool,
        clock: Callable[[], datetime],
        on_commit: Callable[[int, float], None] | None,
    ) -> None:
        self._engine = engine
        self._spool = spool
        self._clock = clock
        self._on_commit = on_commit
        self.stats = WriterStats()

    async def apply_all(self, batch: list[WriteCommand]) -> int:
        """Apply ``batch`` in order, ``TRANSACTION_SIZE`` commands per transaction; returns how
        many went in before a transient failure (the caller spools the rest)."""
        applied = 0
        while applied < len(batch):
            chunk = batch[applied : applied + TRANSACTION_SIZE]
            done = await self._apply_chunk(chunk)
            applied += done
            if done < len(chunk):
                break
        return applied

    async def _apply_chunk(self, chunk: list[WriteCommand]) -> int:
        """Commit ``chunk``; how many of it went in (a refused command counts: it is set aside
        to disk) before a transient failure. A chunk the database refuses for another reason is
        halved until the refused command is alone, so only that one is rejected."""
        try:
            await self._commit(chunk)
            return len(chunk)
        except Exception as exc:
            if is_transient(exc):
                log.debug("database_transient_error", error=str(exc))
                return 0
            if len(chunk) == 1:
                command = chunk[0]
                log.error("write_refused", write_id=command.idempotency_key, error=str(exc))
                await asyncio.to_thread(self._spool.reject, encode_command(command), repr(exc))
                self.stats.applied += 1
                return 1
        half = len(chunk) // 2
        first = await self._apply_chunk(chunk[:half])
        if first < half:
            return first
        return half + await self._apply_chunk(chunk[half:])

    async def _commit(self, chunk: list[WriteCommand]) -> None:
        started = time.perf_counter()
        async with self._engine.begin() as connection:
            await apply_batch(connection, chunk, self._clock())
        elapsed = time.perf_counter() - started
        self.stats.applied += len(chunk)
        self.stats.transactions += 1
        if self._on_commit is not None:
            self._on_commit(len(chunk), elapsed)

"""StorageWriter: applies write commands in submit order; spools them while the database is down.

One task drains the queue. Normal mode: whatever is queued when the previous transaction ends
is applied as one batch (``acd.storage.committer``: a few statements per table, one transaction
per ``TRANSACTION_SIZE`` commands), so the database must keep up with the rate of commits, not
of writes. On a transient failure (connection refused, server gone, database locked) the batch
and every later command go to the fsync'd spool, in order, and the spool is replayed with
exponential backoff; only when it has been fully applied is it truncated and normal mode
resumes. On start-up a spool left by a previous run is replayed first. Replay is safe to repeat
because every command is idempotent by its natural key (``acd.storage.apply``).

Idempotency keys claimed in ``applied_writes`` (audit entries and recording pauses, which have no
natural key) are pruned so the table stays bounded: every ``prune_every_s``, keys applied more
than ``keep_keys_s`` ago are deleted, and only while the spool is empty. A key matters only
while its command may still be replayed, i.e. while it may sit in the spool (an ambiguous commit
is spooled right after it was applied) or in a batch in flight; with the spool empty nothing
older than the batch in flight can come back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncEngine

from acd.logging import get_logger
from acd.storage.apply import check_command, prune_applied_writes
from acd.storage.commands import WriteCommand
from acd.storage.committer import TRANSACTION_SIZE, Committer, WriterStats
from acd.storage.spool import REJECTED_FILE, Spool

log = get_logger(__name__)

# Batches start at most this often (group commit); a write waits at most this long for company.
COMMIT_INTERVAL_S = 0.05
# After a quiet spell the first write waits this long before its transaction starts: the
# transaction's Python work (SQLAlchemy, ~1 ms a batch) runs on the event loop, and a write is
# usually the first of a burst on a caller's way to the agent's ring (the queue entry's row,
# then routing and the Dial's round trips a few ms later). Let that burst go first.
SETTLE_S = 0.01
KEEP_KEYS_S = 3600.0  # applied keys older than this (with the spool empty) can never come back
PRUNE_EVERY_S = 60.0


class _Signal:
    def __init__(self, name: str) -> None:
        self.name = name


_WAKE: Final = _Signal("wake")  # retry_now(): re-try the spool at once
_STOP: Final = _Signal("stop")  # close(): everything before it is applied or spooled


def retry_delay(attempt: int, initial_s: float, maximum_s: float) -> float:
    """Exponential backoff: initial, 2x, 4x ... capped at maximum."""
    return float(min(maximum_s, initial_s * 2 ** min(attempt, 32)))


def pace_wait(last_start: float, interval_s: float, now: float, queued: int) -> float:
    """Seconds to wait before the next batch (group commit): none once ``interval_s`` has
    passed since the last one started, nor when a full transaction is already queued."""
    if queued >= TRANSACTION_SIZE:
        return 0.0
    return max(0.0, last_start + interval_s - now)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class StorageWriter:
    def __init__(
        self,
        engine: AsyncEngine,
        spool: Spool,
        *,
        max_queue: int = 10_000,
        retry_initial_s: float = 0.5,
        retry_max_s: float = 30.0,
        commit_interval_s: float = COMMIT_INTERVAL_S,
        settle_s: float = SETTLE_S,
        clock: Callable[[], datetime] = _utc_now,
        on_outage: Callable[[bool], None] | None = None,
        on_commit: Callable[[int, float], None] | None = None,
        keep_keys_s: float = KEEP_KEYS_S,
        prune_every_s: float = PRUNE_EVERY_S,
    ) -> None:
        """``on_outage(True)`` when writes start going to the spool, ``(False)`` once replayed
        (for logging, metrics and the supervisors' "database down" alarm). ``on_commit(count,
        seconds)`` after each transaction: commands in it, time from BEGIN to COMMIT done."""
        self._committer = Committer(engine, spool, clock, on_commit)
        self._spool = spool
        # Unbounded: a full queue would have to drop writes. ``max_queue`` is where the backlog
        # moves to disk instead (the database is slower than the floor, or gone).
        self._queue: asyncio.Queue[WriteCommand | _Signal] = asyncio.Queue()
        self._max_queue = max_queue
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self._on_outage = on_outage
        self._commit_interval_s = commit_interval_s
        self._settle_s = settle_s
        self._batch_started = float("-inf")
        self._spooling = False  # True while the spool holds commands not yet applied
        self._attempt = 0
        self._idle = asyncio.Event()
        self._replayed = asyncio.Event()  # set while nothing waits in the spool
        self._task: asyncio.Task[None] | None = None
        self._in_flight: list[WriteCommand] = []
        self._closing = False
        self._closing_now = asyncio.Event()
        self._engine = engine
        self._clock = clock
        self._keep_keys = timedelta(seconds=keep_keys_s)
        self._prune_every = timedelta(seconds=prune_every_s)
        self._pruned_at: datetime | None = None
        self.keys_pruned = 0  # applied_writes rows deleted

    # -- producer side ------------------------------------------------------------------

    def submit(self, command: WriteCommand) -> None:
        """Queue without waiting; ValueError for a bad command. Never refuses a write: a backlog
        beyond ``max_queue`` is moved to the spool by the drain loop (see ``_drain``)."""
        self._check_open(command)
        self._idle.clear()
        self._queue.put_nowait(command)

    async def write(self, command: WriteCommand) -> None:
        """Queue, waiting for room if the queue is full (back-pressure)."""
        self._check_open(command)
        self._idle.clear()
        await self._queue.put(command)

    def _check_open(self, command: WriteCommand) -> None:
        if self._task is None or self._closing:
            raise RuntimeError("storage writer is not running")
        check_command(command)

    def retry_now(self) -> None:
        """Skip the current backoff wait (e.g. an operator knows the database is back)."""
        # A full queue means the drain loop is about to wake up anyway.
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(_WAKE)

    @property
    def stats(self) -> WriterStats:
        return self._committer.stats

    @property
    def spooling(self) -> bool:
        return self._spooling

    @property
    def spilled(self) -> int:
        """Writes that went to the spool because the backlog passed ``max_queue``."""
        return self.stats.spilled

    @property
    def backlog(self) -> int:
        """Commands submitted and not yet committed nor spooled."""
        return self._queue.qsize() + len(self._in_flight)

    async def wait_replayed(self) -> None:
        """Return once no write waits in the spool: a spool found at start (a previous term's
        writes) is in the database. Readers of the history (the call reconcile, the fallback
        import) wait for it, or they see rows without their last writes."""
        await self._replayed.wait()

    async def wait_drained(self) -> None:
        """Return once everything submitted so far is in the database (not merely spooled)."""
        while not self._idle.is_set():
            if self._task is None or self._task.done():
                raise RuntimeError("storage writer is not running")
            waiter = asyncio.ensure_future(self._idle.wait())
            try:
                await asyncio.wait({waiter, self._task}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
                await asyncio.gather(waiter, return_exceptions=True)

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self._set_spooling(await asyncio.to_thread(self._spool.has_entries))
        if not self._spooling:
            self._replayed.set()
        self._task = asyncio.create_task(self._drain(), name="storage-writer")
        self._task.add_done_callback(self._keep_unwritten)

    async def close(self) -> None:
        """Apply or spool everything submitted before the call, then stop."""
        if self._task is None:
            return
        self._closing = True
        self._closing_now.set()
        if not self._task.done():
            await self._queue.put(_STOP)
        try:
            await self._task
        finally:
            self._task = None

    # -- drain loop ---------------------------------------------------------------------

    def _keep_unwritten(self, task: asyncio.Task[None]) -> None:
        """Cancelled or crashed instead of closed (e.g. asyncio.run() cancelling leftover tasks
        at exit): put what is still in memory on disk so the next start replays it. A done
        callback, not ``except CancelledError``: a task cancelled before its first step never
        runs any of its code."""
        unwritten = [*self._in_flight, *self._take_queued()]
        if unwritten:
            self._spool.append(unwritten)  # synchronous: nothing can be awaited any more
            log.warning("storage_writer_stopped_writes_spooled", count=len(unwritten))

    def _take_queued(self) -> list[WriteCommand]:
        taken: list[WriteCommand] = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if not isinstance(item, _Signal):
                taken.append(item)
        return taken

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        retry_at = loop.time()  # a spool found at start-up is replayed at once
        while True:
            if not self._spooling and self._queue.empty():
                self._idle.set()
            if not self._spooling:
                await self._pace(loop)
            quiet = self._queue.empty()
            first = await self._next_item(retry_at if self._spooling else None)
            if quiet and not self._spooling and isinstance(first, WriteCommand):
                self._in_flight = [first]  # a cancellation meanwhile spools it
                await self._closing_or(self._settle_s)
            batch, wake, stop = self._collect(first)
            self._in_flight = batch
            self.stats.max_backlog = max(self.stats.max_backlog, len(batch))
            if not self._spooling and len(batch) > self._max_queue:
                # The floor writes faster than the database takes them: keep the backlog on
                # disk, in order, and catch up from there. Only this task writes the spool.
                log.warning(
                    "storage_behind_spooling", count=len(batch), spool=str(self._spool.path)
                )
                self.stats.spilled += len(batch)
                self._set_spooling(True)
                retry_at = loop.time()
            if self._spooling:
                # Behind the spool: later writes must not overtake the spooled ones.
                await asyncio.to_thread(self._spool.append, batch)
                self._in_flight = []
                if (wake or loop.time() >= retry_at) and not await self._replay():
                    retry_at = loop.time() + self._next_delay()
            else:
                self._batch_started = loop.time()
                applied = await self._committer.apply_all(batch)
                if applied < len(batch):
                    await asyncio.to_thread(self._spool.append, batch[applied:])
                    self._set_spooling(True)
                    retry_at = loop.time() + self._next_delay()
                    log.warning("database_unavailable_spooling", spool=str(self._spool.path))
                self._in_flight = []
                if not self._spooling:
                    await self._prune_keys()
            if stop:
                return

    async def _pace(self, loop: asyncio.AbstractEventLoop) -> None:
        """Group commit: start batches at most every ``commit_interval_s``. A transaction's
        round trips cost far more than its rows, so a busy floor's writes share commits; after
        a quiet spell the next write goes in at once. Waits with nothing taken off the queue,
        so a cancellation meanwhile still spools everything (``_keep_unwritten``)."""
        wait = pace_wait(
            self._batch_started, self._commit_interval_s, loop.time(), self._queue.qsize()
        )
        await self._closing_or(wait)

    async def _closing_or(self, wait: float) -> None:
        """Wait ``wait`` seconds, or less if close() is called: it does not wait for company."""
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._closing_now.wait()

    async def _next_item(self, deadline: float | None) -> WriteCommand | _Signal | None:
        """The next queued item, or None when the loop-time ``deadline`` comes first."""
        try:
            async with asyncio.timeout_at(deadline):
                return await self._queue.get()
        except TimeoutError:
            return None

    def _collect(
        self, first: WriteCommand | _Signal | None
    ) -> tuple[list[WriteCommand], bool, bool]:
        """``first`` plus whatever is already queued, up to a stop: (commands, wake, stop)."""
        commands: list[WriteCommand] = []
        wake = stop = False
        item = first
        while True:
            if item is _STOP:
                stop = True
                break
            if item is _WAKE:
                wake = True
            elif item is not None and not isinstance(item, _Signal):
                commands.append(item)
            if self._queue.empty():
                break
            item = self._queue.get_nowait()
        return commands, wake, stop

    def _set_spooling(self, spooling: bool) -> None:
        changed = spooling != self._spooling
        self._spooling = spooling
        if spooling:
            self._replayed.clear()
        else:
            self._replayed.set()
        if changed and self._on_outage is not None:
            self._on_outage(spooling)

    def _next_delay(self) -> float:
        delay = retry_delay(self._attempt, self._retry_initial_s, self._retry_max_s)
        self._attempt += 1
        return delay

    async def _prune_keys(self) -> None:
        """Delete old idempotency keys (the spool is empty: none of them can be replayed)."""
        now = self._clock()
        if self._pruned_at is not None and now - self._pruned_at < self._prune_every:
            return
        self._pruned_at = now
        try:
            async with self._engine.begin() as connection:
                self.keys_pruned += await prune_applied_writes(connection, now - self._keep_keys)
        except Exception as exc:  # the next round tries again; the writes themselves are safe
            log.warning("applied_keys_not_pruned", error=str(exc))

    async def _replay(self) -> bool:
        """Apply the whole spool in order; True (and the spool emptied) when all went in."""
        contents = await asyncio.to_thread(self._spool.load)
        for number, line, reason in contents.bad_lines:
            log.error(
                "spool_line_unreadable", line_number=number, kept_in=REJECTED_FILE, reason=reason
            )
            await asyncio.to_thread(self._spool.reject, line, f"unreadable: {reason}")
        commands = list(contents.commands)
        applied = await self._committer.apply_all(commands)
        if applied < len(commands):
            if applied > 0 or contents.bad_lines:
                # Keep the progress, so nothing is rejected twice and replays get shorter.
                await asyncio.to_thread(self._spool.replace, commands[applied:])
            return False
        await asyncio.to_thread(self._spool.clear)
        self._attempt = 0
        self._set_spooling(False)
        log.info("database_back_spool_replayed", count=len(contents.commands))
        return True

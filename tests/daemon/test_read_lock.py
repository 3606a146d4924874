"""The daemon's lookups during calls (due call-backs, caller, orders) only read, so on SQLite they
must not take the write lock: a writer holding it (the storage writer in a long batch, a
migration, an operator's sqlite3 shell) must not stall them, and a lookup cancelled at stop must
not leave the lock held for the writer's final flush."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from tests.daemon.harness import floor_harness, floor_settings


@pytest.mark.asyncio
async def test_call_back_checks_go_on_while_another_connection_holds_the_write_lock(
    tmp_path: Path,
) -> None:
    base = floor_settings(2)
    callbacks = base.callbacks.model_copy(update={"check_every_s": 0.05})
    settings = base.model_copy(update={"callbacks": callbacks})
    async with floor_harness(tmp_path, settings=settings) as h:
        await h.wait_for(lambda: h.daemon.callbacks.rounds > 0, "a first call-back check")
        holder = sqlite3.connect(
            h.db_path, timeout=30, isolation_level=None, check_same_thread=False
        )
        try:
            # The write lock, held like a long batch would. Taken off the event loop: the
            # daemon's own writer may be inside a transaction right now, and it can only commit
            # (and let us have the lock) while the loop runs.
            await asyncio.to_thread(holder.execute, "BEGIN IMMEDIATE")
            before = h.daemon.callbacks.rounds
            # A lookup that wanted the write lock would wait out the busy timeout (10 s).
            await h.wait_for(
                lambda: h.daemon.callbacks.rounds >= before + 3,
                "call-back checks while the write lock is held",
                limit_s=3.0,
            )
        finally:
            if holder.in_transaction:
                holder.execute("ROLLBACK")
            holder.close()

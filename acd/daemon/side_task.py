"""A piece of a call's work that runs beside the call task's next awaits, never beyond them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


@contextlib.asynccontextmanager
async def beside(work: Coroutine[Any, Any, T], name: str) -> AsyncIterator[asyncio.Task[T]]:
    """Run ``work`` while the block runs (which awaits the task for its result); whatever ends
    the block, the task is over when it exits: cancelled if the block raised before awaiting it.
    Two round trips overlap (a FastAGI command and the ACD's routing, the screen pop's PUBACK and
    MixMonitor) with no task left behind."""
    task = asyncio.create_task(work, name=name)
    try:
        yield task
    finally:
        task.cancel()  # done already unless the block raised first
        await asyncio.gather(task, return_exceptions=True)

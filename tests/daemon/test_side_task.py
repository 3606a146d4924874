"""``beside``: work that overlaps the call task's next awaits and never outlives the block."""

from __future__ import annotations

import asyncio

import pytest

from acd.daemon.side_task import beside


@pytest.mark.asyncio
async def test_the_block_gets_the_works_result() -> None:
    async def work() -> int:
        await asyncio.sleep(0)
        return 7

    async with beside(work(), "w") as task:
        assert await task == 7
    assert task.done()
    assert not task.cancelled()


@pytest.mark.asyncio
async def test_a_block_that_raises_first_leaves_no_task_running() -> None:
    never = asyncio.Event()

    async def work() -> None:
        await never.wait()

    with pytest.raises(RuntimeError, match="routing failed"):
        async with beside(work(), "w") as task:
            raise RuntimeError("routing failed")
    assert task.cancelled()


@pytest.mark.asyncio
async def test_the_works_error_reaches_the_block() -> None:
    async def work() -> None:
        raise ConnectionError("FastAGI connection lost")

    with pytest.raises(ConnectionError):
        async with beside(work(), "w") as task:
            await task

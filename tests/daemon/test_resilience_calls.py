"""Callers who leave early, garbage on the FastAGI port, a wrong key: nobody stays stuck."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from acd.sim.plan import CallerBehaviour
from tests.daemon.harness import floor_harness


@pytest.mark.asyncio
async def test_smoke_one_call_answered(tmp_path: Path) -> None:
    async with floor_harness(tmp_path, agents=2) as h:
        await h.place()
        await h.wait_for(h.quiet, "the call to end")
        await h.stop_daemon()
    rows = h.rows("select outcome, agent_id from calls")
    assert [r[0] for r in rows] == ["answered"]

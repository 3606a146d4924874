"""Bad input hurts only itself: garbage on the FastAGI port and a wrong menu key leave the
other calls alone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from acd.cli.features import hotline_features
from acd.sim.plan import CallerBehaviour
from tests.daemon.harness import floor_harness, floor_settings

GARBAGE = (
    b"\x00\xff\xfe\x16\x03\x01 not an AGI environment\r\n\r\n",  # a TLS hello-ish blob
    b"GET / HTTP/1.1\r\nHost: hotline\r\n\r\n",
    b"agi_network: yes\nagi_channel PJSIP/broken\n\n",  # a line with no colon
)


async def _closed_by_peer(reader: asyncio.StreamReader) -> bool:
    return await reader.read(65536) == b""


@pytest.mark.asyncio
async def test_garbage_on_the_fastagi_port_does_not_hurt_calls(tmp_path: Path) -> None:
    async with floor_harness(tmp_path, agents=2) as h:
        host, port = h.settings.system.fastagi.host, h.sim.plan.dialplan.agi_port
        # a half-sent environment that stays open while real calls go through
        _idle_reader, idle = await asyncio.open_connection(host, port)
        idle.write(b"agi_network: yes\nagi_request: agi://127.0.0.1/ivr\n")
        await idle.drain()
        closed: list[bool] = []
        for blob in GARBAGE:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(blob)
            await writer.drain()
            await h.place(CallerBehaviour(number=f"55509{len(closed):02d}", hangup_after=None))
            async with asyncio.timeout(5):
                closed.append(await _closed_by_peer(reader))
            writer.close()
        await h.wait_for(h.quiet, "the calls to end")
        idle.close()
        await h.stop_daemon()
    assert closed == [True, True, True]  # every garbage connection was closed by the daemon
    outcomes = [o for (o,) in h.rows("select outcome from calls")]
    assert outcomes == ["answered"] * len(GARBAGE)


@pytest.mark.asyncio
async def test_wrong_menu_keys_do_not_hurt_other_callers(tmp_path: Path) -> None:
    settings = floor_settings(4)
    async with floor_harness(
        tmp_path, settings=settings, features=hotline_features(settings), time_scale=40.0
    ) as h:
        callers = {
            "5551001": ("9", "0"),  # a wrong key, then an agent
            "5551002": ("#", "8", "7", "6"),  # nothing valid at all: the menu's default
            "5551003": ("0",),  # straight to an agent, at the same time
            "5551004": ("1", "2"),  # orders, at the same time
        }
        for number, keys in callers.items():
            await h.place(
                CallerBehaviour(
                    number=number, prompt_answers=keys, answer_delay=0.5, hangup_after=None
                )
            )
        await h.wait_for(h.quiet, "the calls to end", limit_s=15.0)
        await h.stop_daemon()
    rows = {n: (o, q) for n, o, q in h.rows("select caller_number, outcome, queue from calls")}
    assert rows == {
        "5551001": ("answered", settings.default_queue),
        "5551002": ("answered", settings.default_queue),
        "5551003": ("answered", settings.default_queue),
        "5551004": ("answered", "orders"),
    }

"""A burst of 40 callers at once on a real Asterisk: every one is taken by the daemon (none
falls back to the dialplan's Queue(), none is dropped), queued, and stored once."""

from __future__ import annotations

import asyncio

import pytest

from tests.live.rig import Caller, LiveRig

pytestmark = [pytest.mark.live, pytest.mark.asyncio]

BURST = 40


async def test_forty_callers_at_once(rig: LiveRig) -> None:
    mark = rig.events.mark()
    callers: list[Caller] = await asyncio.gather(
        *(rig.call(f"1390000{n:04d}", wait_ivr=False) for n in range(BURST))
    )
    # each reaches the main menu, then asks for an agent (nobody is logged in: they all wait)
    for caller in callers:
        await rig.agi_command(caller, "GET DATA hotline/zh/main-menu", after=mark, limit_s=60)
    await asyncio.gather(*(rig.press(c, "0") for c in callers))

    async def all_waiting() -> bool:
        waiting = await rig.daemon.waiting()
        return all(c.uniqueid in waiting for c in callers)

    await rig.daemon.until(all_waiting, f"{BURST} callers waiting", limit_s=60)
    queued = (await rig.daemon.waiting()).values()
    assert {row["queue"] for row in queued if row["call_id"].startswith("live-")} == {"enquiries"}
    fallback = rig.events.since(
        mark, lambda m: m.name == "Newexten" and m.get("Context") == "hotline-fallback"
    )
    assert fallback == []
    hangups = {c.uniqueid for c in callers} & {
        m.get("Uniqueid") for m in rig.events.since(mark, lambda m: m.name == "Hangup")
    }
    assert hangups == set()  # nobody dropped
    await asyncio.gather(*(rig.hang_up(c) for c in callers))
    rows = [await rig.daemon.ended_call(c.uniqueid) for c in callers]
    assert {(r["queue"], r["outcome"]) for r in rows} == {("enquiries", "abandoned")}
    await rig.daemon.stop()
    ids = [c.uniqueid for c in callers]
    (count,) = rig.daemon.rows(
        f"select count(*) from calls where id in ({','.join('?' * len(ids))})", tuple(ids)
    )[0]
    assert count == BURST

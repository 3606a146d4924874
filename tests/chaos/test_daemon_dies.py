"""Chaos: ``hotline run`` (a separate process) dies or stops under traffic; nobody is dropped.

Real processes on the machine's PostgreSQL and Mosquitto in front of the PBX simulator running
the shipped dialplan (``tests.app.standby_rig``). A burst of patient callers (they press 0 and
never hang up first) is placed just before the signal, so at that moment callers are in the
IVR, waiting, ringing and talking. Whatever the daemon's end (SIGKILL, SIGTERM) and whoever
carries on (the standby taking over, or the same daemon restarted), the checks are the same:
- every caller is put through to an agent (by a daemon, or by the fallback ``Queue()``);
- every call has exactly one row, and it is terminal (an outcome and an end);
- no agent's phone is rung while it is in a conversation.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from acd.asterisk.ami.message import Message
from tests.app.standby_rig import Node, Rig, standby_rig

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt, pytest.mark.slow]
BURST = 10
SETTLE_LIMIT_S = 60.0


async def _burst(rig: Rig, first: int) -> list[str]:
    numbers = [f"555{first + i:05d}" for i in range(BURST)]
    for number in numbers:
        await rig.place(number)
        await asyncio.sleep(0.05)
    return numbers


def phones_rung_while_talking(events: list[Message]) -> list[str]:
    """Agent phone channels (``PJSIP/<ext>-...``) created while the same phone is bridged."""
    bridged: dict[str, str] = {}  # phone -> its bridged channel
    found: list[str] = []
    for m in events:
        channel = m.get("Channel") or ""
        if not channel.startswith("PJSIP/"):
            continue
        phone = channel.split("-", 1)[0]
        if m.name == "Newchannel" and phone in bridged:
            found.append(f"{channel} while {bridged[phone]} talks")
        elif m.name == "BridgeEnter":
            bridged[phone] = channel
        elif m.name == "Hangup" and bridged.get(phone) == channel:
            del bridged[phone]
    return found


async def _check(rig: Rig, placed: list[str]) -> None:
    async with asyncio.timeout(SETTLE_LIMIT_S):
        await rig.sim.wait_idle()
        while True:  # the daemons write a call's last row after its channel is gone
            rows = await rig.rows("SELECT caller_number, outcome, ended_at FROM calls")
            if len(rows) >= len(placed) and all(r["outcome"] and r["ended_at"] for r in rows):
                break
            await asyncio.sleep(0.2)
    numbers = sorted(r["caller_number"] for r in rows)
    assert numbers == sorted(placed)  # one row per call: none lost, none twice
    assert set(placed) <= rig.served_numbers()  # nobody dropped: all put through
    events = list(rig.sim.emitted or ())
    talks = [
        m for m in events if m.name == "BridgeEnter" and m.get("Channel", "").startswith("PJSIP/")
    ]
    assert len(talks) >= len(placed)  # the check below sees the agents' phones
    assert phones_rung_while_talking(events) == []


@pytest.mark.asyncio
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
async def test_the_standby_carries_on_when_the_active_daemon_dies(
    tmp_path: Path, sig: signal.Signals
) -> None:
    async with standby_rig(tmp_path) as rig:
        await rig.active.agents("login", rig.agent_ids)
        placed = await _burst(rig, 0)
        hit = rig.active.signal(sig)
        await rig.standby.wait_event("daemon_up", since=hit)
        floor = await rig.standby.floor_agents()
        if all(state == "logged_out" for state in floor.values()):
            await rig.standby.agents("login", rig.agent_ids)  # (until sessions are restored)
        placed += await _burst(rig, BURST)
        await _check(rig, placed)


@pytest.mark.asyncio
async def test_a_killed_daemon_restarted_in_place_loses_nobody(tmp_path: Path) -> None:
    async with standby_rig(tmp_path, start_standby=False) as rig:
        await rig.active.agents("login", rig.agent_ids)
        placed = await _burst(rig, 0)
        rig.active.signal(signal.SIGKILL)
        await rig.active.wait()
        again = Node("a2", rig.active.config, rig.active.http_port, standby=False)
        try:
            await again.start(rig.env, rig.db_url)
            await again.wait_event("daemon_up")
            floor = await again.floor_agents()
            if all(state == "logged_out" for state in floor.values()):
                await again.agents("login", rig.agent_ids)
            placed += await _burst(rig, BURST)
            await _check(rig, placed)
        finally:
            await again.close()

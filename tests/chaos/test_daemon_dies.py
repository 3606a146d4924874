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

import signal
from pathlib import Path

import pytest

from tests.app.standby_rig import Node, standby_rig
from tests.chaos.checks import BURST, burst, check_calls

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt, pytest.mark.slow]


@pytest.mark.asyncio
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
async def test_the_standby_carries_on_when_the_active_daemon_dies(
    tmp_path: Path, sig: signal.Signals
) -> None:
    async with standby_rig(tmp_path) as rig:
        await rig.active.agents("login", rig.agent_ids)
        placed = await burst(rig, 0)
        hit = rig.active.signal(sig)
        await rig.standby.wait_event("daemon_up", since=hit)
        floor = await rig.standby.floor_agents()
        if all(state == "logged_out" for state in floor.values()):
            await rig.standby.agents("login", rig.agent_ids)  # (until sessions are restored)
        placed += await burst(rig, BURST)
        await check_calls(rig, placed)


@pytest.mark.asyncio
async def test_a_killed_daemon_restarted_in_place_loses_nobody(tmp_path: Path) -> None:
    async with standby_rig(tmp_path, start_standby=False) as rig:
        await rig.active.agents("login", rig.agent_ids)
        placed = await burst(rig, 0)
        rig.active.signal(signal.SIGKILL)
        await rig.active.wait()
        again = Node("a2", rig.active.config, rig.active.http_port, standby=False)
        try:
            await again.start(rig.env, rig.db_url)
            await again.wait_event("daemon_up")
            floor = await again.floor_agents()
            if all(state == "logged_out" for state in floor.values()):
                await again.agents("login", rig.agent_ids)
            placed += await burst(rig, BURST)
            await check_calls(rig, placed)
        finally:
            await again.close()

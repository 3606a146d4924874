"""Chaos: what ``hotline run`` (a separate process) depends on goes away mid-burst and comes back.

The same rig and checks as ``test_daemon_dies`` (``tests.chaos.checks``): every caller put
through, exactly one terminal row per call, no agent's phone rung while it talks; and here,
once the fallback import has read all Asterisk logged, every row says ``answered``. Half a burst is
placed, the dependency is cut, the other half is placed into the outage, the dependency returns
a few seconds later, and one more burst shows the floor works again:
- AMI: the simulator refuses the manager port (``Faults.refuse_ami``), then accepts it again;
- PostgreSQL: the active daemon's database connections go through a relay that is cut (a
  network black hole, ``tests.daemon.pg_proxy``), then healed;
- MQTT: a private Mosquitto on a free port (never the machine's 1883) is stopped, then started.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest

from tests.app.standby_rig import free_port, standby_rig
from tests.chaos.checks import BURST, burst, check_calls
from tests.conftest import mosquitto
from tests.daemon.pg_proxy import PgProxy

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt, pytest.mark.slow]
OUTAGE_S = 3.0  # "a few seconds": the outage itself, not a synchronisation
HALF = BURST // 2


@pytest.mark.asyncio
async def test_ami_cut_mid_burst_loses_nobody(tmp_path: Path) -> None:
    async with standby_rig(tmp_path, start_standby=False) as rig:
        await rig.active.agents("login", rig.agent_ids)
        placed = await burst(rig, 0, HALF)
        cut = time.monotonic()
        rig.sim.faults.refuse_ami()
        await rig.active.wait_event("ami_connection_lost", since=cut)
        placed += await burst(rig, HALF, BURST - HALF)
        await asyncio.sleep(OUTAGE_S)
        back = time.monotonic()
        rig.sim.faults.refuse_ami(on=False)
        await rig.active.wait_event("ami_logged_in", since=back)
        await rig.active.wait_event("ami_resynchronised", since=back)
        placed += await burst(rig, BURST)
        await check_calls(rig, placed, all_answered=True)


@pytest.mark.asyncio
async def test_database_outage_mid_burst_loses_no_row_and_writes_none_twice(
    tmp_path: Path,
) -> None:
    # The active daemon's lock session is cut too, so it steps down (acd.daemon.leadership):
    # its unwritten rows go to its spool, callers meanwhile go through the dialplan's fallback
    # Queue(), and when the network heals the same process takes the leadership back and
    # replays the spool (idempotency keys: nothing written twice).
    proxy = PgProxy()
    await proxy.start()
    try:
        async with standby_rig(tmp_path, start_standby=False, active_via=proxy.port) as rig:
            await rig.active.agents("login", rig.agent_ids)
            placed = await burst(rig, 0, HALF)
            cut = time.monotonic()
            proxy.cut()
            placed += await burst(rig, HALF, BURST - HALF)
            await rig.active.wait_event("daemon_stepping_down", since=cut)
            await asyncio.sleep(OUTAGE_S)
            healed = time.monotonic()
            proxy.heal()
            await rig.active.wait_event("daemon_up", since=healed)
            floor = await rig.active.floor_agents()
            if all(state == "logged_out" for state in floor.values()):
                await rig.active.agents("login", rig.agent_ids)
            placed += await burst(rig, BURST)
            await check_calls(rig, placed, all_answered=True)
            assert rig.active.seen("database_back_spool_replayed", since=cut)
    finally:
        await proxy.close()


@pytest.mark.asyncio
async def test_broker_outage_mid_burst_loses_nobody(tmp_path: Path) -> None:
    if shutil.which("mosquitto") is None:
        pytest.skip("mosquitto not installed")
    port = free_port()
    async with (
        mosquitto(port) as first,
        standby_rig(tmp_path, start_standby=False, mqtt_port=port) as rig,
    ):
        await rig.active.wait_event("mqtt_connected")
        await rig.active.agents("login", rig.agent_ids)
        placed = await burst(rig, 0, HALF)
        cut = time.monotonic()
        first.kill()
        await asyncio.to_thread(first.wait)
        await rig.active.wait_event("mqtt_link_down", since=cut)
        placed += await burst(rig, HALF, BURST - HALF)
        await asyncio.sleep(OUTAGE_S)
        back = time.monotonic()
        async with mosquitto(port):
            await rig.active.wait_event("mqtt_connected", since=back)
            placed += await burst(rig, BURST)
            await check_calls(rig, placed, all_answered=True)

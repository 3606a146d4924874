"""A standby ``hotline run`` takes over: two daemon processes on the machine's PostgreSQL, the
PBX simulator in front of them, the machine's Mosquitto behind (``tests.app.standby_rig``).

- SIGKILL of the active daemon: the standby takes the lock, publishes its own floor as the
  retained agent states before it takes calls, and takes the next call on
  its own address (the dialplan tries it second); the dead one, started again, waits as the
  standby (SIGTERM ends the wait).
- The active daemon's network to PostgreSQL cut: it steps down at once (its FastAGI port
  closes), the server ends its silent session and the standby takes over; the old one waits as
  a standby and takes over again when the other stops (SIGTERM).
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from tests.app.standby_rig import Node, Rig, standby_rig
from tests.conftest import port_open
from tests.daemon.pg_proxy import PgProxy

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt]


async def retained_agent_states(rig: Rig) -> dict[str, str]:
    """What a desktop subscribing now is told of every agent (retained messages)."""
    states: dict[str, str] = {}
    topic = f"{rig.mqtt_prefix}/agents/+/state"
    async with aiomqtt.Client("127.0.0.1", 1883, identifier=f"{rig.mqtt_prefix}-desk") as desk:
        await desk.subscribe(topic, qos=1)
        async with asyncio.timeout(5):
            async for message in desk.messages:
                assert isinstance(message.payload, bytes)
                body = json.loads(message.payload)
                states[body["agent_id"]] = body["state"]
                if len(states) == len(rig.agent_ids):
                    return states
    return states


async def retained_become(rig: Rig, floor: dict[str, str], limit_s: float = 10.0) -> None:
    """The retained agent states come to equal ``floor`` (the new daemon's publisher connects
    to the broker after it took over; nothing waits for the broker). ``limit_s``: a safety net."""
    deadline = time.monotonic() + limit_s
    while (states := await retained_agent_states(rig)) != floor:
        assert time.monotonic() < deadline, (states, floor)
        await asyncio.sleep(0.1)


async def call_row(rig: Rig, number: str, outcome: str = "answered") -> list[Any]:
    """The call rows of ``number`` once one has ``outcome`` (PostgreSQL, shared by both)."""
    async with asyncio.timeout(30):
        while True:
            rows = await rig.rows(
                "SELECT id, outcome, handled_by FROM calls WHERE caller_number = $1", number
            )
            if any(r["outcome"] == outcome for r in rows):
                return rows
            await asyncio.sleep(0.1)


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.asyncio
async def test_the_standby_takes_over_within_5_s_when_the_active_daemon_is_killed(
    tmp_path: Path,
) -> None:
    if not port_open("127.0.0.1", 1883, 0.5):
        pytest.fail("Mosquitto expected on 127.0.0.1:1883")
    async with standby_rig(tmp_path) as rig:
        await rig.active.agents("login", rig.agent_ids)
        await rig.place("5551001")
        assert [r["handled_by"] for r in await call_row(rig, "5551001")] == ["daemon"]
        before = await retained_agent_states(rig)
        assert "logged_out" not in before.values()  # logged in on the active daemon

        killed = rig.active.signal(signal.SIGKILL)
        # (how fast: bench/failover.py, detect_s and takeover_s)
        acquired = await rig.standby.wait_event("leadership_acquired", since=killed)
        up = await rig.standby.wait_event("daemon_up", since=acquired)
        # the retained states become the new daemon's floor, not the dead one's "ready"
        await retained_become(rig, await rig.standby.floor_agents())
        await rig.active.wait()
        # the dead host comes back: it waits as the standby, and SIGTERM ends the wait (exit 0)
        again = Node("a2", rig.active.config, rig.active.http_port, standby=False)
        try:
            await again.start(rig.env, rig.db_url)
            await again.wait_event("standby_waiting")
            assert not again.seen("daemon_up")
            again.signal(signal.SIGTERM)
            assert await again.wait() == 0
        finally:
            await again.close()

        # the agents' sessions outlived the killed daemon: nobody logs in again
        assert "logged_out" not in (await rig.standby.floor_agents()).values()
        await rig.place("5551002")  # nothing on the active address: the dialplan tries ours
        await rig.standby.wait_event("fastagi_session_started", since=up)
        rows = await call_row(rig, "5551002")
        assert [(r["outcome"], r["handled_by"]) for r in rows] == [("answered", "daemon")]
        await retained_become(rig, await rig.standby.floor_agents())
        rig.standby.signal(signal.SIGTERM)
        assert await rig.standby.wait() == 0


@pytest.mark.asyncio
async def test_a_daemon_cut_off_from_postgresql_steps_down_and_the_standby_takes_over(
    tmp_path: Path,
) -> None:
    proxy = PgProxy()
    await proxy.start()
    try:
        async with standby_rig(tmp_path, active_via=proxy.port) as rig:
            agi_port = rig.settings.fastagi.port
            assert listening(agi_port)
            proxy.cut()
            cut = time.monotonic()
            stepped_down = await rig.active.wait_event("daemon_stepping_down", since=cut)
            acquired = await rig.standby.wait_event("leadership_acquired", since=cut)
            assert stepped_down < acquired  # never two active daemons
            await rig.active.wait_event("standby_again", since=cut)
            assert not listening(agi_port)  # stepped down: calls go to the standby's address
            await rig.standby.wait_event("daemon_up", since=cut)

            proxy.heal()  # the old active daemon waits as a standby now
            stopped = rig.standby.signal(signal.SIGTERM)
            assert await rig.standby.wait() == 0
            await rig.active.wait_event("leadership_acquired", since=stopped, limit_s=10)
            await rig.active.wait_event("daemon_up", since=stopped)
            assert listening(agi_port)
    finally:
        await proxy.close()

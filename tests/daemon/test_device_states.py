"""Device states on the real daemon against the simulator, for Local and SIP agent endpoints.

Asterisk names the device of ``Local/1003@agent-phones/n`` without the ``/n``
(``ami_daemon_after_sales_call.raw``); the simulator must do the same and the daemon must match
its agents on that name. A phone in use is not offered; an unavailable one pauses the agent with
a reason the API shows; a lost AMI link makes every device state unknown until the resync.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import httpx
import pytest

from acd.app.daemon import RunOptions
from acd.settings.settings import Settings
from acd.sim.plan import AgentBehaviour, CallerBehaviour, DeviceState
from tests.daemon import harness as harness_module
from tests.daemon.harness import Harness, floor_harness, floor_settings
from tests.http.api_harness import AGENT
from tests.http.live_daemon import with_tokens
from tests.transcripts import transcript_path

LOCAL = "Local/1003@agent-phones/n"  # the recorded agent's endpoint
PJSIP = "PJSIP/1003"


def recorded_device() -> str:
    """The device name the real Asterisk used for ``LOCAL`` in its DeviceStateChange events."""
    raw = transcript_path("ami_daemon_after_sales_call.raw").read_bytes().decode()
    (device,) = set(re.findall(r"Device: (Local/1003@agent-phones\S*)\r\n", raw))
    return device


def local_agent(settings: Settings) -> Settings:
    (agent,) = settings.agents
    return settings.model_copy(update={"agents": (agent.model_copy(update={"endpoint": LOCAL}),)})


def pjsip_agent(settings: Settings) -> Settings:
    """A SIP phone: its device state is the phone's own (registration, calls), listed by
    DeviceStateList; a Local device is only ever NOT_INUSE, INUSE or INVALID and not listed
    (q3_devstate_local in tests/fixtures/asterisk-dev)."""
    (agent,) = settings.agents
    update = {"endpoint": PJSIP, "location": "office"}
    return settings.model_copy(update={"agents": (agent.model_copy(update=update),)})


def set_device(h: Harness, state: DeviceState) -> None:
    """The SIP phone's state changes (it is unplugged, registers again, dials out...)."""
    h.sim.catch_up()
    h.sim.pbx.set_device_state(h.sim.now(), PJSIP, state)
    h.sim.flush()


async def device_is(h: Harness, agent: str, state: str) -> bool:
    return await h.floor(lambda f, _now: f.agents[agent].device.value == state)


async def caller_waiting(h: Harness) -> bool:
    return bool(await h.floor(lambda f, _now: f.router.waiting_calls()))


def answered(h: Harness) -> bool:
    """A call answered, still going or over: at the simulator's ten times real time a talk lasts
    a fifth of a second, which a poll on a loaded machine misses if it looks at open calls only."""
    registry = h.daemon.registry
    return any(c.state.agent_channel for c in registry) or any(c.talked for c in registry.recent)


@pytest.mark.asyncio
async def test_a_local_agent_in_use_is_offered_only_once_the_device_is_not_inuse(
    tmp_path: Path,
) -> None:
    settings = local_agent(floor_settings(1))
    agent = settings.agents[0].id
    phone = AgentBehaviour(answer_after=0.2, talk_time=3.0, hangs_up="agent")
    async with floor_harness(tmp_path, settings=settings, behaviour=phone, keep_events=True) as h:
        # a call the daemon did not place (the agent's phone is rung from elsewhere): Local
        # devices follow their channels, so the device is INUSE only while that call lasts
        reply = await h.daemon.ami.action(
            "Originate",
            [("Channel", LOCAL), ("Application", "Wait"), ("Data", "30"), ("Async", "true")],
        )
        assert reply.ok
        await h.wait_for(lambda: device_is(h, agent, "INUSE"), "the daemon to see it in use")
        await h.place(CallerBehaviour(number="5550601", hangup_after=None))
        await h.wait_for(lambda: caller_waiting(h), "the caller to queue")
        # routing ran when the caller arrived: the ready agent was passed over
        assert await h.agent_states() == {agent: "ready"}
        assert await h.floor(lambda f, _now: f.engaged_calls()) == []
        # the other call ends (the phone hangs up after its talk time): NOT_INUSE, offered
        await h.wait_for(lambda: answered(h), "the agent to be offered the caller and answer")
        await h.wait_for(h.quiet, "the call to end")
        await h.wait_for(lambda: device_is(h, agent, "NOT_INUSE"), "the phone to be free again")
        sim_devices = {
            m.get("Device")
            for m in h.sim_events("DeviceStateChange")
            if "agent-phones" in (m.get("Device") or "")
        }
        assert sim_devices == {recorded_device()} == {"Local/1003@agent-phones"}
        await h.stop_daemon()
    assert h.rows("select outcome, agent_id from calls") == [("answered", agent)]


@pytest.mark.asyncio
async def test_an_unavailable_phone_pauses_the_agent_with_a_reason_the_api_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(harness_module, "RunOptions", functools.partial(RunOptions, http_port=0))
    settings = with_tokens(pjsip_agent(floor_settings(1)))
    agent = settings.agents[0].id
    async with floor_harness(tmp_path, settings=settings) as h:
        assert h.daemon.http is not None
        async with httpx.AsyncClient(base_url=h.daemon.http.url) as client:

            async def shown() -> tuple[str, str | None, str, bool]:
                rows = (await client.get("/agents", headers=AGENT)).json()
                row = next(r for r in rows if r["agent"] == agent)
                return row["state"], row["pause_reason"], row["device"], row["reachable"]

            set_device(h, "UNAVAILABLE")
            await h.wait_for(lambda: device_is(h, agent, "UNAVAILABLE"), "the phone to go")
            assert await shown() == ("paused", "phone-unavailable", "UNAVAILABLE", False)
            await h.place(CallerBehaviour(number="5550602", hangup_after=None))
            await h.wait_for(lambda: caller_waiting(h), "the caller to queue")
            assert await h.floor(lambda f, _now: f.engaged_calls()) == []
            set_device(h, "NOT_INUSE")  # registered again: only that pause is undone
            await h.wait_for(lambda: answered(h), "the agent to take the caller")
            await h.wait_for(h.quiet, "the call to end")
        await h.stop_daemon()
    assert ("paused", "phone-unavailable") in h.rows("select state, reason from agent_state_log")
    assert h.rows("select outcome, agent_id from calls") == [("answered", agent)]


@pytest.mark.asyncio
async def test_while_ami_is_down_no_agent_stays_blocked_on_a_stale_device_state(
    tmp_path: Path,
) -> None:
    settings = pjsip_agent(floor_settings(1, ping_interval_s=0.2))
    agent = settings.agents[0].id
    async with floor_harness(tmp_path, settings=settings) as h:
        set_device(h, "INUSE")
        await h.wait_for(lambda: device_is(h, agent, "INUSE"), "the daemon to see it in use")
        h.sim.faults.stall_ami()  # nothing more can be heard: the daemon gives the link up
        await h.wait_for(lambda: not h.daemon.ami.connected, "the stalled link to be dropped")
        await h.wait_for(lambda: device_is(h, agent, "UNKNOWN"), "device states to be unknown")
        assert await h.floor(lambda f, _now: agent in f.router.ready)
        h.sim.faults.stall_ami(on=False)
        # the resync after the reconnect reports the phone as Asterisk has it: still in use
        await h.wait_for(lambda: h.daemon.watcher.resyncs == 2, "the resync")
        await h.wait_for(lambda: device_is(h, agent, "INUSE"), "the resynchronised state")
        assert not await h.floor(lambda f, _now: agent in f.router.ready)
        await h.stop_daemon()

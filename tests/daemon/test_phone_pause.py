"""ContactStatus -> pause on the real daemon against the simulator (issue 16 item 5).

A remote agent's phone that stops answering qualify, or answers it slower than its
``rtt_limit_ms``, pauses the agent with ``phone-unreachable`` / ``phone-slow``; the agent API (and
so the wallboard and the desk) shows the reason; the phone fit again unpauses the agent only if
that was the reason. The simulator's phone faults publish ContactStatus as acd/sim/contacts.py
describes (res/res_pjsip/pjsip_options.c).
"""

from __future__ import annotations

import functools
from pathlib import Path

import httpx
import pytest

from acd.app.daemon import RunOptions
from acd.engine.floor_inputs import AgentAction
from acd.settings.settings import Settings
from acd.sim.plan import CallerBehaviour
from tests.daemon import harness as harness_module
from tests.daemon.harness import Harness, floor_harness, floor_settings
from tests.http.api_harness import AGENT
from tests.http.live_daemon import with_tokens

PHONE = "PJSIP/1003"


def remote_agent(settings: Settings) -> Settings:
    """One agent on a home softphone: phones.remote.quality gives rtt_limit_ms 400."""
    (agent,) = settings.agents
    update = {"endpoint": PHONE, "location": "remote"}
    return settings.model_copy(update={"agents": (agent.model_copy(update=update),)})


async def agent_is(h: Harness, agent: str, state: str, reason: str | None) -> bool:
    record = await h.floor(lambda f, _now: f.agents[agent])
    return (record.state.value, record.pause_reason) == (state, reason)


async def caller_waiting(h: Harness) -> bool:
    return bool(await h.floor(lambda f, _now: f.router.waiting_calls()))


def answered(h: Harness) -> bool:
    """A call answered, still going or over: at the simulator's ten times real time a talk lasts
    a fifth of a second, which a poll on a loaded machine misses if it looks at open calls only."""
    registry = h.daemon.registry
    return any(c.state.agent_channel for c in registry) or any(c.talked for c in registry.recent)


@pytest.mark.asyncio
async def test_a_slow_then_lost_phone_pauses_the_agent_and_the_api_shows_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(harness_module, "RunOptions", functools.partial(RunOptions, http_port=0))
    settings = with_tokens(remote_agent(floor_settings(1)))
    agent = settings.agents[0].id
    async with floor_harness(tmp_path, settings=settings) as h:
        assert h.daemon.http is not None
        async with httpx.AsyncClient(base_url=h.daemon.http.url) as client:

            async def shown() -> tuple[str, str | None]:
                rows = (await client.get("/agents", headers=AGENT)).json()
                row = next(r for r in rows if r["agent"] == agent)
                return row["state"], row["pause_reason"]

            h.sim.faults.phone_slow(PHONE, 650.0)
            await h.wait_for(lambda: agent_is(h, agent, "paused", "phone-slow"), "phone-slow")
            assert await shown() == ("paused", "phone-slow")
            await h.place(CallerBehaviour(number="5550611", hangup_after=None))
            await h.wait_for(lambda: caller_waiting(h), "the caller to queue")
            assert await h.floor(lambda f, _now: f.engaged_calls()) == []

            h.sim.faults.phone_unreachable(PHONE)
            await h.wait_for(
                lambda: agent_is(h, agent, "paused", "phone-unreachable"), "phone-unreachable"
            )
            assert await shown() == ("paused", "phone-unreachable")

            h.sim.faults.phone_reachable(PHONE)  # fit again: that pause alone is undone
            await h.wait_for(lambda: answered(h), "the agent to take the waiting caller")
            await h.wait_for(h.quiet, "the call to end")
        await h.stop_daemon()
    log = h.rows("select state, reason from agent_state_log")
    assert ("paused", "phone-slow") in log
    assert ("paused", "phone-unreachable") in log
    assert h.rows("select outcome, agent_id from calls") == [("answered", agent)]


@pytest.mark.asyncio
async def test_a_phone_back_does_not_end_the_agents_own_pause(tmp_path: Path) -> None:
    settings = remote_agent(floor_settings(1))
    agent = settings.agents[0].id
    async with floor_harness(tmp_path, settings=settings) as h:
        await h.daemon.acd.agent_input(agent, AgentAction.PAUSE, "lunch")
        h.sim.faults.phone_unreachable(PHONE)
        await h.wait_for(
            lambda: h.daemon.watcher.phones.verdict(PHONE.split("/")[1]).pauses, "the verdict"
        )
        h.sim.faults.phone_reachable(PHONE)
        await h.wait_for(
            lambda: not h.daemon.watcher.phones.verdict(PHONE.split("/")[1]).pauses, "back"
        )
        # the floor applied both (one owner task, in order): the agent's own reason stands
        assert await agent_is(h, agent, "paused", "lunch")
        await h.stop_daemon()


@pytest.mark.asyncio
async def test_a_reachable_missed_while_ami_was_down_does_not_keep_the_agent_paused(
    tmp_path: Path,
) -> None:
    settings = remote_agent(floor_settings(1, ping_interval_s=0.2))
    agent = settings.agents[0].id
    async with floor_harness(tmp_path, settings=settings) as h:
        h.sim.faults.phone_slow(PHONE, 650.0)
        await h.wait_for(lambda: agent_is(h, agent, "paused", "phone-slow"), "phone-slow")
        h.sim.faults.stall_ami()  # the link goes silent: the daemon gives it up
        await h.wait_for(lambda: not h.daemon.ami.connected, "the stalled link dropped")
        # the verdict is forgotten with the link: the agent is no longer held for the phone
        await h.wait_for(lambda: agent_is(h, agent, "ready", None), "unpaused")
        h.sim.faults.phone_reachable(PHONE)  # its ContactStatus is never heard
        h.sim.faults.stall_ami(on=False)
        await h.wait_for(lambda: h.daemon.watcher.resyncs == 2, "the resync")
        await h.place(CallerBehaviour(number="5550612", hangup_after=None))
        await h.wait_for(lambda: answered(h), "the agent to take the caller")
        await h.wait_for(h.quiet, "the call to end")
        await h.stop_daemon()
    assert h.rows("select outcome, agent_id from calls") == [("answered", agent)]

"""Waiting callers through the real daemon and the PBX simulator: the position and estimate
announcement, overflow to another queue answered there, and a call-back that keeps the place."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from acd.app.daemon import Daemon
from acd.daemon.ivr_port import IvrOutcome
from acd.settings.schema_routing import Announcements, OverflowStep
from acd.sim.plan import AgentBehaviour, CallerBehaviour
from tests.daemon.flow_daemon import FlowSetup, flow_daemon, flow_settings
from tests.daemon.harness import FAST_AGENT, Harness, floor_harness

LONG_TALK = AgentBehaviour(answer_after=0.5, talk_time=300.0, hangs_up="agent")


def _commands(h: Harness, channel_prefix: str) -> list[str]:
    """FastAGI commands the PBX ran for the caller whose channel starts with the prefix."""
    return [
        m.get("Command") or ""
        for m in h.sim_events("AGIExecStart")
        if (m.get("Channel") or "").startswith(channel_prefix)
    ]


def _music_back(commands: list[str], music: str = "default") -> bool:
    thanks = 'STREAM FILE queue-thankyou "D"'
    return (
        thanks in commands
        and f"EXEC StartMusicOnHold {music}" in commands[commands.index(thanks) :]
    )


async def _busy_agent(h: Harness, daemon: Daemon, agent_id: str) -> None:
    """A first caller takes the only agent for a long talk."""
    await h.place(CallerBehaviour(number="5550100", hangup_after=None))

    async def on_call() -> bool:
        states = await daemon.acd.read(
            lambda f, _n: {a: s.state.value for a, s in f.agents.items()}
        )
        return states[agent_id] == "on_call"

    await h.wait_for(on_call, "the first caller to be talking")


@pytest.mark.asyncio
async def test_waiting_caller_hears_position_and_estimate(tmp_path: Path) -> None:
    settings = flow_settings(tmp_path, 1)
    agent = settings.agents[0].id
    async with floor_harness(
        tmp_path, settings=settings, behaviour=LONG_TALK, start=False, keep_events=True
    ) as h:
        async with flow_daemon(h, FlowSetup()) as daemon:
            await _busy_agent(h, daemon, agent)
            await h.place(CallerBehaviour(number="5550101", hangup_after=None))
            await h.wait_for(
                lambda: _music_back(_commands(h, "Local/5550101")),
                "the music after the second caller's announcement",
            )
        said = _commands(h, "Local/5550101")
        first = said.index("EXEC StopMusicOnHold")
        # next in line; 3 minutes = one agent with the default 180 s handle time
        assert said[first : first + 7] == [
            "EXEC StopMusicOnHold",
            'STREAM FILE queue-youarenext "D"',
            'STREAM FILE queue-holdtime "D"',
            'SAY NUMBER 3 "D"',
            'STREAM FILE queue-minutes "D"',
            'STREAM FILE queue-thankyou "D"',
            "EXEC StartMusicOnHold default",
        ]
    rows = [e for e in h.timeline() if e["number"] == "5550101" and e["kind"] == "announced"]
    assert rows[0]["data"] == {"position": 1, "minutes": 3}


@pytest.mark.asyncio
async def test_the_queue_chooses_the_music_and_what_is_announced(tmp_path: Path) -> None:
    # enquiries: its own music class, and the estimated wait only (no position)
    rules = Announcements(first_after_s=10.0, every_s=30.0, position=False, wait_time=True)
    settings = flow_settings(
        tmp_path, 1, queues={"enquiries": {"music_class": "calm", "announcements": rules}}
    )
    agent = settings.agents[0].id
    async with floor_harness(
        tmp_path, settings=settings, behaviour=LONG_TALK, start=False, keep_events=True
    ) as h:
        async with flow_daemon(h, FlowSetup()) as daemon:
            await _busy_agent(h, daemon, agent)
            await h.place(CallerBehaviour(number="5550111", hangup_after=None))
            # (the daemon's stop would cut the announcement short: the music first)
            await h.wait_for(
                lambda: _music_back(_commands(h, "Local/5550111"), "calm"),
                "the music after the second caller's announcement",
            )
        said = _commands(h, "Local/5550111")
    assert said.count("EXEC StartMusicOnHold calm") >= 1
    assert "EXEC StartMusicOnHold default" not in said
    first = said.index("EXEC StopMusicOnHold")
    assert said[first : first + 6] == [
        "EXEC StopMusicOnHold",
        'STREAM FILE queue-holdtime "D"',
        'SAY NUMBER 3 "D"',
        'STREAM FILE queue-minutes "D"',
        'STREAM FILE queue-thankyou "D"',
        "EXEC StartMusicOnHold calm",
    ]
    rows = [e for e in h.timeline() if e["kind"] == "announced"]
    assert rows[0]["data"] == {"position": None, "minutes": 3}


@pytest.mark.asyncio
async def test_caller_overflows_to_another_queue_and_is_answered_there(tmp_path: Path) -> None:
    # Agent 2002 has no orders skill: only the move to enquiries (general) lets it answer.
    ladder = {"orders": [OverflowStep(after_s=0.3, action="overflow_queue", queue="enquiries")]}
    settings = flow_settings(tmp_path, 2, overflow=ladder)
    assert "orders" not in settings.agent("2002").skills
    harness = floor_harness(tmp_path, settings=settings, behaviour=FAST_AGENT, start=False)
    async with harness as h, flow_daemon(h, FlowSetup(queue="orders"), login=["2002"]) as daemon:
        await h.place(CallerBehaviour(number="5550200", hangup_after=None))
        await h.wait_for(lambda: any(c.outcome for c in daemon.registry.recent), "the call to end")
    assert h.rows("select queue, agent_id, outcome from calls") == [
        ("enquiries", "2002", "answered")
    ]
    steps = [e["data"] for e in h.timeline() if e["kind"] == "overflow"]
    assert steps == [{"action": "overflow_queue", "to": "enquiries"}]


@pytest.mark.asyncio
async def test_caller_accepts_a_call_back_keeping_the_place(tmp_path: Path) -> None:
    ladder = {"enquiries": [OverflowStep(after_s=0.3, action="offer_callback")]}
    settings = flow_settings(tmp_path, 1, overflow=ladder)
    agent = settings.agents[0].id
    async with floor_harness(
        tmp_path, settings=settings, behaviour=LONG_TALK, start=False, keep_events=True
    ) as h:
        async with flow_daemon(h, FlowSetup()) as daemon:
            await _busy_agent(h, daemon, agent)
            # "1" answers the call-back offer (the first GET DATA prompt this caller hears)
            await h.place(CallerBehaviour(number="5550300", prompt_answers=("1",)))
            await h.wait_for(
                lambda: any(c.outcome == "callback" for c in daemon.registry.recent),
                "the call-back to be booked",
            )
        assert "GET DATA hotline-callback-offer 5000 1" in _commands(h, "Local/5550300")
    (row,) = h.rows(
        "select b.number, b.queue, b.state, b.position, b.requested_at, b.due_at, c.outcome"
        " from callbacks b join calls c on c.id = b.call_id"
    )
    number, queue, state, position, requested, due, outcome = row
    assert (number, queue, state, position, outcome) == (
        "5550300", "enquiries", "pending", 0, "callback"
    )  # fmt: skip
    # due when the caller would have reached the head: ~180 s (one agent, default handle time),
    # or later when that falls outside the polite calling hours
    waited = datetime.fromisoformat(due) - datetime.fromisoformat(requested)
    assert waited.total_seconds() >= 179


@pytest.mark.asyncio
async def test_call_back_asked_for_in_the_ivr_is_stored(tmp_path: Path) -> None:
    settings = flow_settings(tmp_path, 1)
    setup = FlowSetup(ivr=IvrOutcome("callback", queue="orders"))
    harness = floor_harness(tmp_path, settings=settings, behaviour=FAST_AGENT, start=False)
    async with harness as h, flow_daemon(h, setup) as daemon:
        await h.place(CallerBehaviour(number="5550700", hangup_after=None))
        await h.wait_for(lambda: any(c.outcome for c in daemon.registry.recent), "the call")
    rows = h.rows(
        "select b.number, b.queue, b.state, b.position, c.outcome"
        " from callbacks b join calls c on c.id = b.call_id"
    )
    assert rows == [("5550700", "orders", "pending", None, "callback")]

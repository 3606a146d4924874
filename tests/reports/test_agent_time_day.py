"""The same scripted day written the way the daemon writes it now (the conversations and
wrap-ups on the calls rows, ``calls.agent_legs``) and the way it wrote it before (every agent
change an ``agent_state_log`` interval) gives the same report: occupancy, wrap-up and handle
times, the agent state seconds. Both go through ``Outputs`` and the storage writer's
``apply_batch`` into a real database, and through ``build_report``."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from acd.engine.floor_inputs import AgentAction, AgentRequest, Tick
from acd.reports import queries
from acd.reports.build import build_report, state_seconds
from acd.storage.apply import apply_batch
from acd.storage.commands import AppendAgentState, UpsertCall, WriteCommand
from acd.storage.engine import create_engine
from acd.storage.migrate import upgrade
from tests.daemon.test_agent_legs import OFFSET, Day, answered_call, call_over

START = datetime.fromtimestamp(OFFSET, UTC)
END = datetime.fromtimestamp(OFFSET + 400, UTC)
AS_OF = datetime.fromtimestamp(OFFSET + 300, UTC)  # c6 is still in conversation then


def scripted_day(old_style: bool) -> list[WriteCommand]:
    day = Day(wrap_up_s=10.0)
    if old_style:  # every agent change stored, no legs on the rows (the daemon before 0010)
        day.outputs._derived = lambda *_args: False  # type: ignore[method-assign]
    inp = day.floor_input
    inp(AgentRequest("alice", AgentAction.LOGIN), 1.0)
    # c1: answered at 7, over at 20, the wrap-up runs out at 30
    answered_call(day, "c1", 5.0)
    call_over(day, "c1", 20.0)
    inp(Tick(), 30.0)
    # c2: alice ends her wrap-up early
    answered_call(day, "c2", 40.0)
    call_over(day, "c2", 60.0)
    inp(AgentRequest("alice", AgentAction.END_WRAP_UP), 64.0)
    # c3: alice pauses during the wrap-up, back later
    answered_call(day, "c3", 80.0)
    call_over(day, "c3", 100.0)
    inp(AgentRequest("alice", AgentAction.PAUSE, "coffee"), 103.0)
    inp(AgentRequest("bob", AgentAction.LOGIN), 110.0)
    # c4: bob (alice is paused), transferred back to the queue and answered by alice
    answered_call(day, "c4", 120.0, "bob")
    from acd.daemon.call_steps import Answered, LegEnded, Offered, Queued, Transferred
    from acd.engine.floor_inputs import CallEnded, CallerArrived, RingAnswered
    from acd.engine.model import WaitingCall

    day.step("c4", Transferred(140.0 + OFFSET, "bob", "queue:orders", None, "bob"))
    day.step("c4", LegEnded(140.0 + OFFSET, "agent"))
    inp(CallEnded("c4"), 140.0)
    inp(AgentRequest("alice", AgentAction.UNPAUSE), 141.0)
    day.step("c4", Queued(142.0 + OFFSET, "orders", 0))
    inp(CallerArrived(WaitingCall("c4", "orders", 142.0, 0)), 142.0)
    day.step("c4", Offered(142.0 + OFFSET, "alice", "PJSIP/1001"))
    day.step("c4", Answered(145.0 + OFFSET, "alice", "PJSIP/1001-2"))
    inp(RingAnswered("c4"), 145.0)
    inp(Tick(), 150.0)  # bob's wrap-up runs out
    call_over(day, "c4", 170.0)
    inp(Tick(), 180.0)
    inp(AgentRequest("bob", AgentAction.LOGOUT), 181.0)
    # c5: alice asks to log out while talking: logged out when it ends
    answered_call(day, "c5", 200.0)
    inp(AgentRequest("alice", AgentAction.LOGOUT), 210.0)
    call_over(day, "c5", 230.0)
    inp(AgentRequest("bob", AgentAction.LOGIN), 260.0)
    # c6: bob, still talking at the report's as_of
    answered_call(day, "c6", 280.0, "bob")
    commands = day.writer.commands
    if old_style:
        commands = [
            dataclasses.replace(
                c, values={k: v for k, v in c.values.items() if k not in ("agent_legs",)}
            )
            if isinstance(c, UpsertCall)
            else c
            for c in commands
        ]
    return commands


async def figures(url: str, commands: list[WriteCommand]) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with engine.begin() as db:
            await apply_batch(db, commands, AS_OF)
        async with engine.connect() as conn:
            states = await queries.fetch_states(conn, START, END)
    finally:
        await engine.dispose()
    report = await build_report(url, start=START, end=END, by="agent", as_of=AS_OF)
    return {
        "total": report.total.summary.as_report_dict(),
        "occupancy": report.total.occupancy,
        "agents": {r.group: (r.occupancy, r.summary.as_report_dict()) for r in report.rows},
        "seconds": {
            agent: {
                state: round(seconds, 6)
                for state, seconds in state_seconds(states, START, END, AS_OF, agent).items()
                if seconds
            }
            for agent in ("alice", "bob")
        },
    }


@pytest.mark.asyncio
async def test_the_day_written_as_before_and_as_now_gives_the_same_report(tmp_path: Any) -> None:
    now = scripted_day(old_style=False)
    before = scripted_day(old_style=True)
    # per answered call: 4 row writes and no agent state write; only the agents' own changes
    now_states = [(c.agent_id, c.state) for c in now if isinstance(c, AppendAgentState)]
    assert now_states == [
        ("alice", "ready"),
        ("alice", "ready"),  # c2's wrap-up ended early
        ("alice", "paused"),
        ("bob", "ready"),
        ("alice", "ready"),
        ("bob", "logged_out"),
        ("alice", "pending_logout"),
        ("alice", "logged_out"),
        ("bob", "ready"),
    ]
    assert sum(isinstance(c, AppendAgentState) for c in before) == 24
    # 4 per call, c4's second leg adds its queue entry and answer, c6 has no final write yet
    assert sum(isinstance(c, UpsertCall) for c in now) == 6 * 4 + 2 - 1

    new = await figures(f"sqlite+aiosqlite:///{tmp_path}/now.db", now)
    old = await figures(f"sqlite+aiosqlite:///{tmp_path}/before.db", before)
    assert new == old
    # worked out by hand (seconds of the 400 s period up to as_of, 300)
    alice = new["seconds"]["alice"]
    # on call: c1 7-20, c2 42-60, c3 82-100, c4 145-170, c5 202-210 (then pending logout)
    assert alice["on_call"] == 13 + 18 + 18 + 25 + 8
    # wrap-up: c1 20-30, c2 60-64 (ended early), c3 100-103 (paused), c4 170-180
    assert alice["wrap_up"] == 10 + 4 + 3 + 10
    assert alice["paused"] == 141 - 103
    assert alice["pending_logout"] == 230 - 210
    assert alice["logged_out"] == 300 - 230
    assert alice["ready"] == 300 - 1 - 82 - 27 - 38 - 20 - 70
    bob = new["seconds"]["bob"]
    assert bob["on_call"] == (140 - 122) + (300 - 282)  # c6 still going at as_of
    assert bob["wrap_up"] == 150 - 140
    assert new["occupancy"] is not None

"""A wall-clock jump neither fires nor delays the floor's timers: the floor runs on the steady
clock, and only stored or shown times come from the wall clock (``acd.daemon.clocks``)."""

from __future__ import annotations

import functools
import json
import time
from datetime import datetime
from pathlib import Path

import pytest

from acd.app.daemon import RunOptions
from acd.daemon.clocks import Clocks
from acd.sim.plan import AgentBehaviour, CallerBehaviour
from tests.daemon import harness as harness_module
from tests.daemon.harness import Harness, floor_harness, floor_settings

WRAP_UP_S = 2.0
HOUR = 3600.0


class JumpingWall:
    """The wall clock as an operator or NTP step changes it: real time plus an offset."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


async def _wrap_up_after_jump(h: Harness, wall: JumpingWall, jump_s: float) -> float:
    """One answered call; the wall clock jumps while the agent is in wrap-up. How long the
    wrap-up lasted, by the floor's own clock (when it entered the state, when it left it)."""
    agent = h.settings.agents[0].id

    async def state() -> tuple[str, float]:
        return await h.floor(lambda f, _now: (f.agents[agent].state.value, f.agents[agent].since))

    async def state_is(wanted: str) -> bool:
        return (await state())[0] == wanted

    await h.place(CallerBehaviour(hangup_after=None))
    await h.wait_for(lambda: state_is("wrap_up"), "the agent's wrap-up")
    wall.offset += jump_s
    name, wrap_up_since = await state()
    assert name == "wrap_up"  # the jump came during the wrap-up
    await h.wait_for(lambda: state_is("ready"), "the end of the wrap-up", limit_s=4 * WRAP_UP_S)
    _, ready_since = await state()
    return ready_since - wrap_up_since


@pytest.mark.asyncio
@pytest.mark.parametrize("jump_s", [HOUR, -HOUR], ids=["forward", "back"])
async def test_a_wall_clock_jump_does_not_move_the_wrap_up_timer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jump_s: float
) -> None:
    wall = JumpingWall()
    monkeypatch.setattr(harness_module, "RunOptions", functools.partial(RunOptions, clock=wall))
    settings = floor_settings(1, wrap_up_s=WRAP_UP_S)
    quick = AgentBehaviour(answer_after=0.5, talk_time=1.0, hangs_up="agent")
    async with floor_harness(tmp_path, settings=settings, behaviour=quick) as h:
        lasted = await _wrap_up_after_jump(h, wall, jump_s)
        # forward: not ended at once (an hour "passed"); back: not held for an hour more
        assert WRAP_UP_S <= lasted < WRAP_UP_S + 1.0
        await h.wait_for(h.quiet, "the call to end")
        await h.stop_daemon()
    # stored times follow the wall clock: the wrap-up is on the call's row (calls.agent_legs,
    # issue 13), from the leg's end to its deadline, as long as the queue's wrap-up whatever
    # the clock did meanwhile; the log holds the login only
    assert len(h.rows("select started_at from agent_state_log where state = 'ready'")) == 1
    [(legs,)] = h.rows("select agent_legs from calls")
    [leg] = json.loads(legs)
    ended, due = (datetime.fromisoformat(leg[k]) for k in ("ended_at", "wrap_up_due"))
    assert abs((due - ended).total_seconds() - WRAP_UP_S) < 1e-3


def test_conversions_between_the_clocks_follow_the_wall_clock_as_it_reads_now() -> None:
    wall, steady = [1000.0], [50.0]
    clocks = Clocks(wall=lambda: wall[0], steady=lambda: steady[0])
    assert clocks.to_wall(45.0) == 995.0
    assert clocks.to_steady(990.0) == 40.0
    wall[0] += HOUR  # a jump: stored times move with it, steady instants do not
    assert clocks.to_wall(45.0) == 995.0 + HOUR
    assert clocks.to_steady(990.0 + HOUR) == 40.0

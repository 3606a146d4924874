"""Seeded random mix of calls, scripts and AMI actions: nothing may get stuck.

Every channel created is eventually hung up, every FastAGI session that connected is closed,
and no timer is left once every caller's patience has run out.
"""

from __future__ import annotations

import random
from functools import partial

import pytest

from acd.sim.outputs import AgiOpen, OriginateRequest
from acd.sim.plan import AgentBehaviour, CallerBehaviour, QueueMember, QueuePlan, SimPlan
from tests.sim.pbx_driver import Driver, recorded_layouts

#: every header layout seen in the recordings, by event name
LAYOUTS: dict[str, set[tuple[str, ...]]] = {}
for _name in ("ami_events_full_call.txt", "chanspy_events.txt", "ami_login_and_actions.txt"):
    for _event, _shapes in recorded_layouts(_name).items():
        # ActionID is echoed only when the action had one: compare without it
        LAYOUTS.setdefault(_event, set()).update(
            tuple(k for k in shape if k != "ActionID") for shape in _shapes
        )

AGENTS = [f"PJSIP/{n}" for n in range(1001, 1007)] + ["Local/agent2@agents/n"]


def _plan(rng: random.Random) -> SimPlan:
    agents = {
        ep: AgentBehaviour(
            answer_after=rng.choice([None, 0.5, 2.0, 6.0]),
            answer_probability=rng.choice([1.0, 0.7]),
            talk_time=rng.uniform(2.0, 40.0),
            hangs_up=rng.choice(["agent", "caller"]),
        )
        for ep in AGENTS
    }
    members = tuple(QueueMember(ep, f"Agent {i}") for i, ep in enumerate(AGENTS))
    queues = (
        QueuePlan("sales", "linear", 4.0, 1.0, members[:4], monitor_format="wav"),
        QueuePlan("support", "ringall", 5.0, 1.0, members[3:]),
        QueuePlan("billing", "rrmemory", 3.0, 2.0, members),
    )
    return SimPlan(queues=queues, agents=agents)


def _script(rng: random.Random) -> list[str] | None:
    kind = rng.randrange(6)
    if kind == 0:
        return None  # refused: AGISTATUS=FAILURE, fallback queue
    if kind == 1:
        return []  # empty session: fallback queue
    ivr = ["ANSWER", 'STREAM FILE beep ""', "GET DATA vm-enter-num-to-call 3000 1"]
    if kind == 2:
        queue = rng.choice(["sales", "support", "billing", "nosuchqueue"])
        return [*ivr, f'SET VARIABLE IVR_QUEUE "{queue}"']
    if kind == 3:
        return [*ivr, "HANGUP", "GET VARIABLE CHANNEL", "WAIT FOR DIGIT 100"]
    dial = "&".join(rng.sample(AGENTS, rng.randrange(1, 3)))
    return [
        *ivr,
        'SET VARIABLE HOTLINE_DONE "1"',
        "EXEC StartMusicOnHold default",
        *["WAIT FOR DIGIT 1000"] * rng.randrange(0, 4),
        'EXEC StopMusicOnHold ""',
        f"EXEC Dial {dial},{rng.choice([5, 15])},tT",
        "GET VARIABLE DIALSTATUS",
        *(["GET DATA beep 2000 1"] if rng.random() < 0.5 else []),
    ]


def _random_action(driver: Driver, rng: random.Random, now: float) -> None:
    chans = [c.name for c in driver.pbx.channels()]
    if not chans:
        return
    target = rng.choice(chans)
    pbx = driver.pbx
    choice = rng.randrange(5)
    if choice == 0:
        pbx.hangup(now, target)
    elif choice == 1:
        pbx.redirect(now, target, "parking-lot", "hold")
    elif choice == 2:
        pbx.mixmonitor(now, target, f"r-{now:.0f}.wav", rng.choice(["", "D", "bi(ID)"]))
    elif choice == 3:
        pbx.originate(
            now,
            OriginateRequest(
                channel="Local/phone@supervisor/n",
                application="ChanSpy",
                data=f"{target.split('-')[0]},q{rng.choice(['', 'b', 'E', 'bE'])}",
                variables=(("SPYTIME", str(rng.randrange(1, 20))),),
            ),
        )
    else:
        pbx.queue_pause(now, rng.choice(AGENTS), rng.random() < 0.5)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_random_traffic_leaves_nothing_behind(seed: int) -> None:
    rng = random.Random(seed)
    scripts: dict[int, list[str] | None] = {}

    def script(sid: int, _open: AgiOpen) -> list[str] | None:
        scripts[sid] = _script(rng)
        return scripts[sid]

    driver = Driver(_plan(rng), seed=seed, script=script)
    t = 0.0
    for n in range(40):
        t += rng.expovariate(1 / 3.0)
        caller = CallerBehaviour(
            number=f"555{n:04d}",
            prompt_answers=tuple(rng.choice(["1", "2", "", "9"]) for _ in range(2)),
            answer_delay=rng.uniform(0.2, 4.0),
            hangup_after=rng.uniform(2.0, 150.0),
        )
        request = OriginateRequest(
            channel=f"Local/{caller.number}@caller-sim/n",
            context="hotline",
            exten="s",
            caller=caller,
        )
        driver.at(t, partial(driver.pbx.originate, req=request))
        if rng.random() < 0.3:
            driver.at(t + rng.uniform(0, 2), lambda now: _random_action(driver, rng, now))
    driver.run_until(t + 10_000.0)
    run = driver.run
    assert driver.pbx.channels() == []
    assert driver.pbx.next_deadline() is None
    created = sorted(m["Channel"] for m in run.messages if m.name == "Newchannel")
    hung_up = sorted(m["Channel"] for m in run.messages if m.name == "Hangup")
    assert created == hung_up
    connected = [sid for sid, commands in scripts.items() if commands is not None]
    assert sorted(run.agi_closed) == sorted(connected)
    assert len(run.agi_opened) == 40  # one FastAGI session per caller
    unrecorded = {"MixMonitorMute"}  # app_mixmonitor.c, not in the recordings
    for message in run.messages:
        if message.name not in unrecorded:
            layout = tuple(k for k, _ in message.headers if k != "ActionID")
            assert layout in LAYOUTS[message.name], message.name

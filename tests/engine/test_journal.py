"""The floor journal: a generated day of inputs, journalled line by line, replays on a fresh
floor to the same effects and the same final state."""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable

import pytest

from acd.engine.agent import PHONE_UNAVAILABLE_REASON, AgentChanged, AgentState, DeviceState
from acd.engine.floor import Floor
from acd.engine.floor_effects import FloorEffect, Offer
from acd.engine.floor_inputs import (
    AgentAction,
    AgentRequest,
    Assign,
    CallEnded,
    CallerArrived,
    CallerLeft,
    Designate,
    DeviceStateChanged,
    DeviceStatesUnknown,
    FloorInput,
    Overflow,
    RingAnswered,
    RingFailed,
    Tick,
)
from acd.engine.journal import JournalError, decode, encode, replay
from acd.engine.model import (
    AgentSpec,
    OverflowToQueue,
    QueueSpec,
    RelaxRule,
    SkillRequirement,
    WaitingCall,
    WidenSkills,
)

SKILLS = ("orders", "support", "billing")
INPUTS = 1500


def make_floor() -> Floor:
    queues = [
        QueueSpec(s, s, min_level=2, wrap_up_s=8.0, auto_pause_misses=3, relax=(RelaxRule(20, 1),))
        for s in SKILLS
    ]
    rng = random.Random(5)
    agents = [
        AgentSpec(
            f"a{i:02d}",
            f"Local/{1000 + i}@agent-phones/n" if i % 2 else f"PJSIP/{1000 + i}",
            {s: rng.randint(1, 4) for s in rng.sample(SKILLS, 2)},
        )
        for i in range(12)
    ]
    return Floor(queues, agents, wrap_up_override_s={"a03": 2.0})


class Day:
    """Drives one floor like a day on the phones: callers, rings and their outcomes, agents'
    requests, device news, supervisors and the clock. Every input goes to the journal."""

    def __init__(self, floor: Floor, seed: int) -> None:
        self.floor = floor
        self.rng = random.Random(seed)
        self.now = 0.0
        self.lines: list[str] = []
        self.inputs: list[tuple[FloorInput, float]] = []
        self.effects: list[FloorEffect] = []
        self.later: list[tuple[float, int, FloorInput]] = []  # rings and calls playing out
        self.calls = 0

    def apply(self, inp: FloorInput) -> None:
        self.lines.append(encode(inp, self.now))
        self.inputs.append((inp, self.now))
        try:
            effects = self.floor.handle(inp, self.now)
        except Exception:  # refused, as the owner task would answer it
            return
        self.effects += effects
        for effect in effects:
            if isinstance(effect, Offer):
                self.ring(effect)

    def ring(self, offer: Offer) -> None:
        roll, at = self.rng.random(), self.now + self.rng.uniform(0.5, 6.0)
        if roll < 0.65:
            self.schedule(at, RingAnswered(offer.call_id))
            self.schedule(at + self.rng.uniform(5.0, 90.0), CallEnded(offer.call_id))
        elif roll < 0.93:
            status = self.rng.choice(("NOANSWER", "BUSY", "CHANUNAVAIL"))
            self.schedule(at, RingFailed(offer.call_id, status))
        else:
            self.schedule(at, CallerLeft(offer.call_id))

    def schedule(self, at: float, inp: FloorInput) -> None:
        heapq.heappush(self.later, (at, len(self.inputs) + len(self.later), inp))

    def run(self, inputs: int) -> None:
        actions: list[tuple[float, Callable[[], FloorInput | None]]] = [
            (0.30, self.arrival),
            (0.18, self.agent_request),
            (0.12, self.device_news),
            (0.06, self.abandon),
            (0.04, self.overflow),
            (0.03, self.supervisor),
            (0.005, DeviceStatesUnknown),
        ]
        for agent in list(self.floor.agents)[:9]:
            self.apply(AgentRequest(agent, AgentAction.LOGIN))
        while len(self.inputs) < inputs:
            self.now += self.rng.expovariate(0.5)
            while self.later and self.later[0][0] <= self.now:
                self.tick()
                self.apply(heapq.heappop(self.later)[2])
            self.tick()
            pick = self.rng.random() * sum(w for w, _ in actions)
            for weight, make in actions:
                pick -= weight
                if pick <= 0:
                    inp = make()
                    if inp is not None:
                        self.apply(inp)
                    break

    def tick(self) -> None:
        due = self.floor.next_deadline()
        if due is not None and due <= self.now:
            self.apply(Tick())

    def waiting(self) -> str | None:
        calls = self.floor.router.waiting_calls()
        return self.rng.choice(calls).call_id if calls else None

    def arrival(self) -> FloorInput:
        self.calls += 1
        agents = list(self.floor.agents)
        return CallerArrived(
            WaitingCall(
                f"c{self.calls}",
                self.rng.choice(SKILLS),
                self.now - self.rng.uniform(0.0, 5.0),
                priority=self.rng.choice((0, 0, 5, 10)),
                preferred_agent=self.rng.choice(agents) if self.rng.random() < 0.2 else None,
            )
        )

    def agent_request(self) -> FloorInput:
        action = self.rng.choice(list(AgentAction))
        reason = self.rng.choice(("break", "lunch", None)) if action is AgentAction.PAUSE else None
        agent = self.rng.choice(list(self.floor.agents))
        return AgentRequest(agent, action, reason, forced=self.rng.random() < 0.2)

    def device_news(self) -> FloorInput:
        spec = self.rng.choice(list(self.floor.specs.values()))
        states = [DeviceState.NOT_INUSE] * 4 + list(DeviceState)
        return DeviceStateChanged(spec.device, self.rng.choice(states))

    def abandon(self) -> FloorInput | None:
        call = self.waiting()
        return None if call is None else CallerLeft(call)

    def overflow(self) -> FloorInput | None:
        call = self.waiting()
        if call is None:
            return None
        if self.rng.random() < 0.5:
            return Overflow(call, WidenSkills(30.0, (SkillRequirement(self.rng.choice(SKILLS)),)))
        return Overflow(call, OverflowToQueue(60.0, self.rng.choice(SKILLS)))

    def supervisor(self) -> FloorInput | None:
        call = self.waiting() or "nobody"
        agent = self.rng.choice(list(self.floor.agents))
        if self.rng.random() < 0.5:
            return Assign(call, agent)
        return Designate(call, agent if self.rng.random() < 0.8 else None)


@pytest.fixture(scope="module")
def day() -> Day:
    day = Day(make_floor(), seed=20261124)
    day.run(INPUTS)
    return day


def test_the_day_is_a_real_day(day: Day) -> None:
    kinds = Counter(type(inp).__name__ for inp, _ in day.inputs)
    for kind in ("CallerArrived", "RingAnswered", "RingFailed", "CallEnded", "CallerLeft"):
        assert kinds[kind] >= 20, kinds
    for kind in ("AgentRequest", "DeviceStateChanged", "Tick", "Overflow", "Assign"):
        assert kinds[kind] >= 5, kinds
    changes = [e for e in day.effects if isinstance(e, AgentChanged)]
    reasons = Counter(c.reason for c in changes if c.new is AgentState.PAUSED)
    assert reasons["missed-offers"] > 0
    assert reasons[PHONE_UNAVAILABLE_REASON] > 0
    assert sum(isinstance(e, Offer) for e in day.effects) > 100


def test_every_line_decodes_to_the_input_it_was(day: Day) -> None:
    assert [decode(line) for line in day.lines] == day.inputs


def test_replaying_the_journal_on_a_fresh_floor_rebuilds_the_same_day(day: Day) -> None:
    fresh = make_floor()
    assert replay(fresh, day.lines) == day.effects
    assert fresh.agents == day.floor.agents
    assert fresh.router.waiting_calls() == day.floor.router.waiting_calls()
    assert fresh.engaged_calls() == day.floor.engaged_calls()
    assert fresh.next_deadline() == day.floor.next_deadline()
    pairs = [(q, a) for q in SKILLS for a in fresh.agents]
    assert [fresh.handle_times.of(*p) for p in pairs] == [
        day.floor.handle_times.of(*p) for p in pairs
    ]


def test_a_broken_line_is_refused_with_its_number() -> None:
    with pytest.raises(JournalError, match="journal line 7"):
        decode('{"at": 1.0, "input": {"type": "Nonsense"}}', 7)
    with pytest.raises(JournalError, match="journal line 2"):
        decode("not json", 2)
    with pytest.raises(JournalError, match="not a floor input"):
        decode('{"at": 1.0, "input": {"type": "SkillRequirement", "skill": "x"}}')

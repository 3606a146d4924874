"""Issue 13: an answered call costs at most 4 storage writes. The agent's conversation and
wrap-up ride on the call's row (``calls.agent_legs``); only the agents' own changes are
``AppendAgentState`` writes (``acd.daemon.outputs``)."""

from __future__ import annotations

from acd.daemon.call_steps import (
    Answered,
    Arrival,
    Catalogued,
    Ended,
    LegEnded,
    Offered,
    Queued,
    Step,
    Transferred,
)
from acd.daemon.calls import Call
from acd.daemon.clocks import Clocks
from acd.daemon.outputs import Outputs
from acd.engine.agent import AgentChanged, AgentState
from acd.engine.floor import Floor
from acd.engine.floor_inputs import (
    AgentAction,
    AgentRequest,
    CallEnded,
    CallerArrived,
    CallerLeft,
    FloorInput,
    RingAnswered,
    Tick,
)
from acd.engine.model import AgentSpec, QueueSpec, WaitingCall
from acd.storage.agent_legs import legs_of
from acd.storage.commands import AppendAgentState, UpsertCall, WriteCommand

OFFSET = 900.0  # wall = steady + 900 (the floor runs on the steady clock)


def make_floor(wrap_up_s: float) -> Floor:
    queues = [QueueSpec("orders", "orders", wrap_up_s=wrap_up_s, ring_timeout_rings=3)]
    agents = [
        AgentSpec("alice", "PJSIP/1001", {"orders": 5}),
        AgentSpec("bob", "PJSIP/1002", {"orders": 4}),
    ]
    return Floor(queues, agents)


class Collected:
    def __init__(self) -> None:
        self.commands: list[WriteCommand] = []

    def submit(self, command: WriteCommand) -> None:
        self.commands.append(command)

    def states(self) -> list[tuple[str, float, str | None]]:
        return [
            (c.state, c.at.timestamp() - OFFSET, c.call_id)
            for c in self.commands
            if isinstance(c, AppendAgentState)
        ]

    def rows(self) -> list[UpsertCall]:
        return [c for c in self.commands if isinstance(c, UpsertCall)]


class Day:
    """The owner task's floor and the call flow's steps feeding one ``Outputs``."""

    def __init__(self, wrap_up_s: float = 10.0, overrides: dict[str, float] | None = None):
        self.writer = Collected()
        clocks = Clocks(wall=lambda: 1000.0, steady=lambda: 100.0)
        self.outputs = Outputs(
            publisher=None,
            writer=self.writer,  # type: ignore[arg-type]
            clocks=clocks,
            wrap_up_s=lambda q: wrap_up_s if q == "orders" else 0.0,
            agent_wrap_up_s=overrides,
        )
        self.floor: Floor = make_floor(
            wrap_up_s=overrides.get("alice", wrap_up_s) if overrides else wrap_up_s
        )
        self.calls: dict[str, Call] = {}

    def floor_input(self, inp: FloorInput, now: float) -> None:
        for effect in self.floor.handle(inp, now):
            if isinstance(effect, AgentChanged):
                self.outputs.agent_changed(effect)
        self.outputs.floor_changed(self.floor, now)

    def open(self, call_id: str, at: float) -> Call:
        call = Call(Arrival(call_id, f"u-{call_id}", "Local/x", "5550100", None, at + OFFSET))
        self.calls[call_id] = call
        self.outputs.call_opened(call)
        return call

    def step(self, call_id: str, step: Step) -> None:
        call = self.calls[call_id]
        call.add_step(step)
        self.outputs.call_step(call, step)

    def final(self, call_id: str) -> None:
        self.outputs.call_final(self.calls[call_id])


def answered_call(day: Day, call_id: str, at: float, agent: str = "alice") -> None:
    """Arrival, queue entry, ring, answer at ``at + 2``."""
    day.open(call_id, at)
    day.step(call_id, Queued(at + OFFSET, "orders", 0))
    day.floor_input(CallerArrived(WaitingCall(call_id, "orders", at, 0)), at)
    assert day.floor.router.engaged[call_id].agent_id == agent  # offered by the floor
    day.step(call_id, Offered(at + 1 + OFFSET, agent, "PJSIP/1001"))
    day.step(call_id, Answered(at + 2 + OFFSET, agent, "PJSIP/1001-1"))
    day.floor_input(RingAnswered(call_id), at + 2)


def call_over(day: Day, call_id: str, at: float) -> None:
    day.step(call_id, LegEnded(at + OFFSET, "caller"))
    day.floor_input(CallEnded(call_id), at)
    day.step(call_id, Ended(at + OFFSET, "caller"))
    day.floor_input(CallerLeft(call_id), at)
    day.step(call_id, Catalogued(at + 1 + OFFSET, "rec"))
    day.final(call_id)


def test_an_answered_call_is_four_row_writes_and_no_state_change() -> None:
    day = Day(wrap_up_s=10.0)
    day.floor_input(AgentRequest("alice", AgentAction.LOGIN), 1.0)
    before = len(day.writer.commands)
    answered_call(day, "c1", 5.0)
    call_over(day, "c1", 20.0)
    day.floor_input(Tick(), 30.0)  # the wrap-up runs out
    assert day.floor.agents["alice"].state is AgentState.READY
    written = day.writer.commands[before:]
    assert all(isinstance(c, UpsertCall) for c in written)
    assert [c.idempotency_key.rsplit(":", 1)[1] for c in written] == ["0", "1", "3", "final"]
    answer, final = day.writer.rows()[-2:]
    [open_leg] = legs_of("c1", answer.values["agent_legs"], None)
    assert (open_leg.agent_id, open_leg.ended_at, open_leg.wrap_up_due) == ("alice", None, None)
    assert open_leg.answered_at.timestamp() == 907.0
    assert answer.values["wrap_up_due"] is None
    [leg] = legs_of("c1", final.values["agent_legs"], None)
    assert leg.ended_at is not None
    assert leg.wrap_up_due is not None
    assert (leg.ended_at.timestamp(), leg.wrap_up_due.timestamp()) == (920.0, 930.0)
    assert final.values["wrap_up_due"] == leg.wrap_up_due
    assert day.writer.states() == [("ready", 1.0, None)]


def test_the_agents_wrap_up_override_sets_the_deadline() -> None:
    day = Day(wrap_up_s=10.0, overrides={"alice": 4.0})
    day.floor_input(AgentRequest("alice", AgentAction.LOGIN), 1.0)
    answered_call(day, "c1", 5.0)
    call_over(day, "c1", 20.0)
    day.floor_input(Tick(), 24.0)
    [leg] = legs_of("c1", day.writer.rows()[-1].values["agent_legs"], None)
    assert leg.wrap_up_due is not None
    assert leg.wrap_up_due.timestamp() == 924.0
    assert day.writer.states() == [("ready", 1.0, None)]


def test_a_wrap_up_ended_early_is_stored_as_ready_naming_its_call() -> None:
    day = Day(wrap_up_s=10.0)
    day.floor_input(AgentRequest("alice", AgentAction.LOGIN), 1.0)
    answered_call(day, "c1", 5.0)
    call_over(day, "c1", 20.0)
    day.floor_input(AgentRequest("alice", AgentAction.END_WRAP_UP), 23.0)
    answered_call(day, "c2", 40.0)
    call_over(day, "c2", 50.0)
    day.floor_input(AgentRequest("alice", AgentAction.END_WRAP_UP), 52.0)
    # each early end opens an interval of its own (the call's id tells them apart)
    assert day.writer.states() == [
        ("ready", 1.0, None),
        ("ready", 23.0, "c1"),
        ("ready", 52.0, "c2"),
    ]


def test_a_pause_during_wrap_up_and_a_logout_while_talking_are_stored() -> None:
    day = Day(wrap_up_s=10.0)
    day.floor_input(AgentRequest("alice", AgentAction.LOGIN), 1.0)
    answered_call(day, "c1", 5.0)
    call_over(day, "c1", 20.0)
    day.floor_input(AgentRequest("alice", AgentAction.PAUSE, "lunch"), 22.0)
    day.floor_input(AgentRequest("alice", AgentAction.UNPAUSE), 40.0)
    answered_call(day, "c2", 50.0)
    day.floor_input(AgentRequest("alice", AgentAction.LOGOUT), 55.0)  # logged out at the end
    call_over(day, "c2", 60.0)
    assert day.writer.states() == [
        ("ready", 1.0, None),
        ("paused", 22.0, None),
        ("ready", 40.0, None),
        ("pending_logout", 55.0, "c2"),
        ("logged_out", 60.0, None),
    ]


def test_a_transferred_call_has_one_leg_per_agent() -> None:
    day = Day(wrap_up_s=10.0)
    day.floor_input(AgentRequest("alice", AgentAction.LOGIN), 1.0)
    answered_call(day, "c1", 5.0, "alice")
    day.step("c1", Transferred(15.0 + OFFSET, "alice", "queue:orders", None, "alice"))
    day.step("c1", LegEnded(15.0 + OFFSET, "agent"))
    day.floor_input(CallEnded("c1"), 15.0)
    day.floor_input(AgentRequest("bob", AgentAction.LOGIN), 16.0)
    day.step("c1", Queued(16.0 + OFFSET, "orders", 0))
    day.floor_input(AgentRequest("alice", AgentAction.PAUSE, "coffee"), 17.0)
    day.floor_input(CallerArrived(WaitingCall("c1", "orders", 16.0, 0)), 17.5)
    engaged = day.floor.router.engaged["c1"].agent_id
    assert engaged == "bob"
    day.step("c1", Offered(27.0 + OFFSET, "bob", "PJSIP/1002"))
    day.step("c1", Answered(28.0 + OFFSET, "bob", "PJSIP/1002-1"))
    day.floor_input(RingAnswered("c1"), 28.0)
    call_over(day, "c1", 40.0)
    legs = legs_of("c1", day.writer.rows()[-1].values["agent_legs"], None)
    assert [
        (
            leg.agent_id,
            leg.answered_at.timestamp() - OFFSET,
            (leg.ended_at or leg.answered_at).timestamp() - OFFSET,
        )
        for leg in legs
    ] == [("alice", 7.0, 15.0), ("bob", 28.0, 40.0)]
    assert [(leg.wrap_up_due or leg.answered_at).timestamp() - OFFSET for leg in legs] == [
        25.0,
        50.0,
    ]
    assert day.writer.states() == [
        ("ready", 1.0, None),
        ("ready", 16.0, None),
        ("paused", 17.0, None),
    ]


def test_a_leg_ended_by_the_stop_stays_open_on_the_row() -> None:
    # as the talking agent's interval was held at the stop (its session, for the next start)
    day = Day(wrap_up_s=10.0)
    day.floor_input(AgentRequest("alice", AgentAction.LOGIN), 1.0)
    answered_call(day, "c1", 5.0)
    day.outputs.hold_sessions()
    call_over(day, "c1", 20.0)
    [leg] = legs_of("c1", day.writer.rows()[-1].values["agent_legs"], None)
    assert (leg.ended_at, leg.wrap_up_due) == (None, None)
    assert day.writer.states() == [("ready", 1.0, None)]


def test_a_resumed_call_stores_its_agent_changes_as_before() -> None:
    day = Day(wrap_up_s=10.0)
    day.floor_input(AgentRequest("alice", AgentAction.LOGIN), 1.0)
    call = Call(Arrival("c9", "u-c9", "Local/x", "5550100", None, OFFSET), first_seq=1000)
    day.calls["c9"] = call
    day.outputs.call_opened(call)
    day.step("c9", Queued(3.0 + OFFSET, "orders", 0))
    day.floor_input(CallerArrived(WaitingCall("c9", "orders", 3.0, 0)), 3.0)
    day.step("c9", Answered(5.0 + OFFSET, "alice", "PJSIP/1001-1"))
    day.floor_input(RingAnswered("c9"), 5.0)
    call_over(day, "c9", 20.0)
    day.floor_input(Tick(), 30.0)
    assert [s for s, _at, _c in day.writer.states()] == ["ready", "on_call", "wrap_up", "ready"]
    assert all("agent_legs" not in r.values for r in day.writer.rows())


def test_a_conversation_the_floor_ends_after_the_final_write_costs_one_more() -> None:
    # the owner task took the end after the call flow was done with the call: the final row
    # has the leg still going, the floor's end writes it once more (normally the floor is first)
    day = Day(wrap_up_s=10.0)
    day.floor_input(AgentRequest("alice", AgentAction.LOGIN), 1.0)
    answered_call(day, "c1", 5.0)
    day.step("c1", LegEnded(20.0 + OFFSET, "caller"))
    day.step("c1", Ended(20.0 + OFFSET, "caller"))
    day.final("c1")
    [leg] = legs_of("c1", day.writer.rows()[-1].values["agent_legs"], None)
    assert leg.ended_at is None
    day.floor_input(CallEnded("c1"), 20.5)
    late = day.writer.rows()[-1]
    assert late.idempotency_key == "c1:row:legs:1"
    assert late.timeline is None  # the stored timeline stays
    [leg] = legs_of("c1", late.values["agent_legs"], None)
    assert leg.ended_at is not None
    assert leg.ended_at.timestamp() == 920.0
    day.floor_input(CallerLeft("c1"), 20.5)
    assert len(day.writer.rows()) == 5
    assert day.outputs._legs_due == {}
    assert day.outputs._legs_over == {}


def test_a_conversation_cut_by_the_daemons_end_stays_open_on_the_row() -> None:
    # killed: the call flow's cancellation ends the call, the floor never takes it; as the
    # agent's on-call interval stayed its session before, the leg stays open (the next start
    # asks Asterisk whether that conversation goes on)
    day = Day(wrap_up_s=10.0)
    day.floor_input(AgentRequest("alice", AgentAction.LOGIN), 1.0)
    answered_call(day, "c1", 5.0)
    day.step("c1", Ended(9.0 + OFFSET, "system", failed=True))
    day.final("c1")
    [leg] = legs_of("c1", day.writer.rows()[-1].values["agent_legs"], None)
    assert (leg.ended_at, leg.wrap_up_due) == (None, None)
    assert day.writer.rows()[-1].values["wrap_up_due"] is None

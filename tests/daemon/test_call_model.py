"""The call model: frozen facts and steps, one writer, the state as a fold of the steps, and the
outputs (rows, events, KPI counters) derived from the steps in one place."""

from __future__ import annotations

import ast
import dataclasses
import typing
from pathlib import Path
from typing import Any

import pytest

from acd.daemon import call_state, call_steps
from acd.daemon.call_events import ROW_AFTER, step_event, utc
from acd.daemon.call_state import CallState, fold
from acd.daemon.call_steps import (
    Answered,
    Arrival,
    CallbackBooked,
    Catalogued,
    Ended,
    HandedBack,
    IvrFinished,
    LegEnded,
    Offered,
    Overflowed,
    Queued,
    RingMissed,
    Step,
    TransferAsked,
    Transferred,
)
from acd.daemon.calls import Call
from acd.daemon.clocks import Clocks
from acd.daemon.closed_calls import finished_facts
from acd.daemon.outputs import Outputs
from acd.engine.agent import AgentChanged, AgentState
from acd.engine.floor import Floor
from acd.engine.floor_inputs import (
    AgentAction,
    AgentRequest,
    CallEnded,
    CallerArrived,
    FloorInput,
    RingAnswered,
    Tick,
)
from acd.engine.model import WaitingCall
from acd.storage.commands import AppendAgentState, InsertCallback, UpsertCall, WriteCommand
from tests.engine.test_floor import make_floor

ROOT = Path(__file__).resolve().parents[2]
# The call's own task: the only code allowed to add steps to a call.
OWNERS = ("acd/daemon/call_flow/", "acd/daemon/callback_flow.py")
ARRIVAL = Arrival("c1", "1795327343.852", "Local/5550100@caller-00000001;2", "5550100", None, 0.0)


def add_step_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "add_step"
    ]


def test_only_the_call_flow_adds_steps_to_a_call() -> None:
    writers = {
        str(path.relative_to(ROOT)): lines
        for package in ("acd", "ivr", "recordings")
        for path in sorted((ROOT / package).rglob("*.py"))
        if (lines := add_step_calls(path))
    }
    outside = [p for p in writers if not p.startswith(OWNERS)]
    assert outside == []
    assert "acd/daemon/call_flow/flow.py" in writers  # the scan sees the real writers


def test_the_scan_flags_a_module_adding_steps(tmp_path: Path) -> None:
    rogue = tmp_path / "rogue.py"
    rogue.write_text("def f(call, step):\n    call.add_step(step)\n", encoding="utf-8")
    assert add_step_calls(rogue) == [2]


STEP_TYPES = typing.get_args(Step)


@pytest.mark.parametrize("kind", [Arrival, CallState, *STEP_TYPES], ids=lambda t: t.__name__)
def test_facts_steps_and_state_are_frozen(kind: type[Any]) -> None:
    params = dataclasses.fields(kind)
    assert kind.__dataclass_params__.frozen  # type: ignore[attr-defined]
    instance = ARRIVAL if kind is Arrival else _example(kind)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(instance, params[0].name, None)


def _example(kind: type[Any]) -> Any:
    if kind is CallState:
        return CallState(ARRIVAL)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(kind):
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
            continue
        values[f.name] = _value(str(f.type))
    return kind(**values)


def _value(annotation: str) -> object:
    if annotation.startswith("float"):
        return 1.0
    if annotation.startswith("int"):
        return 1
    if annotation.startswith("bool"):
        return False
    if annotation.startswith("tuple"):
        return ()
    if "HungUpBy" in annotation:
        return "caller"
    if "IvrResult" in annotation:
        return "queue"
    if "OverflowAction" in annotation:
        return "widen_skills"
    return "x"


def test_every_step_kind_is_in_the_union() -> None:
    declared = {
        obj
        for obj in vars(call_steps).values()
        if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj is not Arrival
    }
    assert declared == set(STEP_TYPES)


def test_a_call_keeps_its_steps_in_order_and_folds_them() -> None:
    call = Call(ARRIVAL)
    steps: list[Step] = [Queued(1.0, "orders", 2), Offered(2.0, "1001", "PJSIP/1001")]
    for step in steps:
        call.add_step(step)
    assert call.steps == tuple(steps)
    assert isinstance(call.steps, tuple)  # a copy: the timeline cannot be changed from outside
    assert call.state == fold(ARRIVAL, steps)
    assert (call.state.queue, call.state.agent_id, call.state.steps) == ("orders", "1001", 2)


ANSWERED = [
    Queued(1.0, "orders", 2),
    Offered(3.0, "1001", "PJSIP/1001"),
    RingMissed(9.0, "1001", "NOANSWER", caller_gone=False),
    Offered(10.0, "1002", "PJSIP/1002"),
    Answered(12.0, "1002", "PJSIP/1002-00000001"),
    LegEnded(70.0, "agent"),
]


@pytest.mark.parametrize(
    ("steps", "outcome", "hung_up_by", "ended_at"),
    [
        ([*ANSWERED, Ended(90.0, "system")], "answered", "agent", 70.0),  # survey after: not talk
        ([Queued(1.0, "orders", 2), Ended(30.0, "caller")], "abandoned", "caller", 30.0),
        ([Queued(1.0, "orders", 2), Ended(30.0, "system", failed=True)], "failed", "system", 30.0),
        ([*ANSWERED[:5], Ended(40.0, "system", failed=True)], "failed", "system", 40.0),
        ([Queued(1.0, "q", 2), HandedBack(5.0), Ended(5.0, "system")], "fallback", "system", 5.0),
        (
            [
                Queued(1.0, "q", 2),
                Overflowed(20.0, "offer_callback", accepted=True),
                CallbackBooked(20.0, "cb1", "q", 400.0, 3),
                Ended(25.0, "caller"),  # hung up during the confirmation: still a call-back
            ],
            "callback",
            "caller",
            25.0,
        ),
        ([IvrFinished(4.0, "hangup", None, ()), Ended(4.0, "system")], "ivr_hangup", "caller", 4.0),
        (
            [IvrFinished(4.0, "self_service", None, ()), Ended(9.0, "system")],
            "self_service",
            "system",
            9.0,
        ),
    ],
)
def test_how_a_call_ended_follows_from_its_steps(
    steps: list[Step], outcome: str, hung_up_by: str, ended_at: float
) -> None:
    state = fold(ARRIVAL, steps)
    assert (state.outcome, state.hung_up_by, state.ended_at) == (outcome, hung_up_by, ended_at)


def test_first_answer_counts_and_talk_is_the_sum_of_the_legs() -> None:
    state = fold(
        ARRIVAL,
        [
            *ANSWERED[:5],
            TransferAsked(40.0, "queue:complaints", "angry", "agents"),
            LegEnded(40.5, "agent"),
            Transferred(40.5, "1002", "queue:complaints", "angry", "agents"),
            Queued(40.5, "complaints", 10),
            Offered(50.0, "1003", "PJSIP/1003"),
            Answered(52.0, "1003", "PJSIP/1003-00000002"),
            LegEnded(100.0, "caller"),
            Ended(100.0, "system"),
        ],
    )
    assert state.answered_at == 12.0
    assert state.ring_started_at == 10.0
    assert state.queued_at == 1.0  # the first queue entry
    assert state.talk_s == pytest.approx(28.5 + 48.0)  # not the 10 s waiting between the legs
    assert (state.queue, state.agent_id, state.outcome) == ("complaints", "1003", "answered")
    assert [r.result for r in state.rings] == ["NOANSWER", "ANSWER", "ANSWER"]
    assert [t["target"] for t in state.transfers] == ["queue:complaints"]
    facts = state.kpi_facts(wrap_up_s=15.0)
    assert (facts.talk_s, facts.wrap_up_s, facts.abandoned_at) == (state.talk_s, 15.0, None)


class Collected:
    """What the storage writer would be given (Outputs only calls ``submit``)."""

    def __init__(self) -> None:
        self.commands: list[WriteCommand] = []

    def submit(self, command: WriteCommand) -> None:
        self.commands.append(command)


def run_outputs(steps: list[Step], outputs: Outputs) -> Call:
    call = Call(ARRIVAL)
    outputs.call_opened(call)
    for step in steps:
        call.add_step(step)
        outputs.call_step(call, step)
    outputs.call_final(call)
    return call


def test_an_answered_call_rewrites_its_row_four_times_with_its_timeline_so_far() -> None:
    writer = Collected()
    steps = [*ANSWERED, Ended(70.0, "system"), Catalogued(71.0, "rec-1")]
    call = run_outputs(steps, Outputs(publisher=None, writer=writer))  # type: ignore[arg-type]
    rows = [c for c in writer.commands if isinstance(c, UpsertCall)]
    # arrival, queue entry, answer, final (after the recording was catalogued)
    assert [r.idempotency_key.rsplit(":", 1)[1] for r in rows] == ["0", "1", "5", "final"]
    assert rows[-1].values["recording_id"] == "rec-1"
    assert rows[-1].values["outcome"] == "answered"
    assert (Queued, Answered) == ROW_AFTER
    # no call_events rows: each row write carries the whole timeline so far (issue 13)
    assert writer.commands == rows
    assert [len(r.timeline or ()) for r in rows] == [1, 2, 6, 7]
    events = rows[-1].timeline or ()
    kinds = [e.kind for e in events]
    assert kinds == [
        "arrived",
        "queued",
        "offered",
        "ring_no_answer",
        "offered",
        "answered",
        "ended",
    ]
    assert [e.seq for e in events] == [0, 1, 2, 3, 4, 5, 7]  # the step's place in the timeline
    assert len({e.idempotency_key for e in writer.commands}) == len(writer.commands)
    assert call.state.recording_id == "rec-1"


@pytest.mark.parametrize("held", [2, 4], ids=["to-the-first-dial", "to-the-second-dial"])
def test_steps_held_until_the_dial_make_the_same_writes_only_later(held: int) -> None:
    """A call on its way to the ring holds its steps' outputs: released, each is what it would
    have been when it happened (the ``queued`` row with the state at the queue entry, not the
    offer's agent after it), in order; nothing is written while held."""
    steps = [*ANSWERED, Ended(70.0, "system")]
    plain = Collected()
    run_outputs(steps, Outputs(publisher=None, writer=plain))  # type: ignore[arg-type]
    writer = Collected()
    outputs = Outputs(publisher=None, writer=writer)  # type: ignore[arg-type]
    call = Call(ARRIVAL)
    outputs.call_opened(call)
    outputs.hold_steps(call)
    for step in steps[:held]:
        call.add_step(step)
        outputs.call_step(call, step)
    assert len(writer.commands) == 1  # the arrival's row only
    outputs.send_held_steps(call)
    for step in steps[held:]:
        call.add_step(step)
        outputs.call_step(call, step)
    outputs.call_final(call)
    assert writer.commands == plain.commands
    queued = writer.commands[1]
    assert isinstance(queued, UpsertCall)
    assert queued.values["agent_id"] is None


def test_steps_still_held_when_the_call_ends_are_written_before_its_last_row() -> None:
    writer = Collected()
    outputs = Outputs(publisher=None, writer=writer)  # type: ignore[arg-type]
    call = Call(ARRIVAL)
    outputs.call_opened(call)
    outputs.hold_steps(call)
    for step in (Queued(1.0, "orders", 2), Ended(2.0, "caller")):
        call.add_step(step)
        outputs.call_step(call, step)
    outputs.call_final(call)
    rows = [c for c in writer.commands if isinstance(c, UpsertCall)]
    assert [r.idempotency_key.rsplit(":", 1)[1] for r in rows] == ["0", "1", "final"]
    assert [e.kind for e in rows[-1].timeline or ()] == ["arrived", "queued", "abandoned"]
    assert outputs.outcomes["abandoned"] == 1


def test_a_booked_call_back_is_stored_from_its_step() -> None:
    writer = Collected()
    booked = CallbackBooked(20.0, "cb1", "orders", 400.0, 3)
    run_outputs([Queued(1.0, "orders", 2), booked, Ended(25.0, "system")],
                Outputs(publisher=None, writer=writer))  # type: ignore[arg-type]  # fmt: skip
    [callback] = [c for c in writer.commands if isinstance(c, InsertCallback)]
    assert (callback.callback_id, callback.queue, callback.position) == ("cb1", "orders", 3)
    assert callback.due_at.timestamp() == 400.0
    assert callback.number == "5550100"


def test_a_caller_leaving_while_the_phone_rings_is_no_ring_no_answer_event() -> None:
    gone = RingMissed(5.0, "1001", "CANCEL", caller_gone=True)
    assert step_event(fold(ARRIVAL, [gone]), gone) is None
    missed = RingMissed(5.0, "1001", "NOANSWER", caller_gone=False)
    event = step_event(fold(ARRIVAL, [missed]), missed)
    assert event is not None
    assert event.kind == "ring_no_answer"


def test_finished_call_counters_never_go_back_when_the_history_is_bounded() -> None:
    outputs = Outputs(publisher=None, writer=None)
    outputs.completed = finished_facts(900.0, 2)  # the bounded history (100,000 in the daemon)
    for n in range(5):
        steps: list[Step] = (
            [*ANSWERED, Ended(70.0, "system")]
            if n % 2
            else [
                Queued(1.0, "orders", 2),
                Ended(30.0, "caller"),
            ]
        )
        call = Call(dataclasses.replace(ARRIVAL, call_id=f"c{n}"))
        for step in steps:
            call.add_step(step)
            outputs.call_step(call, step)
    totals = outputs.totals
    assert (totals.finished, totals.offered, totals.answered, totals.abandoned) == (5, 5, 2, 3)
    assert len(outputs.completed) == 2
    assert dict(outputs.outcomes) == {"abandoned": 3, "answered": 2}


def test_a_ring_without_an_answer_stores_no_state_row_but_is_still_published() -> None:
    writer = Collected()
    outputs = Outputs(publisher=None, writer=writer)  # type: ignore[arg-type]
    s = AgentState
    for old, new, at in [
        (s.LOGGED_OUT, s.READY, 1.0),
        (s.READY, s.RESERVED, 2.0),  # offered
        (s.RESERVED, s.READY, 3.0),  # the caller hung up while it rang
        (s.READY, s.RESERVED, 4.0),
        (s.RESERVED, s.ON_CALL, 5.0),  # answered: the ready interval ends here
        (s.ON_CALL, s.WRAP_UP, 6.0),
        (s.WRAP_UP, s.READY, 7.0),
    ]:
        outputs.agent_changed(AgentChanged("a1", old, new, None, at))
        outputs.floor_changed(make_floor(), at)  # stored once the floor took the input
    stored = [c for c in writer.commands if isinstance(c, AppendAgentState)]
    assert [c.state for c in stored] == ["ready", "on_call", "wrap_up", "ready"]


def _run(floor: Floor, outputs: Outputs, inp: FloorInput, now: float) -> None:
    """What the owner task does with an input (``AcdService._dispatch``)."""
    for effect in floor.handle(inp, now):
        if isinstance(effect, AgentChanged):
            outputs.agent_changed(effect)
    outputs.floor_changed(floor, now)


def test_each_agent_change_is_one_row_carrying_the_session() -> None:
    # issue 13: the session rides on the interval the change opens (no second write)
    writer = Collected()
    clocks = Clocks(wall=lambda: 1000.0, steady=lambda: 100.0)  # wall = steady + 900
    outputs = Outputs(publisher=None, writer=writer, clocks=clocks)  # type: ignore[arg-type]
    floor = make_floor(wrap_up_s=10.0)
    _run(floor, outputs, AgentRequest("alice", AgentAction.LOGIN), 1.0)
    _run(floor, outputs, CallerArrived(WaitingCall("c1", "orders", 2.0, 0)), 2.0)  # rings
    _run(floor, outputs, RingAnswered("c1"), 3.0)
    _run(floor, outputs, CallEnded("c1"), 20.0)
    _run(floor, outputs, Tick(), 30.0)
    assert all(isinstance(c, AppendAgentState) for c in writer.commands)
    rows = [
        (c.state, c.at.timestamp(), c.call_id, c.queue, c.wrap_up_due, c.endpoint)
        for c in writer.commands
        if isinstance(c, AppendAgentState)
    ]
    assert rows == [
        ("ready", 901.0, None, None, None, "PJSIP/1001"),
        ("on_call", 903.0, "c1", "orders", None, "PJSIP/1001"),
        ("wrap_up", 920.0, None, "orders", utc(930.0), "PJSIP/1001"),
        ("ready", 930.0, None, "orders", None, "PJSIP/1001"),
    ]


def test_while_the_daemon_stops_no_agent_change_is_stored() -> None:
    # what releasing the calls does to the floor is not what the agents do: the on_call
    # interval stays the agent's session (closed at the stop, restored at the next start)
    writer = Collected()
    outputs = Outputs(publisher=None, writer=writer)  # type: ignore[arg-type]
    floor = make_floor()
    _run(floor, outputs, AgentRequest("alice", AgentAction.LOGIN), 1.0)
    _run(floor, outputs, CallerArrived(WaitingCall("c1", "orders", 2.0, 0)), 2.0)
    _run(floor, outputs, RingAnswered("c1"), 3.0)
    outputs.hold_sessions()
    _run(floor, outputs, CallEnded("c1"), 4.0)
    assert floor.agents["alice"].state is AgentState.WRAP_UP
    stored = [c.state for c in writer.commands if isinstance(c, AppendAgentState)]
    assert stored == ["ready", "on_call"]


def test_a_steps_copy_of_the_state_is_what_dataclasses_replace_makes() -> None:
    # advance() copies the state with its own _copy (faster than dataclasses.replace): every
    # field carried over, the changed ones changed, an unknown name refused
    state = fold(
        Arrival("c1", "u1", "PJSIP/t-1", "5551234", "Li", 100.0),
        [Queued(101.0, "orders", 5, None), Offered(102.0, "1001", "PJSIP/1001")],
    )
    changes = {"agent_id": "1002", "ringing_since": 103.0, "steps": 7}
    assert call_state._copy(state, dict(changes)) == dataclasses.replace(state, **changes)
    assert call_state._copy(state, {}) == state
    with pytest.raises(TypeError, match="no_such_field"):
        call_state._copy(state, {"no_such_field": 1})


def _every_kind_of_step() -> list[tuple[Step, dict[str, Any]]]:
    """One step of each kind, in an order a call could take, with the fields it sets."""
    s = call_steps
    ask = s.TransferAsked(9.0, "queue:complaints", "angry", "1001")
    return [
        (s.Identified(1.0, "Li Wei", True, "1002"), {"name": "Li Wei", "vip": True}),
        (
            s.IvrFinished(2.0, "queue", "orders", (), reason="order", order_number="A1"),
            {"ivr_result": "queue", "reason": "order", "order_number": "A1", "queue": None},
        ),
        (s.CallbackLeg(2.5, "cb1", "c0", 1), {"callback_id": "cb1"}),
        (s.Queued(3.0, "orders", 7), {"queue": "orders", "priority": 7, "queued_at": 3.0}),
        (s.Announced(3.5, 2, 1), {}),
        (s.Overflowed(4.0, "overflow_queue", to_queue="sales"), {"queue": "sales"}),
        (s.Offered(5.0, "1001", "PJSIP/1001"), {"agent_id": "1001", "ringing_since": 5.0}),
        (s.RingMissed(6.0, "1001", "NOANSWER", False), {"agent_id": None, "ringing_since": None}),
        (s.Offered(6.5, "1002", "PJSIP/1002"), {"agent_id": "1002"}),
        (s.RecordingStarted(6.6, "/rec/c1.wav"), {"recording_path": "/rec/c1.wav"}),
        (
            s.Answered(7.0, "1002", "PJSIP/1002-1"),
            {"answered_at": 7.0, "ring_started_at": 6.5, "agent_channel": "PJSIP/1002-1"},
        ),
        (s.RecordingPaused(8.0, "card", "1002", 20.0), {"recording_paused": True}),
        (s.RecordingResumed(8.5, False, "1002", 0.5), {"recording_paused": False}),
        (ask, {"transfer_asked": ask}),
        (s.LegEnded(10.0, "agent"), {"talk_s": 3.0, "legs_done": 1, "last_leg": (10.0, "agent")}),
        (s.Transferred(10.1, "1002", "queue:complaints", "angry", "1001"), {"last_leg": None}),
        (s.SurveyDone(11.0, 4, True), {"survey_rating": 4, "survey_solved": True}),
        (s.CallbackBooked(11.5, "cb2", "sales", 99.0, 3), {"callback_booked": True}),
        (s.HandedBack(12.0), {"handed_back": True}),
        (s.RecordingNotStarted(12.5), {"recording_path": None}),
        (s.Ended(13.0, "caller"), {"ended_at": 13.0, "outcome": "callback"}),
        (s.Catalogued(14.0, "r1"), {"recording_id": "r1"}),
    ]


def test_every_kind_of_step_sets_its_fields_in_one_copy() -> None:
    # advance() builds each step's changes and copies the state once: each kind of step sets
    # what it means, counts itself, and leaves every other field as it was
    steps = _every_kind_of_step()
    kinds = {type(step) for step, _ in steps}
    assert kinds == set(typing.get_args(Step))  # a new kind of step gets a line here
    state = CallState(Arrival("c1", "u1", "PJSIP/t-1", "5551234", None, 0.5), name=None)
    for step, expected in steps:
        after = call_state.advance(state, step)
        assert after.steps == state.steps + 1
        for name, value in expected.items():
            assert getattr(after, name) == value, (type(step).__name__, name)
        changed = {
            f.name
            for f in dataclasses.fields(CallState)
            if getattr(after, f.name) != getattr(state, f.name)
        }
        assert changed - {"steps"} <= set(call_state._changes(state, step)), type(step).__name__
        state = after

"""Where the daemon's facts go: MQTT events, storage writes, and the finished calls' counters.

What a call step becomes is decided in ``acd.daemon.call_events``; this module only sends it.
Both sinks are optional (a demo can run without a broker, a test without a database) and neither
may block the caller: the publisher and the storage writer buffer, and their own tasks send.
The one exception is ``deliver`` (the screen pop), which the call flow awaits, briefly, so that
the agent's desktop has the caller before the phone rings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from acd.daemon.call_events import (
    ARRIVED,
    CallEvent,
    call_row,
    callback_row,
    step_event,
    utc,
    writes_row,
)
from acd.daemon.call_state import CallState
from acd.daemon.call_steps import CallbackBooked, Ended, Step
from acd.daemon.calls import Call
from acd.daemon.clocks import Clocks
from acd.daemon.closed_calls import finished_facts
from acd.engine.agent import AgentState
from acd.engine.floor import Floor
from acd.engine.floor_effects import AgentChanged
from acd.engine.sessions import session_of
from acd.events import topics
from acd.events.publisher import MqttPublisher
from acd.events.topics import Publication
from acd.kpi import CallFacts, summarize
from acd.logging import get_logger
from acd.storage.agent_legs import leg_json
from acd.storage.commands import (
    AppendAgentState,
    AppendCallEvent,
    UpsertCall,
    WriteCommand,
)
from acd.storage.timeline import TimelineStep
from acd.storage.writer import StorageWriter

log = get_logger(__name__)
IVR_COLUMNS = ("ivr_path", "ivr_reason", "order_number")
# Finished calls' KPI facts: the wallboard's shortest reporting period (15 minutes), at most
# this many; the rest is in the database.
COMPLETED_WINDOW_S = 900.0
COMPLETED_KEPT = 100_000
LEGS_DUE_KEPT = 10_000  # finished calls waiting for the floor to end a leg (normally none)
_STAFFED_IDLE = frozenset({AgentState.READY, AgentState.RESERVED})
_CALL_OVER = frozenset({AgentState.WRAP_UP, AgentState.READY})


@dataclass
class CallTotals:
    """Monotonic counters of finished calls (Prometheus ``*_total``), by the KPI module's
    definitions of offered, answered and abandoned."""

    finished: int = 0
    offered: int = 0
    answered: int = 0
    abandoned: int = 0

    def add(self, facts: CallFacts) -> None:
        one = summarize([facts])
        self.finished += 1
        self.offered += one.offered
        self.answered += one.answered
        self.abandoned += one.abandoned


class Outputs:
    def __init__(
        self,
        *,
        publisher: MqttPublisher | None,
        writer: StorageWriter | None,
        prefix: str = "hotline",
        wrap_up_s: Callable[[str | None], float] = lambda _q: 0.0,
        ring_limit_s: Callable[[str | None], float | None] = lambda _q: None,
        clocks: Clocks | None = None,
        floor_changed: Callable[[], None] = lambda: None,
        agent_wrap_up_s: Mapping[str, float] | None = None,
    ) -> None:
        self.publisher = publisher
        self.writer = writer
        self.prefix = prefix
        self._wrap_up_s = wrap_up_s
        self._agent_wrap_up_s = dict(agent_wrap_up_s or {})  # the floor's per-agent overrides
        self._ring_limit_s = ring_limit_s
        self._clocks = clocks or Clocks()
        self._floor_changed = floor_changed
        # Finished calls' KPI facts for the demo summary and the service-level gauge: bounded
        # by time and count, out of the collector's sight (reports read the database, not this).
        self.completed = finished_facts(COMPLETED_WINDOW_S, COMPLETED_KEPT)
        self.totals = CallTotals()  # never bounded, never reset: monotonic
        self.outcomes: Counter[str] = Counter()
        self._state_seq = 0
        self._agent_at: dict[str, float] = {}  # agent -> wall time of its last state change
        # Each live call's timeline so far, sent whole with each of its calls row writes (one
        # row write per call instead of one call_events row per step); from call_opened to
        # call_final, so it holds only the calls in progress.
        self._timelines: dict[str, list[TimelineStep]] = {}
        # Stored changes since the last floor_changed: (change, wall time, pause reason)
        self._changes_due: list[tuple[AgentChanged, float, str | None]] = []
        self._sessions_held = False
        # Agents whose conversation and wrap-up are derived from a call's row (its
        # agent_legs), not stored as state changes: agent -> that call. Set at the answer of a
        # call in progress here; gone at the agent's next stored change or the wrap-up's end.
        self._busy_call: dict[str, str] = {}
        self._wrap_due: dict[str, float] = {}  # such an agent -> its floor wrap-up deadline
        self._early_end: dict[str, str] = {}  # agent -> call whose wrap-up it ended early
        # call -> agent -> how many of its legs the floor has seen end (a leg is written ended
        # only then: a conversation the daemon's own end cut, a stop or a kill, stays open)
        self._legs_over: dict[str, Counter[str]] = {}
        # finished calls whose last leg the floor has not seen end yet: written once more then
        self._legs_due: dict[str, Call] = {}
        # A call on its way to the ring: its steps' events and row, with the call's state
        # after each, until its Dial is written (``hold_steps``); in order, never dropped.
        self._held: dict[str, list[tuple[Step, CallState]]] = {}

    # -- calls ------------------------------------------------------------------------------

    def call_opened(self, call: Call) -> None:
        """The call arrived: its ``arrived`` event and first calls row. A resumed call (its daemon
        died): its row again; the first daemon's timeline stays in ``calls.timeline`` and this
        daemon's steps go to ``call_events`` rows (numbered from 1000 per attempt), which the
        reports merge with it."""
        state = call.state
        if state.steps == 0:
            self._timelines[call.call_id] = []
            self._event(call, state, ARRIVED, call.facts.arrived_at, seq=0)
        self._row(call, state, str(state.steps))  # before a resumed call's event rows

    def call_step(self, call: Call, step: Step) -> None:
        """A step was added to the call's timeline (``call.state`` is the call after it)."""
        held = self._held.get(call.call_id)
        if held is not None:
            held.append((step, call.state))
        else:
            self._send_step(call, step, call.state)

    def hold_steps(self, call: Call) -> None:
        """The call is on its way to the agent's phone: what its steps mean (events, the calls
        row) waits until ``send_held_steps``, once its Dial is written (issue 13: the ring
        first, ~0.1 ms of Python off the caller's way to it). The window: the owner task's
        round, with a broker the screen pop's confirmation (``screen_pop_wait_s`` at most),
        and a place stored by its own command. A SIGKILL there leaves them unwritten, as the
        storage writer's settle could before: the row keeps the arrival and the caller,
        resumed, continues it (tests/daemon/test_resilience_resume.py kills at that point)."""
        self._held.setdefault(call.call_id, [])

    def send_held_steps(self, call: Call) -> None:
        """Send the held steps, in order, each with the call's state after it; hold no more."""
        for step, state in self._held.pop(call.call_id, ()):
            self._send_step(call, step, state)

    def _send_step(self, call: Call, step: Step, state: CallState) -> None:
        event = step_event(state, step)
        if event is not None:
            self._event(call, state, event, step.at, seq=state.steps)
        if isinstance(step, CallbackBooked):
            self._write(callback_row(state, step))
        if isinstance(step, Ended):
            facts = state.kpi_facts(self._wrap_up_s(state.queue), self._ring_limit_s(state.queue))
            self.completed.append(step.at, facts)
            self.totals.add(facts)
            self.outcomes[state.outcome or "unknown"] += 1
        elif writes_row(step):
            self._row(call, state, str(state.steps))

    def call_final(self, call: Call) -> None:
        """The daemon is done with the call (recording catalogued): its last calls row, with
        the whole timeline."""
        self.send_held_steps(call)  # a call that never got to its Dial
        self._row(call, call.state, "final")
        self._timelines.pop(call.call_id, None)
        if self._legs_open(call):
            self._legs_due[call.call_id] = call
            while len(self._legs_due) > LEGS_DUE_KEPT:
                self._legs_due.pop(next(iter(self._legs_due)))
        else:
            self._legs_over.pop(call.call_id, None)

    def _event(
        self, call: Call, state: CallState, event: CallEvent, at: float, *, seq: int
    ) -> None:
        data = event.data or {}
        if self.publisher is not None and event.kind in topics.CALL_EVENTS:
            fields = {
                "queue": state.queue,
                "agent_id": event.agent_id,
                "number": state.facts.number,
            }
            pub = topics.call_event(self.prefix, call.call_id, event.kind, at, **fields, **data)
            self.publisher.publish(pub)
        step = TimelineStep(
            seq=seq, at=utc(at), kind=event.kind, agent_id=event.agent_id, data=data or None
        )
        timeline = self._timelines.get(call.call_id)
        if timeline is not None:  # None: not opened (yet), finished, or resumed
            timeline.append(step)
        elif call.resumed:
            self._write(
                AppendCallEvent(
                    idempotency_key=f"{call.call_id}:ev:{seq}",
                    call_id=call.call_id,
                    seq=seq,
                    at=step.at,
                    kind=step.kind,
                    agent_id=step.agent_id,
                    data=step.data,
                )
            )

    def _row(self, call: Call, state: CallState, version: str) -> None:
        """The calls row with the timeline so far (each write replaces the stored one: a daemon
        killed mid-call leaves the steps up to its last row write; a resumed call sends none)."""
        timeline = self._timelines.get(call.call_id)
        values = call_row(state)
        if call.resumed and state.ivr_result is None:
            # resumed after its daemon died, straight into the queue: the IVR's answers are
            # the first daemon's, already in the row (the upsert sets only the columns given)
            for column in IVR_COLUMNS:
                del values[column]
        if state.legs and not call.resumed:  # a resumed call's legs stay as stored
            values["agent_legs"], values["wrap_up_due"] = self._legs(call.call_id, state)
        self._write(
            UpsertCall(
                idempotency_key=f"{call.call_id}:row:{version}",
                call_id=call.call_id,
                values=values,
                timeline=None if timeline is None else tuple(timeline),
            )
        )

    def _legs(self, call_id: str, state: CallState) -> tuple[list[dict[str, Any]], datetime | None]:
        """``calls.agent_legs`` and ``calls.wrap_up_due``: each answered leg with the
        wrap-up deadline that follows its end (the floor's rule: the agent's override, else
        the leg's queue's wrap-up time). A leg is written ended once the floor has ended that
        conversation too (the agent's change the log held before); one the daemon's own end
        cut (a stop, ``hold_sessions``, or a kill) is written still going, as the agent's
        on-call interval stayed its session before."""
        rows: list[dict[str, Any]] = []
        due_at: datetime | None = None
        over = self._legs_over.get(call_id, Counter())
        seen: Counter[str] = Counter()
        for leg in state.legs:
            ended = leg.ended_at
            seen[leg.agent_id] += 1
            if seen[leg.agent_id] > over[leg.agent_id]:
                ended = None
            due = None
            if ended is not None:
                wrap = self._agent_wrap_up_s.get(leg.agent_id, self._wrap_up_s(leg.queue))
                due = utc(ended + max(0.0, wrap))
            end = None if ended is None else utc(ended)
            answered = utc(leg.answered_at)
            rows.append(
                leg_json(leg.agent_id, leg.queue, answered, end, due, recording=leg.recording)
            )
            due_at = due
        return rows, due_at

    # -- agents and queues (FloorOutputs) ---------------------------------------------------

    def agent_changed(self, change: AgentChanged) -> None:
        reason = change.reason if change.new.value == "paused" else None
        # The floor runs on the steady clock; stored times are wall-clock times, never earlier
        # than the agent's previous change (a clock set back must not make intervals overlap).
        at = max(self._clocks.to_wall(change.at), self._agent_at.get(change.agent_id, 0.0))
        self._agent_at[change.agent_id] = at
        if self.publisher is not None:
            pub = topics.agent_state(
                self.prefix, change.agent_id, change.new.value, at, reason=reason
            )
            self.publisher.publish(pub)
        if {change.old, change.new} <= _STAFFED_IDLE:
            # A ring that starts or ends without an answer: the stored interval stays "ready".
            # The reports count reserved exactly as ready (staffed, not busy: acd.kpi), so
            # occupancy is unchanged and every offer saves a row (issue 13: writes per call).
            # A daemon killed during a ring restores the agent ready (acd.engine.sessions).
            return
        self._changes_due.append((change, at, reason))

    def floor_changed(self, floor: Floor, now: float) -> None:
        """Cheap: the queue statistics task (``acd.daemon.queue_stats``) reads the floor. The
        agents' changes are stored here, in the owner task, after the floor took the whole
        input: an agent's last change carries its session (a state with its wrap-up deadline
        and call, together), one row write per change."""
        del now
        due, self._changes_due = self._changes_due, []
        if not self._sessions_held:
            last = {change.agent_id: n for n, (change, _at, _reason) in enumerate(due)}
            for n, (change, at, reason) in enumerate(due):
                is_last = last[change.agent_id] == n
                if not self._derived(floor, change, is_last):
                    self._store_change(floor, change, at, reason, is_last)
        self._floor_changed()

    def _derived(self, floor: Floor, change: AgentChanged, last: bool) -> bool:
        """Whether the change is one the call's row already says (issue 13: at most 4 writes
        per answered call), so it is not stored: the answer of a call in progress here
        (``calls.agent_legs``), the end of that conversation (into wrap-up, or ready without
        one), and the end of the wrap-up when its time ran out (the leg's deadline). Any other
        change is stored; one that ends the wrap-up early is stored as ready with the call's
        id, which cuts the derived wrap-up (``acd.reports.agent_time``)."""
        agent_id = change.agent_id
        old, new = change.old, change.new
        call_id = self._busy_call.get(agent_id)
        if old is AgentState.RESERVED and new is AgentState.ON_CALL:
            engaged = floor.router.engaged
            answered = next((c for c, e in engaged.items() if e.agent_id == agent_id), None)
            if answered is not None and answered in self._timelines:  # not a resumed call
                self._busy_call[agent_id] = answered
                self._wrap_due.pop(agent_id, None)
                return True
            return False
        if call_id is None:
            return False
        if old is AgentState.ON_CALL:
            self._leg_over(call_id, agent_id)
        if old is AgentState.ON_CALL and new in _CALL_OVER:
            if new is AgentState.WRAP_UP and last and agent_id in floor.agents:
                due = floor.agents[agent_id].wrap_up_due
                if due is not None:
                    self._wrap_due[agent_id] = due
            if new is AgentState.READY:
                del self._busy_call[agent_id]
            return True
        due = self._wrap_due.pop(agent_id, None)
        del self._busy_call[agent_id]
        if old is AgentState.WRAP_UP and new is AgentState.READY:
            if due is not None and change.at >= due:
                return True  # the wrap-up ran out: its deadline is on the call's row
            self._early_end[agent_id] = call_id
        return False

    def _legs_open(self, call: Call) -> bool:
        """Whether a leg of the call has ended that the floor has not seen end."""
        if call.resumed:
            return False
        over = self._legs_over.get(call.call_id, Counter())
        ended = Counter(leg.agent_id for leg in call.state.legs if leg.ended_at is not None)
        return any(ended[agent] > over[agent] for agent in ended)

    def _leg_over(self, call_id: str, agent_id: str) -> None:
        """The floor ended the agent's conversation in the call. A finished call's row was
        written with that leg still going (the floor took the end after the daemon was done
        with the call): written once more, with the leg's end and wrap-up deadline."""
        over = self._legs_over.setdefault(call_id, Counter())
        over[agent_id] += 1
        call = self._legs_due.get(call_id)
        if call is not None:
            self._row(call, call.state, f"legs:{sum(over.values())}")
            if not self._legs_open(call):
                del self._legs_due[call_id]
                del self._legs_over[call_id]

    def hold_sessions(self) -> None:
        """The daemon stops: what its ending calls do to the floor (a conversation released
        as its FastAGI session is cancelled, while Asterisk's bridge stays up) is not what the
        agents do. Their intervals (their sessions) stay as they were until the stop closes
        them, and so do the legs on the calls rows; the next start reconciles them."""
        self._sessions_held = True

    def _store_change(
        self, floor: Floor, change: AgentChanged, at: float, reason: str | None, last: bool
    ) -> None:
        agent_id = change.agent_id
        spec = floor.specs.get(agent_id)
        due_wall = call_id = queue = None
        if last and agent_id in floor.agents:
            session = session_of(floor, agent_id)
            due = session.wrap_up_due
            due_wall = None if due is None else utc(self._clocks.to_wall(due))
            queue = session.queue
            # a ring the interval does not show (a ready row) keeps no call
            call_id = session.call_id if session.state is change.new else None
        early = self._early_end.pop(agent_id, None)
        if early is not None:
            call_id = early  # a wrap-up ended early: the ready interval names its call
        self._state_seq += 1
        self._write(
            AppendAgentState(
                idempotency_key=f"{agent_id}:st:{at:.6f}:{self._state_seq}",
                agent_id=agent_id,
                state=change.new.value,
                reason=reason,
                at=utc(at),
                endpoint=None if spec is None else spec.endpoint,
                wrap_up_due=due_wall,
                call_id=call_id,
                queue=queue,
            )
        )

    def prune(self, now: float) -> None:
        """Drop the finished calls' facts older than the window (``now``: wall clock)."""
        self.completed.prune(now)

    # -- anything else ----------------------------------------------------------------------

    def store(self, command: WriteCommand) -> None:
        """A storage write outside a call's timeline (a recording, an audit row)."""
        self._write(command)

    def publish(self, publication: Publication) -> None:
        if self.publisher is not None:
            self.publisher.publish(publication)

    async def deliver(self, publication: Publication, timeout_s: float) -> bool:
        """Publish and wait until the broker has it, at most ``timeout_s`` (False: not known to
        be delivered; it stays buffered). No broker configured: nothing to wait for."""
        if self.publisher is None:
            return True
        return await self.publisher.deliver(publication, timeout_s)

    def _write(self, command: WriteCommand) -> None:
        if self.writer is not None:
            self.writer.submit(command)  # never refused: a backlog goes to the spool

"""Where the daemon's facts go: MQTT events, storage writes, and the in-memory call history.

Both sinks are optional (a demo can run without a broker, a test without a database) and neither
may block the caller: the publisher and the storage writer buffer, and their own tasks send.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from acd.daemon.calls import CallRecord
from acd.engine.floor import Floor
from acd.engine.floor_effects import AgentChanged
from acd.events import topics
from acd.events.publisher import MqttPublisher
from acd.events.topics import Publication
from acd.kpi import CallFacts
from acd.logging import get_logger
from acd.storage.commands import AppendAgentState, AppendCallEvent, UpsertCall, WriteCommand
from acd.storage.writer import StorageWriter

log = get_logger(__name__)
COMPLETED_KEPT = 100_000
STATS_EVERY_S = 1.0  # retained queue statistics at most once a second
# Timeline steps after which the call row itself is rewritten; the others only add a timeline
# row. A busy floor writes every step, so the row is not rewritten at each one.
ROW_EVENTS = frozenset({"arrived", "queued", "answered", "ended", "abandoned"})


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class Outputs:
    def __init__(
        self,
        *,
        publisher: MqttPublisher | None,
        writer: StorageWriter | None,
        prefix: str = "hotline",
        wrap_up_s: Callable[[str | None], float] = lambda _q: 0.0,
        ring_limit_s: Callable[[str | None], float | None] = lambda _q: None,
    ) -> None:
        self.publisher = publisher
        self.writer = writer
        self.prefix = prefix
        self._wrap_up_s = wrap_up_s
        self._ring_limit_s = ring_limit_s
        # Finished calls for the demo summary and the live metrics; bounded, so a daemon that
        # runs for months does not grow (reports read the database, not this).
        self.completed: deque[CallFacts] = deque(maxlen=COMPLETED_KEPT)
        self.outcomes: Counter[str] = Counter()
        self._state_seq = 0
        self._stats_at = float("-inf")

    # -- calls ------------------------------------------------------------------------------

    def call_event(
        self, call: CallRecord, kind: str, at: float, agent_id: str | None = None, **data: Any
    ) -> None:
        """One step of a call's timeline: MQTT lifecycle event, timeline row, call row."""
        if self.publisher is not None and kind in topics.CALL_EVENTS:
            fields = {"queue": call.queue, "agent_id": agent_id, "number": call.number, **data}
            self.publisher.publish(topics.call_event(self.prefix, call.call_id, kind, at, **fields))
        seq = call.next_seq()
        if kind in ROW_EVENTS:
            self._write(self._upsert(call, at))
        self._write(
            AppendCallEvent(
                idempotency_key=f"{call.call_id}:ev:{seq}",
                call_id=call.call_id,
                seq=seq,
                at=utc(at),
                kind=kind,
                agent_id=agent_id,
                data=data or None,
            )
        )

    def call_row(self, call: CallRecord, at: float) -> None:
        """Rewrite the call row after the call ended (its recording id became known)."""
        call.next_seq()
        self._write(self._upsert(call, at))

    def call_finished(self, call: CallRecord) -> None:
        facts = call.facts(self._wrap_up_s(call.queue), self._ring_limit_s(call.queue))
        self.completed.append(facts)
        self.outcomes[call.outcome or "unknown"] += 1

    def _upsert(self, call: CallRecord, at: float) -> UpsertCall:
        values: dict[str, Any] = call.row()
        values["arrived_at"] = utc(call.arrived_at)
        values["ivr_path"] = call.ivr_path or None
        for name in ("queued_at", "answered_at", "ended_at"):
            value = getattr(call, name)
            values[name] = utc(value) if value is not None else None
        values["ring_time_s"] = round(sum(r.ended_at - r.started_at for r in call.rings), 3)
        return UpsertCall(
            idempotency_key=f"{call.call_id}:row:{call.seq}", call_id=call.call_id, values=values
        )

    # -- agents and queues (FloorOutputs) ---------------------------------------------------

    def agent_changed(self, change: AgentChanged) -> None:
        reason = change.reason if change.new.value == "paused" else None
        if self.publisher is not None:
            self.publisher.publish(
                topics.agent_state(
                    self.prefix, change.agent_id, change.new.value, change.at, reason=reason
                )
            )
        self._state_seq += 1
        self._write(
            AppendAgentState(
                idempotency_key=f"{change.agent_id}:st:{change.at:.6f}:{self._state_seq}",
                agent_id=change.agent_id,
                state=change.new.value,
                reason=reason,
                at=utc(change.at),
            )
        )

    def floor_changed(self, floor: Floor, now: float) -> None:
        if self.publisher is None or now - self._stats_at < STATS_EVERY_S:
            return
        self._stats_at = now
        waiting = floor.router.waiting_calls()
        by_state = Counter(s.state.value for s in floor.agents.values())
        for queue in floor.queues:
            mine = [c for c in waiting if c.queue == queue]
            longest = max((now - c.arrived_at for c in mine), default=0.0)
            self.publisher.publish(
                topics.queue_stats(
                    self.prefix,
                    queue,
                    now,
                    waiting=len(mine),
                    longest_wait_s=longest,
                    agents_by_state=dict(by_state),
                    service_level=None,
                )
            )

    def store(self, command: WriteCommand) -> None:
        """A storage write outside the call timeline (a recording, a call-back)."""
        self._write(command)

    def publish(self, publication: Publication) -> None:
        if self.publisher is not None:
            self.publisher.publish(publication)

    def _write(self, command: WriteCommand) -> None:
        if self.writer is not None:
            self.writer.submit(command)  # never refused: a backlog goes to the spool

"""app_queue: callers join, members ring (linear / ringall / rrmemory), connect or give up.

Event order per ami_events_full_call.txt: A (RingNoAnswer after the member timeout with RingTime
in ms, retry, AgentConnect with RingTime in s, MixMonitor by app_queue, AgentComplete), B (queue
timeout -> QueueCallerAbandon then QueueCallerLeave, QUEUESTATUS=TIMEOUT), C (abandon), E
(unknown queue -> QUEUESTATUS=UNKNOWN, no queue events). RECORDED q6_queue.txt /
q6_queue_log_sample.txt: ``QUEUE_PRIO`` orders the callers (visible only as QueueEntry
``Priority`` in QueueStatus), only as many callers as there are free members ring at a time
(app_queue.c ``is_our_turn``), and every step writes its ``queue_log`` line (queue_log.py).
Queue() returns -1 when the caller hung up or a connected call ended (the dialplan hangs up:
scenario A), 0 otherwise (timeout, unknown queue: the next priority runs, scenarios B and E).
"""

from __future__ import annotations

from collections.abc import Callable

from acd.sim import events as ev
from acd.sim.channels import Channel
from acd.sim.dial_app import Leg
from acd.sim.queue_connect import QueueConnect
from acd.sim.queue_state import Entry, Member, QueueState

#: app_queue.c queue_exec blanks these on the caller when it joins (RECORDED scenario A)
_JOIN_VARIABLES = (
    "ANSWEREDTIME",
    "ANSWEREDTIME_MS",
    "DIALEDTIME",
    "DIALEDTIME_MS",
    "QUEUEWAIT",
    "QUEUEWAIT_MS",
)


def _queue_priority(caller: Channel) -> int:
    try:
        return int(caller.variables.get("QUEUE_PRIO", "0") or 0)
    except ValueError:
        return 0  # app_queue.c queue_exec: "QUEUE_PRIO ... is not a number", priority 0


class QueueApp(QueueConnect):
    """The Queue() application; connecting a caller and member administration are inherited."""

    def run(
        self,
        now: float,
        caller: Channel,
        queue: str,
        *,
        options: str,
        timeout: float | None,
        done: Callable[[float, int], None],
    ) -> None:
        world = self.world
        q = self.queues.get(queue)
        if q is None:
            world.setvar(caller, "QUEUESTATUS", "UNKNOWN")
            done(now, 0)
            return
        for name in _JOIN_VARIABLES:
            world.setvar(caller, name, "")
        entry = Entry(caller, now, 0, priority=_queue_priority(caller))
        q.insert(entry)
        entry.original_position = q.position(entry)
        shown = f"{timeout:g}" if timeout else ""
        caller.application, caller.app_data = "Queue", f"{queue},{options},,,{shown}"
        world.emit(
            ev.chan(
                "QueueCallerJoin",
                ev.AGENT,
                caller,
                ("Queue", q.name),
                ("Position", str(q.position(entry))),
                ("Count", str(len(q.entries))),
            )
        )
        self._log(now, caller, q, "NONE", "ENTERQUEUE", "", caller.cid_num, str(q.position(entry)))
        world.emit(ev.chan("MusicOnHoldStart", ev.CALL, caller, ("Class", q.plan.musicclass)))

        def leave(t: float, status: str) -> None:
            entry.cancel_timers()
            caller.on_hangup = None
            self._give_up(t, q, entry, status)
            self._wait_variables(t, entry)
            if status == "TIMEOUT":
                # app_queue.c queue_exec: an abandon or a Redirect leaves QUEUE_UNKNOWN, which
                # sets no QUEUESTATUS (RECORDED scenario C: no VarSet QUEUESTATUS)
                world.setvar(caller, "QUEUESTATUS", status)
            done(t, 0 if status == "TIMEOUT" else -1)

        entry.done = done
        caller.on_hangup = lambda t: leave(t, "ABANDON" if caller.redirect_to is None else "LEAVE")
        if timeout:
            entry.timeout_timer = world.timers.at(now + timeout, lambda t: leave(t, "TIMEOUT"))
        self._ring(now, q, entry)

    def _wait_variables(self, now: float, entry: Entry) -> None:
        """app_queue.c queue_exec ``stop:``: QUEUEWAIT, DIALEDTIME, ANSWEREDTIME when empty."""
        world, caller = self.world, entry.caller
        if not caller.alive:
            return
        waited = self.whole_seconds(entry.joined_at, now) * 1000
        for name, ms in (
            ("QUEUEWAIT", waited),
            ("DIALEDTIME", (now - caller.created_at) * 1000),
            ("ANSWEREDTIME", 0),
        ):
            if not caller.variables.get(name):
                world.setvar(caller, name, str(int(ms // 1000)))
                world.setvar(caller, f"{name}_MS", str(int(ms)))

    def _give_up(self, now: float, q: QueueState, entry: Entry, status: str) -> None:
        world, caller = self.world, entry.caller
        ringing_statuses = ("NOANSWER", "CANCEL") if status == "TIMEOUT" else ("CANCEL", "CANCEL")
        if status != "TIMEOUT":
            world.emit(ev.chan("MusicOnHoldStop", ev.CALL, caller))
        for leg in entry.legs:
            ring_ms = int((now - leg.rang_at) * 1000)
            if status == "TIMEOUT":
                self._agent_event("AgentRingNoAnswer", q, entry, leg, ("RingTime", str(ring_ms)))
                self._log(now, caller, q, self._member_name(q, leg), "RINGNOANSWER", str(ring_ms))
            else:
                self._log(now, caller, q, self._member_name(q, leg), "RINGCANCELED", str(ring_ms))
            leg.cancel(now, ringing_statuses, defer_far_half=status == "TIMEOUT")
        entry.legs.clear()
        position = q.position(entry)
        waited = str(self.whole_seconds(entry.joined_at, now))
        if status in ("ABANDON", "TIMEOUT"):  # a Redirect only leaves
            q.abandoned += 1
            world.emit(
                ev.chan(
                    "QueueCallerAbandon",
                    ev.AGENT,
                    caller,
                    ("Queue", q.name),
                    ("Position", str(position)),
                    ("OriginalPosition", str(entry.original_position)),
                    ("HoldTime", waited),
                )
            )
            event = "EXITWITHTIMEOUT" if status == "TIMEOUT" else "ABANDON"
            self._log(
                now, caller, q, "NONE", event, str(position), str(entry.original_position), waited
            )
        if status == "TIMEOUT":
            world.emit(ev.chan("MusicOnHoldStop", ev.CALL, caller))
        self._leave(q, entry, position)

    def _available(self, now: float, q: QueueState, member: Member) -> bool:
        ringing = {
            leg.endpoint for qs in self.queues.values() for e in qs.entries for leg in e.legs
        }
        return (
            not member.paused
            and not member.in_call
            and member.busy_until <= now
            and member.interface not in ringing
            and member.status in (0, 1)
        )

    def _our_turn(self, q: QueueState, entry: Entry, free: int) -> bool:
        """app_queue.c ``is_our_turn`` (autofill=yes): within ``free`` of the head, counting
        only callers ahead that are not ringing a member right now."""
        ahead = 0
        for other in q.entries:
            if other is entry:
                return ahead < free
            if not other.connected and not other.legs:
                ahead += 1
        return False

    def _ring(self, now: float, q: QueueState, entry: Entry) -> None:
        """One ring attempt; with nobody free, app_queue simply waits ``retry`` and tries again."""
        if entry.connected or entry.legs or entry not in q.entries:
            return
        if entry.ring_timer is not None:
            entry.ring_timer.cancel()
            entry.ring_timer = None
        free = [m for m in q.members if self._available(now, q, m)]
        if not free or not self._our_turn(q, entry, len(free)):
            self._retry(now, q, entry, q.plan.retry)
            return
        if q.plan.strategy == "ringall":
            chosen = free
        elif q.plan.strategy == "rrmemory":
            # app_queue rrmemory: start after the member tried last, remembered across calls
            order = q.members[q.rr_next :] + q.members[: q.rr_next]
            chosen = [next(m for m in order if m in free)]
            q.rr_next = (q.members.index(chosen[0]) + 1) % len(q.members)
        else:
            order = q.members[entry.linpos :] + q.members[: entry.linpos]
            chosen = [next(m for m in order if m in free)]
            entry.linpos = (q.members.index(chosen[0]) + 1) % len(q.members)
        for member in chosen:
            leg = Leg(self.world, now, entry.caller, member.interface, entry.caller.linkedid)
            entry.legs.append(leg)
            self._agent_event("AgentCalled", q, entry, leg)
            leg.begin(now, lambda t, lg: self._answered(t, q, entry, lg))
        entry.ring_timer = self.world.timers.at(
            now + q.plan.member_timeout, lambda t: self._no_answer(t, q, entry)
        )

    def _retry(self, now: float, q: QueueState, entry: Entry, delay: float) -> None:
        entry.ring_timer = self.world.timers.at(
            now + max(delay, 0.1), lambda t: self._ring(t, q, entry)
        )

    def _no_answer(self, now: float, q: QueueState, entry: Entry) -> None:
        for leg in entry.legs:
            ring_ms = round((now - leg.rang_at) * 1000)
            self._agent_event("AgentRingNoAnswer", q, entry, leg, ("RingTime", str(ring_ms)))
            self._log(now, entry.caller, q, self._member_name(q, leg), "RINGNOANSWER", str(ring_ms))
            leg.cancel(now, ("NOANSWER", "CANCEL"))
        entry.legs.clear()
        entry.ring_timer = None
        self._retry(now, q, entry, q.plan.retry)

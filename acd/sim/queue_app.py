"""app_queue: callers join, members ring (linear / ringall / rrmemory), connect or give up.

Event order per ami_events_full_call.txt: A (RingNoAnswer after the member timeout with RingTime
in ms, retry, AgentConnect with RingTime in s, MixMonitor by app_queue, AgentComplete), B (queue
timeout -> QueueCallerAbandon then QueueCallerLeave, QUEUESTATUS=TIMEOUT), C (abandon), E
(unknown queue -> QUEUESTATUS=UNKNOWN, no queue events).
"""

from __future__ import annotations

from collections.abc import Callable

from acd.sim import events as ev
from acd.sim.channels import Channel
from acd.sim.dial_app import Leg
from acd.sim.queue_admin import QueueAdmin
from acd.sim.queue_state import Entry, Member, QueueState


class QueueApp(QueueAdmin):
    """The Queue() application; member administration is inherited."""

    def run(
        self,
        now: float,
        caller: Channel,
        queue: str,
        *,
        options: str,
        timeout: float | None,
        done: Callable[[float], None],
    ) -> None:
        world = self.world
        q = self.queues.get(queue)
        if q is None:
            world.setvar(caller, "QUEUESTATUS", "UNKNOWN")
            done(now)
            return
        entry = Entry(caller, now, len(q.entries) + 1)
        q.entries.append(entry)
        caller.application, caller.app_data = "Queue", f"{queue},{options},,,{timeout or ''}"
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
        world.emit(ev.chan("MusicOnHoldStart", ev.CALL, caller, ("Class", q.plan.musicclass)))

        def leave(t: float, status: str) -> None:
            entry.cancel_timers()
            caller.on_hangup = None
            self._give_up(t, q, entry, status)
            world.setvar(caller, "QUEUESTATUS", status)
            done(t)

        entry.done = done
        caller.on_hangup = lambda t: leave(t, "ABANDON" if caller.redirect_to is None else "LEAVE")
        if timeout:
            entry.timeout_timer = world.timers.at(now + timeout, lambda t: leave(t, "TIMEOUT"))
        self._ring(now, q, entry)

    def _give_up(self, now: float, q: QueueState, entry: Entry, status: str) -> None:
        world, caller = self.world, entry.caller
        ringing_statuses = ("NOANSWER", "CANCEL") if status == "TIMEOUT" else ("CANCEL", "CANCEL")
        if status != "TIMEOUT":
            world.emit(ev.chan("MusicOnHoldStop", ev.CALL, caller))
        for leg in entry.legs:
            if status == "TIMEOUT":
                self._agent_event(
                    "AgentRingNoAnswer",
                    q,
                    entry,
                    leg,
                    ("RingTime", str(int((now - leg.rang_at) * 1000))),
                )
            leg.cancel(now, ringing_statuses, defer_far_half=status == "TIMEOUT")
        entry.legs.clear()
        position = q.position(entry)
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
                    ("HoldTime", str(int(now - entry.joined_at))),
                )
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

    def _ring(self, now: float, q: QueueState, entry: Entry) -> None:
        """One ring attempt; with nobody free, app_queue simply waits ``retry`` and tries again."""
        if entry.connected or entry.legs or entry not in q.entries:
            return
        if entry.ring_timer is not None:
            entry.ring_timer.cancel()
            entry.ring_timer = None
        free = [m for m in q.members if self._available(now, q, m)]
        if not free:
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
            self._agent_event(
                "AgentRingNoAnswer",
                q,
                entry,
                leg,
                ("RingTime", str(round((now - leg.rang_at) * 1000))),
            )
            leg.cancel(now, ("NOANSWER", "CANCEL"))
        entry.legs.clear()
        entry.ring_timer = None
        self._retry(now, q, entry, q.plan.retry)

    def _agent_event(
        self, name: str, q: QueueState, entry: Entry, leg: Leg, *extra: tuple[str, str]
    ) -> None:
        member = q.member(leg.endpoint)
        member_name = member.name if member is not None else leg.endpoint
        self.world.emit(
            ev.two_party(
                name,
                ev.AGENT,
                entry.caller,
                leg.one,
                ("Queue", q.name),
                ("Interface", leg.endpoint),
                ("MemberName", member_name),
                *extra,
            )
        )

    def _leave(self, q: QueueState, entry: Entry, position: int) -> None:
        """The caller is out of the queue: QueueCallerLeave with the position it had."""
        q.entries.remove(entry)
        self.world.emit(
            ev.chan(
                "QueueCallerLeave",
                ev.AGENT,
                entry.caller,
                ("Queue", q.name),
                ("Position", str(position)),
                ("Count", str(len(q.entries))),
            )
        )

    def _answered(self, now: float, q: QueueState, entry: Entry, leg: Leg) -> None:
        world, caller = self.world, entry.caller
        entry.cancel_timers()
        for other in entry.legs:
            if other is not leg:
                other.cancel(now)
        entry.legs = []
        entry.connected = True
        member = q.member(leg.endpoint)
        world.emit(ev.chan("MusicOnHoldStop", ev.CALL, caller))
        if q.plan.monitor_format:
            base = caller.variables.get("MONITOR_FILENAME") or caller.uniqueid
            world.recorder.start(
                now, caller.name, f"{base}.{q.plan.monitor_format}", "b", via_app=True
            )
        self._leave(q, entry, q.position(entry))
        hold = now - entry.joined_at
        self._agent_event(
            "AgentConnect",
            q,
            entry,
            leg,
            ("HoldTime", str(int(hold))),
            ("RingTime", str(int(now - leg.rang_at))),
        )
        if member is not None:
            member.in_call = True

        def complete(t: float, reason: str) -> None:
            talk = t - now
            q.record_completed(hold, talk)
            if member is not None:
                member.in_call = False
                member.calls_taken += 1
                member.last_call = int(world.naming.wall(t))
                member.busy_until = t + q.plan.wrapuptime
            extra = (("HoldTime", str(int(hold))), ("TalkTime", str(int(talk))), ("Reason", reason))
            if reason == "caller":
                # the agent's channel is already gone: no Dest* headers (chanspy "teardown")
                member_name = member.name if member is not None else leg.endpoint
                world.emit(
                    ev.chan(
                        "AgentComplete",
                        ev.AGENT,
                        caller,
                        ("Queue", q.name),
                        ("Interface", leg.endpoint),
                        ("MemberName", member_name),
                        *extra,
                    )
                )
            else:
                self._agent_event("AgentComplete", q, entry, leg, *extra)

        def finished(t: float) -> None:
            world.setvar(caller, "ANSWEREDTIME", str(int(t - now)))
            if entry.done is not None:
                entry.done(t)

        leg.bridge(
            now, caller, lambda t: complete(t, "agent"), lambda t: complete(t, "caller"), finished
        )

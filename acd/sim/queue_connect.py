"""app_queue connecting a caller to the member who answered, and the helpers both halves of the
Queue() application share (queue_log lines, Agent* events, leaving the queue).

Event order per scenario A of ami_events_full_call.txt (MusicOnHoldStop, MixMonitor by
app_queue, QueueCallerLeave, AgentConnect, ..., AgentComplete); queue_log lines per
q6_queue_log_sample.txt (CONNECT, COMPLETECALLER / COMPLETEAGENT).
"""

from __future__ import annotations

from acd.sim import events as ev
from acd.sim.channels import Channel
from acd.sim.dial_app import Leg
from acd.sim.queue_admin import QueueAdmin
from acd.sim.queue_log import queue_log
from acd.sim.queue_state import Entry, QueueState


class QueueConnect(QueueAdmin):
    def _log(self, now: float, caller: Channel, q: QueueState, agent: str, *event: str) -> None:
        self.world.output(
            queue_log(self.world.naming.wall(now), caller.uniqueid, q.name, agent, *event)
        )

    @staticmethod
    def _member_name(q: QueueState, leg: Leg) -> str:
        member = q.member(leg.endpoint)
        return member.name if member is not None else leg.endpoint

    def _agent_event(
        self, name: str, q: QueueState, entry: Entry, leg: Leg, *extra: tuple[str, str]
    ) -> None:
        self.world.emit(
            ev.two_party(
                name,
                ev.AGENT,
                entry.caller,
                leg.one,
                ("Queue", q.name),
                ("Interface", leg.endpoint),
                ("MemberName", self._member_name(q, leg)),
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
        hold = self.whole_seconds(entry.joined_at, now)
        # app_queue.c try_calling: QUEUEWAIT when connected (RECORDED scenario A: 6 / 6000)
        world.setvar(caller, "QUEUEWAIT", str(hold))
        world.setvar(caller, "QUEUEWAIT_MS", str(hold * 1000))
        self._agent_event(
            "AgentConnect",
            q,
            entry,
            leg,
            ("HoldTime", str(int(hold))),
            ("RingTime", str(int(now - leg.rang_at))),
        )
        member_name = self._member_name(q, leg)
        self._log(
            now,
            caller,
            q,
            member_name,
            "CONNECT",
            str(int(hold)),
            leg.one.uniqueid,
            str(int(now - leg.rang_at)),
        )
        if member is not None:
            member.in_call = True

        def complete(t: float, reason: str) -> None:
            talk = self.whole_seconds(now, t)
            q.record_completed(hold, talk)
            if member is not None:
                member.in_call = False
                member.calls_taken += 1
                member.last_call = int(world.naming.wall(t))
                member.busy_until = t + q.plan.wrapuptime
            event = "COMPLETECALLER" if reason == "caller" else "COMPLETEAGENT"
            self._log(
                t, caller, q, member_name, event, str(int(hold)), str(int(talk)),
                str(entry.original_position),
            )  # fmt: skip
            extra = (("HoldTime", str(int(hold))), ("TalkTime", str(int(talk))), ("Reason", reason))
            if reason == "caller":
                # the agent's channel is already gone: no Dest* headers (chanspy "teardown")
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
            # app_queue.c end_bridge_callback: ANSWEREDTIME from the bridge's start (talk
            # time), DIALEDTIME the caller channel's age. A Redirect out of the bridge skips
            # that callback: queue_exec's "stop:" sets DIALEDTIME and ANSWEREDTIME=0 instead
            # (RECORDED q7_assumptions.txt D).
            talk = 0.0 if caller.redirect_to is not None else (t - now) * 1000
            if caller.alive:
                for name, ms in (
                    ("ANSWEREDTIME", talk),
                    ("DIALEDTIME", (t - caller.created_at) * 1000),
                )[:: -1 if caller.redirect_to is not None else 1]:
                    world.setvar(caller, name, str(int(ms // 1000)))
                    world.setvar(caller, f"{name}_MS", str(int(ms)))
            if entry.done is not None:
                entry.done(t, -1)

        leg.bridge(
            now, caller, lambda t: complete(t, "agent"), lambda t: complete(t, "caller"), finished
        )

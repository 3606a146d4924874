"""Ringing an agent endpoint, answering, bridging and tearing down (shared by Queue and Dial).

A ``Leg`` is one outbound attempt from a caller channel to an endpoint. Event order follows
scenario A of ami_events_full_call.txt (Newchannel ;1/;2, LocalBridge, DialBegin, Newstate
Ringing, DialState, ... DialEnd ANSWER, BridgeCreate/Enter ... BridgeLeave/Destroy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from uuid import UUID

from acd.sim import events as ev
from acd.sim.channels import STATE_RINGING, STATE_UP, Channel, split_local
from acd.sim.plan import AgentBehaviour
from acd.sim.timers import Timer

if TYPE_CHECKING:
    from acd.sim.world import World

Hook = Callable[[float], None]


class Leg:
    def __init__(
        self, world: World, now: float, caller: Channel | None, endpoint: str, linkedid: str | None
    ) -> None:
        self.world = world
        self.caller = caller
        self.endpoint = endpoint
        self.behaviour = world.plan.agents.get(endpoint, AgentBehaviour(answer_after=None))
        self.rang_at = now
        self.answered_at: float | None = None
        self.bridge_id = ""
        self._timers: list[Timer] = []
        self._before_dial_end: Callable[[float, Leg], Callable[[], None]] | None = None
        local = split_local(endpoint)
        if local is not None:
            exten, context, _ = local
            self.one, two = world.new_local_pair(now, exten, context, linkedid)
            self.two: Channel | None = two
        else:
            name = f"{endpoint}-{world.naming.suffix()}"
            tech = endpoint.split("/", 1)[0]
            self.one = world.new_channel(now, name, "default", "s", linkedid, kind=tech)
            self.two = None
        if caller is not None:
            # scenario A order: NewCallerid ;1, NewCallerid ;2, NewConnectedLine ;2, LocalBridge;
            # the ;1 learns its connected line once it rings (begin()).
            for ch in self.channels:
                world.set_callerid(ch, caller.cid_num, caller.cid_name)
            if self.two is not None:
                world.set_connected_line(self.two, caller.cid_num, caller.cid_name)
        if self.two is not None:
            world.emit(ev.local_bridge(self.one, self.two))

    @property
    def channels(self) -> list[Channel]:
        return [self.one] if self.two is None else [self.one, self.two]

    @property
    def dial_string(self) -> str:
        return self.endpoint

    def begin(
        self,
        now: float,
        on_answer: Callable[[float, Leg], None],
        *,
        after_dial_begin: Callable[[], None] | None = None,
        before_dial_end: Callable[[float, Leg], Callable[[], None]] | None = None,
    ) -> None:
        """DialBegin + ringing; schedules the agent's answer per its behaviour.
        ``after_dial_begin``: the caller back from a pre-dial Gosub; ``before_dial_end``: what
        runs on the answered channel before DialEnd ANSWER (Dial's U(), acd/sim/app_dial.py),
        returning what follows the DialEnd."""
        self._before_dial_end = before_dial_end
        world = self.world
        world.emit(
            ev.two_party(
                "DialBegin", ev.CALL, self.caller, self.one, ("DialString", self.dial_string)
            )
        )
        if after_dial_begin is not None:
            after_dial_begin()
        if self.caller is not None:
            world.cdr.dial_begin(now, self.caller, self.one)
        # A Local device follows its channels (INUSE from this Newstate on, acd/sim/devices.py);
        # a phone endpoint rings (RECORDED q3_pjsip_baresip.txt).
        world.set_state(self.one, STATE_RINGING)
        if self.caller is not None:
            world.set_connected_line(self.one, self.caller.cid_num, self.caller.cid_name)
            world.emit(
                ev.two_party("DialState", ev.CALL, self.caller, self.one, ("DialStatus", "RINGING"))
            )
        world.ringing(now, self.endpoint)
        b = self.behaviour
        if b.answer_after is not None and world.rng.random() < b.answer_probability:
            self._timers.append(
                world.timers.at(now + b.answer_after, lambda t: self._answer(t, on_answer))
            )

    def _answer(self, now: float, on_answer: Callable[[float, Leg], None]) -> None:
        if not self.one.alive:
            return
        world = self.world
        self.answered_at = now
        if self.two is not None:
            world.set_state(self.two, STATE_UP)
        world.set_state(self.one, STATE_UP)
        after_dial_end = None
        if self._before_dial_end is not None:
            after_dial_end = self._before_dial_end(now, self)
        world.emit(
            ev.two_party("DialEnd", ev.CALL, self.caller, self.one, ("DialStatus", "ANSWER"))
        )
        if after_dial_end is not None:
            after_dial_end()
        world.cdr.dial_end(now, self.one, "ANSWER")
        if self.two is None:
            world.set_device_state(now, self.endpoint, "INUSE")
        on_answer(now, self)

    def cancel(
        self, now: float, statuses: tuple[str, ...] = ("CANCEL",), *, defer_far_half: bool = False
    ) -> None:
        """Stop ringing: DialEnd(s), then the unanswered channels go away with cause 0.

        ``defer_far_half``: the ;2 half finishes after the caller's own teardown, as recorded
        when Queue() times out while a member rings (scenario B).
        """
        world = self.world
        for timer in self._timers:
            timer.cancel()
        for status in statuses:
            world.emit(
                ev.two_party("DialEnd", ev.CALL, self.caller, self.one, ("DialStatus", status))
            )
        world.cdr.dial_end(now, self.one, statuses[0])
        if self.two is not None and self.two.alive:
            world.emit(ev.hangup_request(self.two, 0))
        world.destroy(self.one, 0)
        if defer_far_half:
            world.timers.at(now, self._finish_far_half)
        else:
            self._finish_far_half(now)

    def _finish_far_half(self, now: float) -> None:
        world = self.world
        if self.two is not None and self.two.alive:
            world.emit(ev.hangup_request(self.two, 16, soft=True))
            world.destroy(self.two, 0)
        world.release_device(now, self.endpoint)

    # -- talking ----------------------------------------------------------------------------------
    def bridge(
        self, now: float, caller: Channel, on_agent_end: Hook, on_caller_end: Hook, done: Hook
    ) -> None:
        """Bridge caller and agent until one side hangs up; then ``done`` (caller's app returns).

        ``on_agent_end``/``on_caller_end`` emit the app's own events (AgentComplete) at the
        point where Asterisk does, between the hang-up requests and the BridgeLeave events.
        """
        world = self.world
        self.bridge_id = str(UUID(int=world.rng.getrandbits(128), version=4))
        world.emit(ev.bridge("BridgeCreate", self.bridge_id, 0))
        for count, ch in enumerate((self.one, caller), start=1):
            ch.bridge_id = self.bridge_id
            world.emit(ev.bridge("BridgeEnter", self.bridge_id, count, ch))
            world.recorder.bridge_changed(now, ch)
        b = self.behaviour
        if b.hangs_up == "agent":
            self._timers.append(
                world.timers.at(
                    now + b.talk_time, lambda t: self._agent_hangs_up(t, caller, on_agent_end, done)
                )
            )

        def caller_gone(t: float) -> None:
            self._caller_hangs_up(t, caller, on_caller_end, done)

        caller.on_hangup = caller_gone

        def agent_gone(t: float) -> None:
            self._agent_hangs_up(t, caller, on_agent_end, done)

        self.one.on_hangup = agent_gone
        if self.two is not None:
            self.two.on_hangup = agent_gone

    def _agent_hangs_up(self, now: float, caller: Channel, hook: Hook, done: Hook) -> None:
        world = self.world
        if not self.one.alive:
            return
        for timer in self._timers:
            timer.cancel()
        caller.on_hangup = None
        world.cdr.bridge_end(now, self.one)
        if self.two is not None and self.two.alive:
            world.emit(ev.hangup_request(self.two, 16, soft=True))
            world.emit(ev.hangup_request(self.one, 16))
            world.destroy(self.two, 16)
        else:
            world.emit(ev.hangup_request(self.one, 16))
        world.release_device(now, self.endpoint)
        hook(now)
        world.emit(ev.bridge("BridgeLeave", self.bridge_id, 1, self.one))
        world.destroy(self.one, 16)
        self._leave_bridge(now, caller)
        done(now)

    def _caller_hangs_up(self, now: float, caller: Channel, hook: Hook, done: Hook) -> None:
        """Order of chanspy_events.txt "teardown" (AMI Hangup of the caller in a queue bridge):
        both BridgeLeave, BridgeDestroy, the agent's channels, then the app's own event."""
        world = self.world
        for timer in self._timers:
            timer.cancel()
        world.cdr.bridge_end(now, self.one)
        self._leave_bridge(now, caller, destroy=False)
        if self.one.alive:
            world.emit(ev.bridge("BridgeLeave", self.bridge_id, 0, self.one))
        world.emit(ev.bridge("BridgeDestroy", self.bridge_id, 0))
        if self.two is not None and self.two.alive:
            world.emit(ev.hangup_request(self.two, 16))
            world.destroy(self.one, 16)
            world.emit(ev.hangup_request(self.two, 16, soft=True))
            world.destroy(self.two, 16)
        else:
            world.destroy(self.one, 16)
        world.release_device(now, self.endpoint)
        hook(now)
        done(now)

    def _leave_bridge(self, now: float, caller: Channel, destroy: bool = True) -> None:
        world = self.world
        caller.bridge_id = ""
        world.recorder.bridge_changed(now, caller)
        world.emit(ev.bridge("BridgeLeave", self.bridge_id, 0, caller))
        if destroy:
            world.emit(ev.bridge("BridgeDestroy", self.bridge_id, 0))

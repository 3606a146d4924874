"""The call model's shared state: channels, timers, output buffer and channel life cycle.

Applications (AGI, Queue, Dial, MixMonitor, ChanSpy) live in their own modules and act on the
``World``; this module only creates, changes and destroys channels and emits the matching events.
Hang-up ordering follows the recordings (scenarios A, C, D of ami_events_full_call.txt).
"""

from __future__ import annotations

import random

from acd.asterisk.ami.message import Message
from acd.asterisk.devices import device_of
from acd.sim import dialplan
from acd.sim import events as ev
from acd.sim import originate as originate_action
from acd.sim.agi_exec import AgiEngine
from acd.sim.agi_session import read_variable
from acd.sim.channels import STATE_RING, STATE_UP, Channel, ChannelSnapshot, Naming
from acd.sim.contacts import PhoneContacts
from acd.sim.lists import Lists
from acd.sim.mixmonitor import Recorder
from acd.sim.outputs import AmiEvent, OriginateAccepted, OriginateRejected, OriginateRequest, Output
from acd.sim.plan import DeviceState, SimPlan
from acd.sim.queue_app import QueueApp
from acd.sim.timers import Timers


class World:
    def __init__(self, plan: SimPlan, *, rng: random.Random, epoch: float) -> None:
        self.plan = plan
        self.rng = rng
        self.naming = Naming(epoch)
        self.timers = Timers()
        self.channels: dict[str, Channel] = {}
        self.globals: dict[str, str] = {}
        self.astdb: dict[tuple[str, str], str] = {}
        self.devices: dict[str, DeviceState] = dict(plan.devices)
        self._out: list[Output] = []
        self.agi = AgiEngine(self)
        self.queues = QueueApp(self)
        self.recorder = Recorder(self)
        self.lists = Lists(self)
        self.contacts = PhoneContacts(self)

    # -- output -------------------------------------------------------------------------------
    def emit(self, message: Message) -> None:
        self._out.append(AmiEvent(message))

    def output(self, item: Output) -> None:
        self._out.append(item)

    def drain(self) -> list[Output]:
        out, self._out = self._out, []
        return out

    def advance(self, now: float) -> None:
        self.timers.run_due(now)

    def snapshots(self) -> list[ChannelSnapshot]:
        return [ch.snapshot() for ch in self.channels.values()]

    def find(self, name: str) -> Channel | None:
        return self.channels.get(name)

    # -- channel life cycle ---------------------------------------------------------------------
    def new_channel(
        self,
        now: float,
        name: str,
        context: str,
        exten: str,
        linkedid: str | None,
        *,
        kind: str = "Local",
        state: int = 0,
    ) -> Channel:
        uid = self.naming.uniqueid(now)
        ch = Channel(
            name=name,
            uniqueid=uid,
            linkedid=linkedid or uid,
            context=context,
            exten=exten,
            priority=1,
            created_at=now,
            kind=kind,
            state=state,
        )
        self.channels[name] = ch
        self.emit(ev.newchannel(ch))
        return ch

    def new_local_pair(
        self, now: float, exten: str, context: str, linkedid: str | None
    ) -> tuple[Channel, Channel]:
        base = f"Local/{exten}@{context}-{self.naming.suffix()}"
        one = self.new_channel(now, base + ";1", context, exten, linkedid)
        two = self.new_channel(
            now, base + ";2", context, exten, linkedid or one.linkedid, state=STATE_RING
        )
        one.peer, two.peer = two, one
        return one, two

    def set_callerid(self, ch: Channel, num: str, name: str) -> None:
        """Caller ID change with its NewCallerid event."""
        ch.cid_num, ch.cid_name = num, name
        self.emit(ev.new_callerid(ch))

    def set_connected_line(self, ch: Channel, num: str, name: str) -> None:
        ch.conn_num, ch.conn_name = num, name
        self.emit(ev.new_connected_line(ch))

    def set_state(self, ch: Channel, state: int) -> None:
        if ch.state != state:
            ch.state = state
            self.emit(ev.newstate(ch))

    def set_var(self, now: float, channel: str | None, name: str, value: str) -> bool:
        if channel is None:
            self.globals[name] = value
            return True
        ch = self.channels.get(channel)
        if ch is None:
            return False
        self.setvar(ch, name, value)
        return True

    def setvar(self, ch: Channel, name: str, value: str) -> None:
        ch.variables[name.lstrip("_")] = value
        self.emit(ev.varset(ch, name, value))

    def get_var(self, channel: str | None, name: str) -> str | None:
        if channel is None:
            return self.globals.get(name, "")
        ch = self.channels.get(channel)
        if ch is None:
            return None
        value = read_variable(self, ch, name)
        return "" if value is None else value

    def destroy(self, ch: Channel, cause: int) -> None:
        """The final ``Hangup`` of one channel."""
        if not ch.alive:
            return
        self.recorder.channel_gone(self.timers.now, ch)
        ch.alive = False
        ch.on_hangup = None
        ch.on_digit = None
        self.channels.pop(ch.name, None)
        self.emit(ev.hangup(ch, cause))

    def end_from_dialplan(self, now: float, one: Channel, cause: int = 16) -> None:
        """The channel's dialplan ran out (or hit Hangup()): tear down it and its Local peer."""
        if not one.alive:
            return
        one.on_hangup = None
        self.emit(ev.hangup_request(one, cause, soft=True))
        peer = one.peer
        if peer is not None and peer.alive:
            self.emit(ev.hangup_request(peer, cause))
            self.emit(ev.hangup_request(peer, cause, soft=True))
            self.destroy(peer, cause)
        self.destroy(one, cause)

    def far_end_hangup(self, now: float, two: Channel, cause: int = 16) -> None:
        """The phone behind a Local ;2 hung up: ;1 gets a hang-up request its app must handle."""
        if not two.alive:
            return
        self.emit(ev.hangup_request(two, cause, soft=True))
        one = two.peer
        if one is not None and one.alive:
            self.emit(ev.hangup_request(one, cause))
        self.destroy(two, cause)
        if one is not None and one.alive:
            self.hangup_running(now, one, cause)

    def hangup_running(self, now: float, ch: Channel, cause: int = 16) -> None:
        """Hang up a channel that runs an application: let the app clean up, else end at once."""
        handler = ch.on_hangup
        ch.on_digit = None
        ch.dead = True
        if handler is not None:
            ch.on_hangup = None
            handler(now)
            return
        self.end_from_dialplan(now, ch, cause)

    def hangup_request(self, now: float, name: str, cause: int) -> bool:
        """AMI Hangup (main/manager.c action_hangup -> ast_softhangup)."""
        ch = self.channels.get(name)
        if ch is None:
            return False
        if ch.peer is not None and name.endswith(";2") and ch.peer.alive:
            self.far_end_hangup(now, ch, cause)
        else:
            # No HangupRequest for the target itself: the recorded AMI Hangup (actions 31,
            # chanspy "teardown") shows the application unwinding, then SoftHangupRequest.
            self.hangup_running(now, ch, cause)
        return True

    def answer(self, ch: Channel) -> None:
        self.set_state(ch, STATE_UP)

    # -- devices ----------------------------------------------------------------------------
    def device_of(self, endpoint: str) -> str:
        """Device name for an endpoint: ``Local/agent1@agents/n`` -> ``Local/agent1@agents``."""
        return device_of(endpoint)

    def set_device_state(self, now: float, endpoint: str, state: DeviceState) -> None:
        device = self.device_of(endpoint)
        if self.devices.get(device) == state:
            return
        self.devices[device] = state
        self.emit(ev.device_state_change(device, state))
        self.queues.device_changed(now, device)

    def release_device(self, now: float, endpoint: str) -> None:
        """A call leg ended: in use/ringing -> NOT_INUSE, but an unregistered phone stays so,
        and a phone whose contact stopped answering meanwhile becomes UNAVAILABLE."""
        if self.device_state(endpoint) in ("INUSE", "RINGING", "BUSY"):
            offline = self.contacts.offline(self.device_of(endpoint))
            self.set_device_state(now, endpoint, "UNAVAILABLE" if offline else "NOT_INUSE")

    def device_state(self, endpoint: str) -> DeviceState:
        return self.devices.get(self.device_of(endpoint), "NOT_INUSE")

    # -- AMI actions with their own modules ----------------------------------------------------
    def originate(self, now: float, req: OriginateRequest) -> OriginateAccepted | OriginateRejected:
        return originate_action.originate(self, now, req)

    def redirect(self, now: float, name: str, context: str, exten: str, priority: int) -> bool:
        return dialplan.redirect(self, now, name, context=context, exten=exten, priority=priority)

"""The simulated Asterisk: a pure state machine driven by the runtime.

No sockets, no asyncio, no clock: every input carries ``now`` (float seconds on the runtime's
monotonic clock); the core converts it to wall-clock Uniqueids with ``epoch`` (the wall time that
corresponds to ``now == 0``). Call ``advance(now)`` when ``next_deadline()`` is reached, and
``drain()`` after every input to collect what to send.
"""

from __future__ import annotations

import random

from acd.asterisk.ami.message import Message
from acd.sim import dtmf
from acd.sim.channels import ChannelSnapshot
from acd.sim.outputs import OriginateAccepted, OriginateRejected, OriginateRequest, Output
from acd.sim.plan import DeviceState, SimPlan
from acd.sim.world import World


class Pbx:
    """Facade over the call model; see acd/sim/world.py for the machinery."""

    def __init__(self, plan: SimPlan, *, rng: random.Random, epoch: float) -> None:
        self._world = World(plan, rng=rng, epoch=epoch)

    def _at(self, now: float) -> World:
        self._world.timers.touch(now)
        return self._world

    @property
    def plan(self) -> SimPlan:
        return self._world.plan

    # -- inputs -------------------------------------------------------------------------------
    def originate(self, now: float, req: OriginateRequest) -> OriginateAccepted | OriginateRejected:
        """AMI Originate. Async ones later emit OriginateResponse; sync ones an OriginateResult."""
        return self._at(now).originate(now, req)

    def agi_connected(self, now: float, session_id: int) -> None:
        """The FastAGI TCP connect succeeded and the env block was sent."""
        self._at(now).agi.connected(now, session_id)

    def agi_connect_failed(self, now: float, session_id: int) -> None:
        """Connection refused/unreachable: AGISTATUS=FAILURE, the dialplan goes on."""
        self._at(now).agi.connect_failed(now, session_id)

    def agi_command(self, now: float, session_id: int, line: str) -> None:
        """One command line from the AGI server (without the trailing LF)."""
        self._at(now).agi.command(now, session_id, line)

    def agi_closed(self, now: float, session_id: int) -> None:
        """The AGI server closed the connection (EOF): the AGI() application returns."""
        self._at(now).agi.closed(now, session_id)

    def hangup(self, now: float, channel: str, cause: int = 16) -> bool:
        """AMI Hangup; False = no such channel."""
        return self._at(now).hangup_request(now, channel, cause)

    def redirect(
        self, now: float, channel: str, context: str, exten: str, priority: int = 1
    ) -> bool:
        """AMI Redirect; False = no such channel."""
        return self._at(now).redirect(now, channel, context, exten, priority)

    def set_var(self, now: float, channel: str | None, name: str, value: str) -> bool:
        """AMI Setvar (channel None = global). False = no such channel."""
        return self._at(now).set_var(now, channel, name, value)

    def get_var(self, channel: str | None, name: str) -> str | None:
        """AMI Getvar; None when the channel does not exist. Unset variables read as ""."""
        return self._world.get_var(channel, name)

    def mixmonitor(self, now: float, channel: str, file: str, options: str = "") -> str | None:
        """AMI MixMonitor; returns the MixMonitorID, or None when the channel does not exist."""
        return self._at(now).recorder.start(now, channel, file, options, via_app=False)

    def stop_mixmonitor(self, now: float, channel: str, mixmonitor_id: str = "") -> bool:
        return self._at(now).recorder.stop(now, channel, mixmonitor_id)

    def mixmonitor_mute(self, now: float, channel: str, direction: str, state: bool) -> bool:
        return self._at(now).recorder.mute(now, channel, direction, state)

    def queue_add(  # noqa: PLR0917 -- mirrors the AMI QueueAdd headers, as published
        self,
        now: float,
        queue: str,
        interface: str,
        member_name: str = "",
        penalty: int = 0,
        paused: bool = False,
        state_interface: str = "",
    ) -> str:
        """AMI QueueAdd: "ok" | "exists" | "no-queue"."""
        return self._at(now).queues.add_member(
            now,
            queue,
            interface,
            name=member_name,
            penalty=penalty,
            paused=paused,
            state_interface=state_interface,
        )

    def queue_remove(self, now: float, queue: str, interface: str) -> str:
        """AMI QueueRemove: "ok" | "missing" | "no-queue"."""
        return self._at(now).queues.remove_member(now, queue, interface)

    def queue_pause(
        self,
        now: float,
        interface: str,
        paused: bool,
        queue: str | None = None,
        reason: str = "",
    ) -> bool:
        """AMI QueuePause (queue None = every queue); False = interface not found."""
        return self._at(now).queues.pause_member(now, interface, paused, queue=queue, reason=reason)

    def play_dtmf(
        self, now: float, channel: str, digit: str, duration_ms: int = 0, receive: bool = False
    ) -> bool:
        """AMI PlayDTMF (acd/sim/dtmf.py); False = no such channel."""
        world = self._at(now)
        ch = world.find(channel)
        if ch is None:
            return False
        if receive:
            dtmf.receive(world, now, ch, digit, duration_ms)
        else:
            dtmf.play(world, now, ch, digit, duration_ms)
        return True

    def set_device_state(self, now: float, endpoint: str, state: DeviceState) -> None:
        """Softphone registered (NOT_INUSE) / unreachable (UNAVAILABLE)."""
        self._at(now).set_device_state(now, endpoint, state)

    def qualify(self, now: float, device: str, rtt_ms: float | None) -> None:
        """A qualify of the PJSIP phone ``device`` answered after ``rtt_ms`` (None = timed out):
        PeerStatus / ContactStatus / DeviceStateChange as acd/sim/contacts.py describes.
        ValueError when ``device`` is not ``PJSIP/<endpoint>``."""
        self._at(now).contacts.qualify(now, device, rtt_ms)

    # -- time -----------------------------------------------------------------------------------
    def advance(self, now: float) -> None:
        """Fire every timer due at or before ``now``."""
        self._at(now).advance(now)

    def next_deadline(self) -> float | None:
        return self._world.timers.next_deadline()

    def drain(self) -> list[Output]:
        return self._world.drain()

    # -- snapshots for list actions (items only: the runtime adds the Response and *Complete) ---
    def channels(self) -> list[ChannelSnapshot]:
        return self._world.snapshots()

    def has_channels(self) -> bool:
        """Any channel up (cheap: ``channels()`` snapshots every one)."""
        return bool(self._world.channels)

    def core_show_channels(self, now: float, action_id: str | None) -> list[Message]:
        return self._at(now).lists.core_show_channels(now, action_id)

    def status(
        self, now: float, action_id: str | None, channel: str | None = None
    ) -> list[Message] | None:
        """Status items; None when ``channel`` is given and does not exist."""
        return self._at(now).lists.status(now, action_id, channel)

    def queue_status(
        self, now: float, action_id: str | None, queue: str | None = None
    ) -> list[Message]:
        """QueueParams/QueueMember/QueueEntry items (unknown queue: empty list, as recorded)."""
        return self._at(now).lists.queue_status(now, action_id, queue)

    def queue_summary(
        self, now: float, action_id: str | None, queue: str | None = None
    ) -> list[Message]:
        return self._at(now).lists.queue_summary(now, action_id, queue)

    def device_states(self, action_id: str | None) -> list[Message]:
        """DeviceStateChange items of DeviceStateList (res/res_manager_devicestate.c)."""
        return self._world.lists.device_states(action_id)

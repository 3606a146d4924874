"""Device states as Asterisk publishes them: Local endpoints follow their channels, phones are set.

RECORDED q3_devstate_local.txt: a Local device is named ``Local/<exten>@<context>`` (no ``/n``),
is only ever NOT_INUSE, INUSE (ringing included, never RINGING) or INVALID, publishes a
``DeviceStateChange`` for every state change and every hang-up of either half (so INUSE comes
twice on an answer and NOT_INUSE twice at the end), and is not cached: AMI ``DeviceStateList``
does not list it. Its state is INUSE while a pair has both halves up (SOURCE main/core_local.c
``local_devicestate``: the ;1 owner exists and the ;2 runs its dialplan), so it is NOT_INUSE as
soon as either half hangs up. RECORDED q3_pjsip_baresip.txt / q3_pjsip_1099_qualify.txt: a PJSIP
device goes RINGING -> INUSE -> NOT_INUSE, UNAVAILABLE when unregistered, one event per change,
and DeviceStateList lists every PJSIP endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from acd.asterisk.devices import device_of
from acd.sim import events as ev
from acd.sim.channels import Channel
from acd.sim.plan import DeviceState

if TYPE_CHECKING:
    from acd.sim.world import World

_LOCAL_CHANNEL = re.compile(r"^(Local/[^;]+)-[0-9a-f]{8};[12]$")


def local_device(ch: Channel) -> str | None:
    """The Local device a channel half belongs to, None for other technologies."""
    match = _LOCAL_CHANNEL.match(ch.name)
    return match.group(1) if match else None


class Devices:
    def __init__(self, world: World, initial: Mapping[str, DeviceState]) -> None:
        self.world = world
        #: cached (listed) device states: every non-Local device that was ever set
        self.cached: dict[str, DeviceState] = {device_of(e): s for e, s in initial.items()}
        #: the ;1 halves of live Local pairs, by device
        self._owners: dict[str, set[Channel]] = {}

    def state(self, endpoint: str) -> DeviceState:
        device = device_of(endpoint)
        if device.startswith("Local/"):
            owners = self._owners.get(device, ())
            in_use = any(o.alive and o.peer is not None and o.peer.alive for o in owners)
            return "INUSE" if in_use else "NOT_INUSE"
        return self.cached.get(device, "NOT_INUSE")

    def set(self, now: float, endpoint: str, state: DeviceState) -> None:
        """A phone's own state (registration, ringing, talking, idle); Local ones are derived."""
        device = device_of(endpoint)
        if device.startswith("Local/") or self.cached.get(device) == state:
            return
        self.cached[device] = state
        self.world.emit(ev.device_state_change(device, state))
        self.world.queues.device_changed(now, device)

    # -- Local channels: one DeviceStateChange per change of either half ----------------------
    def channel_created(self, ch: Channel) -> None:
        device = local_device(ch)
        if device is not None and ch.name.endswith(";1"):
            self._owners.setdefault(device, set()).add(ch)

    def channel_changed(self, ch: Channel) -> None:
        device = local_device(ch)
        if device is not None:
            self.world.emit(ev.device_state_change(device, self.state(device)))

    def channel_gone(self, ch: Channel) -> None:
        device = local_device(ch)
        if device is None:
            self._phone_channel_gone(ch)
            return
        owners = self._owners.get(device)
        if owners is not None:
            owners.discard(ch)
            if ch.peer is not None and ch.name.endswith(";2"):
                owners.discard(ch.peer)
            if not owners:
                del self._owners[device]
        self.world.emit(ev.device_state_change(device, self.state(device)))

    def _phone_channel_gone(self, ch: Channel) -> None:
        """``PJSIP/1099-00000004`` hung up: its device is idle again unless another call of it
        is up or it is unregistered (RECORDED q3_pjsip_1099: Hangup, then NOT_INUSE)."""
        device = ch.name.rsplit("-", 1)[0]
        if self.cached.get(device) not in ("INUSE", "RINGING", "BUSY"):
            return
        if any(c.name.rsplit("-", 1)[0] == device for c in self.world.channels.values()):
            return
        # a phone whose contact stopped answering qualify during the call is UNAVAILABLE now
        # (ASSUMPTION, acd/sim/contacts.py: Asterisk aggregates the contact into the device)
        offline = self.world.contacts.offline(device)
        self.set(self.world.timers.now, device, "UNAVAILABLE" if offline else "NOT_INUSE")

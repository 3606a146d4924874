"""Registered contacts of the simulated PJSIP phones and their qualify results.

Every ``PJSIP/<ext>`` phone has one registered contact (the rendered AOR allows one) that starts
reachable unless the plan says its device is UNAVAILABLE. A test or a fault switch hands in a
qualify result (``qualify``): answered after some milliseconds, or not at all.

What a real Asterisk 22 does on such a result, read from its source (nothing SIP is recorded in
shared/asterisk):
- res/res_pjsip/pjsip_options.c sip_options_contact_status_notify_task: when the status
  changes, the endpoint's state compositor is told first (pjsip_configuration.c
  ast_sip_persistent_endpoint_update_state: ``PeerStatus`` and a device state change of
  ``PJSIP/<ext>``, UNAVAILABLE while offline: chan_pjsip.c chan_pjsip_devicestate), then the
  ``ContactStatus`` is published. The RTT is in microseconds, 0 when unanswered.
- When the status does not change, nothing is sent at once; with the rendered
  ``send_contact_status_on_update_registration = yes`` the next registration refresh sends a
  ``ContactStatus`` with the last RTT (contact_observer_updated).

Order (recorded, no longer an assumption): a phone coming back gives PeerStatus, ContactStatus,
DeviceStateChange (q3_pjsip_1099_qualify.txt, and every live suite run). A phone going
unreachable gives PeerStatus then ContactStatus and DeviceStateChange in either order: the device
state is worked out on Asterisk's device-state thread (q3_pjsip_1099_qualify.txt and one live run
of four: UNAVAILABLE first; q8_live_contactstatus_order.txt, the other three: ContactStatus
first). The simulator sends UNAVAILABLE first, the order that pauses the agent for
``phone-unavailable`` before the daemon hears why (tests/live/test_live_pjsip.py).
ASSUMPTION: a changed RTT on a phone that stays reachable is sent at once, standing for the next
registration refresh (which comes within the AOR's maximum_expiration on a real system).
ASSUMPTION: the contact URI ``sip:<ext>@127.0.0.1:5060``; a real one is whatever the phone
registered (rewritten to its source address by rewrite_contact).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from acd.sim import events as ev
from acd.sim.plan import DeviceState

if TYPE_CHECKING:
    from acd.sim.world import World

PREFIX = "PJSIP/"
UNAVAILABLE: Final[DeviceState] = "UNAVAILABLE"


def endpoint_name(device: str) -> str:
    """``PJSIP/1001`` -> ``1001``; ValueError for anything that has no SIP contact."""
    if not device.startswith(PREFIX) or len(device) == len(PREFIX) or "/" in device[len(PREFIX) :]:
        raise ValueError(f"expected a PJSIP/<endpoint> device, got {device!r}")
    return device[len(PREFIX) :]


class PhoneContacts:
    def __init__(self, world: World) -> None:
        self._world = world
        self._unreachable: set[str] = {
            device
            for device, state in world.plan.devices.items()
            if device.startswith(PREFIX) and state == UNAVAILABLE
        }

    def offline(self, device: str) -> bool:
        """The phone's only contact does not answer: its device is UNAVAILABLE when idle."""
        return device in self._unreachable

    def qualify(self, now: float, device: str, rtt_ms: float | None) -> None:
        """A qualify OPTIONS to ``device`` was answered after ``rtt_ms`` (None: it timed out)."""
        ext = endpoint_name(device)
        reachable = rtt_ms is not None
        changed = reachable == (device in self._unreachable)
        if not changed and not reachable:
            return  # still unreachable: Asterisk publishes nothing
        world = self._world
        if changed:
            world.emit(ev.peer_status(ext, "Reachable" if reachable else "Unreachable"))
        if changed and not reachable:
            self._unreachable.add(device)
            # a phone in a call keeps the state of its channels (chan_pjsip_devicestate
            # aggregates them); it becomes UNAVAILABLE when the call ends (World.release_device)
            if world.device_state(device) not in ("INUSE", "RINGING", "BUSY"):
                world.set_device_state(now, device, UNAVAILABLE)
        rtt_us = round(rtt_ms * 1000) if rtt_ms is not None else 0
        label = "Reachable" if reachable else "Unreachable"
        world.emit(ev.contact_status(f"sip:{ext}@127.0.0.1:5060", label, ext, ext, rtt_us))
        if changed and reachable:
            self._unreachable.discard(device)
            if world.device_state(device) == UNAVAILABLE:
                world.set_device_state(now, device, "NOT_INUSE")

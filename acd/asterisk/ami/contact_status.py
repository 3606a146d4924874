"""The AMI ``ContactStatus`` event of res_pjsip: one SIP contact's reachability and qualify RTT.

Not recorded in shared/asterisk (the recordings have no SIP). Read from Asterisk 22.10.1's source:
- main/stasis_endpoints.c ``contactstatus_to_ami`` writes, in this order, ``URI``,
  ``ContactStatus``, ``AOR``, ``EndpointName`` (all four required: without one no event is sent)
  and ``RoundtripUsec`` (optional), with privilege ``system`` (EVENT_FLAG_SYSTEM).
- res/res_pjsip/pjsip_configuration.c ``ast_sip_persistent_endpoint_publish_contact_state``
  fills them; ``RoundtripUsec`` is the decimal contact_status->rtt.
- res/res_pjsip/pjsip_options.c ``status_map`` gives the labels: ``Unreachable``, ``Reachable``,
  ``Unknown``, ``NonQualified``, ``Removed``. (The event's XML documentation also lists
  ``Unqualified`` and ``Updated``, which no code path produces.)
  ``sip_options_contact_status_notify_task`` sets the RTT with ast_tvdiff_us (microseconds) when
  the OPTIONS was answered and 0 otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from acd.asterisk.ami.message import Message
from acd.asterisk.errors import RemoteProtocolError

EVENT = "ContactStatus"
REQUIRED = ("URI", "ContactStatus", "AOR", "EndpointName")


class ContactState(StrEnum):
    """pjsip_options.c status_map labels, as the ``ContactStatus`` header spells them."""

    REACHABLE = "Reachable"  # answered the last qualify OPTIONS
    UNREACHABLE = "Unreachable"  # the qualify timed out or failed at the transport
    UNKNOWN = "Unknown"  # qualify on, no answer yet
    NON_QUALIFIED = "NonQualified"  # qualify_frequency = 0: nobody checks
    REMOVED = "Removed"  # the registration was removed or expired


@dataclass(frozen=True, slots=True)
class ContactStatus:
    endpoint: str  # EndpointName: the PJSIP endpoint (PJSIP/<endpoint> is its device)
    aor: str
    uri: str
    state: ContactState
    rtt_us: int | None  # RoundtripUsec; None when the header is absent

    @property
    def device(self) -> str:
        return f"PJSIP/{self.endpoint}"


def parse_contact_status(message: Message) -> ContactStatus:
    """A ``ContactStatus`` event as values; RemoteProtocolError names what is wrong with it."""
    if message.name != EVENT:
        raise RemoteProtocolError(f"expected a {EVENT} event, got {message.name!r}")
    missing = [key for key in REQUIRED if not message.get(key)]
    if missing:
        raise RemoteProtocolError(f"{EVENT} without {', '.join(missing)}")
    label = message["ContactStatus"]
    try:
        state = ContactState(label)
    except ValueError:
        known = ", ".join(s.value for s in ContactState)
        raise RemoteProtocolError(
            f"{EVENT} with unknown status {label!r} (expected one of {known})"
        ) from None
    return ContactStatus(
        endpoint=message["EndpointName"],
        aor=message["AOR"],
        uri=message["URI"],
        state=state,
        rtt_us=_rtt(message.get("RoundtripUsec")),
    )


def _rtt(value: str | None) -> int | None:
    if value is None:
        return None
    # printed with PRId64 from an int64: digits, maybe a sign; a negative RTT is not a time
    if not value.isascii() or not value.isdigit():
        raise RemoteProtocolError(
            f"{EVENT} RoundtripUsec expected a whole number of microseconds, got {value!r}"
        )
    return int(value)

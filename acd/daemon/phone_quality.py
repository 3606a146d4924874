"""Is an agent's phone fit to take calls? A plain decision from res_pjsip ``ContactStatus`` events.

Pure: no AMI, no clock, no logging. Feed it parsed events (``acd.asterisk.ami.contact_status``);
it keeps the last status of each contact of each watched PJSIP endpoint and says when an agent's
verdict changes: reachable, unreachable, or reachable with the qualify round trip over the
agent's ``rtt_limit_ms`` (agents.yaml: phones.<location>.quality, per-agent ``quality:``).
The AMI watcher feeds it and posts each change to the floor (``PhoneFitness``), which pauses
the agent with ``pause_reason`` and unpauses only an agent still paused for it.

Rules (Asterisk behaviour from res/res_pjsip/pjsip_options.c):
- A Dial to the endpoint rings every contact of its AOR, so the best reachable contact counts.
- ``RoundtripUsec`` is the last qualify's RTT (0 when it was not answered). Asterisk sends
  ``ContactStatus`` when a contact's status changes (sip_options_contact_status_notify_task) and,
  with the rendered ``send_contact_status_on_update_registration = yes``, at each registration
  refresh (contact_observer_updated): a slow but reachable phone is seen at its next refresh.
- ``Removed`` (unregistered, expired, or replaced by a new registration with
  ``remove_existing``) drops the contact. A phone left without contacts is ``unknown`` here, not
  unreachable: a NAT re-registration removes the old contact before the new one is qualified,
  and an unregistered phone already shows as device state UNAVAILABLE (chan_pjsip.c
  chan_pjsip_devicestate: endpoint offline), which the daemon handles.
- ``Unknown`` (qualify pending) and ``NonQualified`` (qualify off) prove nothing either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from acd.asterisk.ami.contact_status import ContactState, ContactStatus
from acd.settings.settings import Settings

US_PER_MS = 1000


class PhoneVerdict(StrEnum):
    UNKNOWN = "unknown"  # nothing conclusive: qualify pending or off, or no contact
    REACHABLE = "reachable"
    UNREACHABLE = "unreachable"
    RTT_OVER_LIMIT = "rtt_over_limit"

    @property
    def pauses(self) -> bool:
        """An agent whose phone is in this state should not be offered calls."""
        return self in (PhoneVerdict.UNREACHABLE, PhoneVerdict.RTT_OVER_LIMIT)


# Pause reasons as the wallboard and the agent state log will show them.
PAUSE_REASONS: Mapping[PhoneVerdict, str] = {
    PhoneVerdict.UNREACHABLE: "phone-unreachable",
    PhoneVerdict.RTT_OVER_LIMIT: "phone-slow",
}


@dataclass(frozen=True, slots=True)
class PhoneTarget:
    """A watched PJSIP endpoint: whose phone it is and the RTT it may take."""

    agent_id: str
    rtt_limit_ms: int | None


@dataclass(frozen=True, slots=True)
class Contact:
    state: ContactState
    rtt_us: int | None


@dataclass(frozen=True, slots=True)
class PhoneChange:
    """An agent's phone verdict changed."""

    agent_id: str
    endpoint: str
    verdict: PhoneVerdict
    previous: PhoneVerdict
    rtt_ms: float | None  # best reachable contact's RTT, when known
    rtt_limit_ms: int | None

    @property
    def pauses(self) -> bool:
        return self.verdict.pauses

    @property
    def pause_reason(self) -> str | None:
        return PAUSE_REASONS.get(self.verdict)


def best_rtt_us(contacts: Mapping[str, Contact]) -> int | None:
    """The lowest RTT among reachable contacts that report one."""
    rtts = [c.rtt_us for c in contacts.values() if c.state is ContactState.REACHABLE and c.rtt_us]
    return min(rtts) if rtts else None


def assess(contacts: Mapping[str, Contact], rtt_limit_ms: int | None) -> PhoneVerdict:
    """The verdict for one endpoint from its contacts' last statuses (URI -> contact)."""
    if any(c.state is ContactState.REACHABLE for c in contacts.values()):
        rtt = best_rtt_us(contacts)
        if rtt_limit_ms is not None and rtt is not None and rtt > rtt_limit_ms * US_PER_MS:
            return PhoneVerdict.RTT_OVER_LIMIT
        return PhoneVerdict.REACHABLE
    if any(c.state is ContactState.UNREACHABLE for c in contacts.values()):
        return PhoneVerdict.UNREACHABLE
    return PhoneVerdict.UNKNOWN


class PhoneWatch:
    """Contacts of the watched endpoints and each agent's current verdict."""

    def __init__(self, targets: Mapping[str, PhoneTarget]) -> None:
        self._targets = dict(targets)
        self._contacts: dict[str, dict[str, Contact]] = {name: {} for name in targets}
        self._verdicts = dict.fromkeys(targets, PhoneVerdict.UNKNOWN)

    def verdict(self, endpoint: str) -> PhoneVerdict:
        """KeyError for an endpoint that is not watched."""
        return self._verdicts[endpoint]

    def observe(self, status: ContactStatus) -> PhoneChange | None:
        """Take one event in; the change of the agent's verdict, if it changed."""
        target = self._targets.get(status.endpoint)
        if target is None:
            return None  # not an agent's phone (a trunk, a supervisor's desk phone)
        contacts = self._contacts[status.endpoint]
        if status.state is ContactState.REMOVED:
            contacts.pop(status.uri, None)
        else:
            contacts[status.uri] = Contact(status.state, status.rtt_us)
        verdict = assess(contacts, target.rtt_limit_ms)
        previous = self._verdicts[status.endpoint]
        if verdict is previous:
            return None
        self._verdicts[status.endpoint] = verdict
        rtt = best_rtt_us(contacts)
        return PhoneChange(
            agent_id=target.agent_id,
            endpoint=status.endpoint,
            verdict=verdict,
            previous=previous,
            rtt_ms=None if rtt is None else rtt / US_PER_MS,
            rtt_limit_ms=target.rtt_limit_ms,
        )

    def forget(self) -> list[PhoneChange]:
        """The AMI link dropped: a ContactStatus may be missed, and Asterisk sends one only on
        a change or a registration refresh, so every verdict goes back to unknown. Returns the
        changes of the agents whose verdict paused them. An unreachable phone is UNAVAILABLE in
        the resync's DeviceStateList and pauses its agent that way; a slow one is judged again
        at its next registration refresh."""
        changes = [
            PhoneChange(
                agent_id=self._targets[endpoint].agent_id,
                endpoint=endpoint,
                verdict=PhoneVerdict.UNKNOWN,
                previous=verdict,
                rtt_ms=None,
                rtt_limit_ms=self._targets[endpoint].rtt_limit_ms,
            )
            for endpoint, verdict in self._verdicts.items()
            if verdict.pauses
        ]
        self._contacts = {name: {} for name in self._targets}
        self._verdicts = dict.fromkeys(self._targets, PhoneVerdict.UNKNOWN)
        return changes


def phone_targets(settings: Settings) -> dict[str, PhoneTarget]:
    """PJSIP endpoint name (what ``EndpointName`` carries) -> agent, for every agent's phone.

    A Local endpoint's phone is its softphone: pjsip.conf names the endpoint after it.
    """
    return {
        agent.softphone: PhoneTarget(agent.id, settings.phone_quality(agent).rtt_limit_ms)
        for agent in settings.agents
    }

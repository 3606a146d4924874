"""Qualify results of PJSIP phones in the PBX core: PeerStatus / ContactStatus / device state.

The event forms come from Asterisk's source (acd/sim/contacts.py cites it; their order is an
ASSUMPTION there); what is checked here is that the core keeps them consistent with the rest of
the simulated PBX: device states, DeviceStateList, and a Dial to an unreachable phone.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from acd.asterisk.ami.contact_status import ContactState, parse_contact_status
from acd.asterisk.ami.message import Message
from acd.settings.names import VAR_DONE
from acd.sim.outputs import OriginateRequest
from acd.sim.plan import AgentBehaviour, CallerBehaviour, DeviceState, SimPlan
from tests.sim.pbx_driver import Driver

PHONE = "PJSIP/1004"


EVENTS = ["PeerStatus", "ContactStatus", "DeviceStateChange"]


def driver(devices: Mapping[str, DeviceState] | None = None) -> Driver:
    agents = {PHONE: AgentBehaviour(answer_after=1.0, talk_time=30.0)}
    return Driver(SimPlan(agents=agents, devices=devices or {}))


def qualify(d: Driver, rtt_ms: float | None) -> list[Message]:
    """Hand in one qualify result; the events it produced."""
    before = len(d.run.events)
    d.pbx.qualify(d.now, PHONE, rtt_ms)
    d.pump()
    return d.run.messages[before:]


def device_state(d: Driver) -> str:
    """The phone's state as DeviceStateList reports it (never changed: NOT_INUSE)."""
    items = [m["State"] for m in d.pbx.device_states(None) if m["Device"] == PHONE]
    return items[0] if items else "NOT_INUSE"


def test_unreachable_phone_goes_offline_then_comes_back() -> None:
    d = driver()
    lost = qualify(d, None)
    # going: UNAVAILABLE before ContactStatus, as q3_pjsip_1099_qualify.txt recorded
    assert [m.name for m in lost] == ["PeerStatus", "DeviceStateChange", "ContactStatus"]
    lost = [lost[0], lost[2], lost[1]]  # the checks below take them as PeerStatus, CS, DSC
    assert lost[0].headers == (
        ("Event", "PeerStatus"),
        ("Privilege", "system,all"),
        ("ChannelType", "PJSIP"),
        ("Peer", PHONE),
        ("PeerStatus", "Unreachable"),
    )
    contact = parse_contact_status(lost[1])
    assert (contact.endpoint, contact.aor, contact.state, contact.rtt_us) == (
        "1004",
        "1004",
        ContactState.UNREACHABLE,
        0,
    )
    assert [k for k, _ in lost[1].headers] == [
        "Event",
        "Privilege",
        "URI",
        "ContactStatus",
        "AOR",
        "EndpointName",
        "RoundtripUsec",
    ]
    assert (lost[2]["Device"], lost[2]["State"]) == (PHONE, "UNAVAILABLE")
    assert device_state(d) == "UNAVAILABLE"
    assert qualify(d, None) == []  # still unreachable: no status change, nothing published
    back = qualify(d, 24.5)
    assert [m.name for m in back] == EVENTS
    assert back[0]["PeerStatus"] == "Reachable"
    assert parse_contact_status(back[1]).rtt_us == 24_500
    assert back[2]["State"] == "NOT_INUSE"


def test_slow_phone_only_reports_its_rtt() -> None:
    d = driver()
    slow = qualify(d, 650.0)
    assert [m.name for m in slow] == ["ContactStatus"]
    contact = parse_contact_status(slow[0])
    assert (contact.state, contact.rtt_us) == (ContactState.REACHABLE, 650_000)
    assert device_state(d) == "NOT_INUSE"


def test_phone_unavailable_in_the_plan_starts_unreachable() -> None:
    d = driver(devices={PHONE: "UNAVAILABLE"})
    assert qualify(d, None) == []
    assert [m.name for m in qualify(d, 30.0)] == EVENTS


def test_only_pjsip_phones_have_contacts() -> None:
    d = driver()
    for device in ("Local/1004@agent-phones", "PJSIP/", "SIP/1004", "PJSIP/1004/x"):
        with pytest.raises(ValueError, match="expected a PJSIP/<endpoint> device"):
            d.pbx.qualify(0.0, device, None)


def dial_call(d: Driver) -> None:
    commands = [
        "ANSWER",
        f'SET VARIABLE {VAR_DONE} "1"',
        f"EXEC Dial {PHONE},10",
        "GET VARIABLE DIALSTATUS",
    ]
    d.script = lambda _sid, _open: commands
    d.originate(
        OriginateRequest(
            channel="Local/5550600@caller-sim/n",
            context="hotline",
            exten="s",
            caller=CallerBehaviour(number="5550600", hangup_after=None),
        )
    )


def test_dial_to_an_unreachable_phone_is_chanunavail() -> None:
    d = driver()
    qualify(d, None)
    dial_call(d)
    run = d.run_until(60.0)
    assert run.replies(1)[2:4] == ["200 result=0\n", "200 result=1 (CHANUNAVAIL)\n"]
    assert not [m for m in run.messages if m.get("DialString") == PHONE]  # never rung


def test_phone_lost_during_a_call_stays_in_use_until_the_call_ends() -> None:
    d = driver()
    dial_call(d)
    d.run_until(5.0)
    assert device_state(d) == "INUSE"
    lost = qualify(d, None)
    assert [m.name for m in lost] == ["PeerStatus", "ContactStatus"]  # channels keep INUSE
    d.run_until(60.0)  # the agent hangs up after 30 s of talk
    states = [
        m["State"]
        for m in d.run.messages
        if m.name == "DeviceStateChange" and m.get("Device") == PHONE
    ]
    assert states[-1] == "UNAVAILABLE"
    assert device_state(d) == "UNAVAILABLE"

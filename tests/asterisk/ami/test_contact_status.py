"""The ``ContactStatus`` event parser: the header set of main/stasis_endpoints.c
contactstatus_to_ami, the labels of res_pjsip/pjsip_options.c status_map, and bad input.

No SIP traffic is recorded in shared/asterisk, so the wire text below is written from that source
(URI, ContactStatus, AOR, EndpointName, RoundtripUsec, in that order; Privilege system).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.asterisk.ami.contact_status import ContactState, parse_contact_status
from acd.asterisk.ami.framing import NEED_DATA, Framer
from acd.asterisk.ami.message import Message
from acd.asterisk.errors import RemoteProtocolError

WIRE = (
    b"Event: ContactStatus\r\n"
    b"Privilege: system,all\r\n"
    b"URI: sip:1004@198.51.100.7:49152;transport=tls\r\n"
    b"ContactStatus: Reachable\r\n"
    b"AOR: 1004\r\n"
    b"EndpointName: 1004\r\n"
    b"RoundtripUsec: 412873\r\n"
    b"\r\n"
)


def framed(data: bytes) -> Message:
    framer = Framer(expect_banner=False)
    framer.receive_data(data)
    item = framer.next_message()
    assert isinstance(item, Message)
    assert framer.next_message() is NEED_DATA
    return item


def event(**headers: str) -> Message:
    return Message.build([("Event", "ContactStatus"), ("Privilege", "system,all")], **headers)


def test_parses_a_reachable_contact_from_the_wire() -> None:
    status = parse_contact_status(framed(WIRE))
    assert status.endpoint == "1004"
    assert status.aor == "1004"
    assert status.uri == "sip:1004@198.51.100.7:49152;transport=tls"
    assert status.state is ContactState.REACHABLE
    assert status.rtt_us == 412_873
    assert status.device == "PJSIP/1004"


LABELS = ["Reachable", "Unreachable", "Unknown", "NonQualified", "Removed"]


@pytest.mark.parametrize("label", LABELS)
def test_every_status_asterisk_sends(label: str) -> None:
    message = event(URI="sip:1@h", ContactStatus=label, AOR="1", EndpointName="1")
    status = parse_contact_status(message)
    assert status.state.value == label
    assert status.rtt_us is None  # RoundtripUsec is optional in contactstatus_to_ami


def test_lower_case_header_names_are_accepted() -> None:
    message = Message.build(
        [("event", "ContactStatus")],
        uri="sip:1@h",
        contactstatus="Unreachable",
        aor="1",
        endpointname="1",
        roundtripusec="0",
    )
    assert parse_contact_status(message).state is ContactState.UNREACHABLE


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (
            Message.build([("Event", "PeerStatus")], PeerStatus="Reachable"),
            "expected a ContactStatus event, got 'PeerStatus'",
        ),
        (
            event(URI="sip:1@h", ContactStatus="Reachable"),
            "ContactStatus without AOR, EndpointName",
        ),
        (
            event(URI="sip:1@h", ContactStatus="Updated", AOR="1", EndpointName="1"),
            "ContactStatus with unknown status 'Updated' (expected one of Reachable, Unreachable,"
            " Unknown, NonQualified, Removed)",
        ),
        (
            event(URI="u", ContactStatus="Reachable", AOR="1", EndpointName="1", RoundtripUsec="x"),
            "ContactStatus RoundtripUsec expected a whole number of microseconds, got 'x'",
        ),
        (
            event(URI="u", ContactStatus="Removed", AOR="1", EndpointName="1", RoundtripUsec="-5"),
            "ContactStatus RoundtripUsec expected a whole number of microseconds, got '-5'",
        ),
    ],
)
def test_bad_events_raise_the_remote_protocol_error(message: Message, error: str) -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        parse_contact_status(message)
    assert str(caught.value) == error


header = st.tuples(
    st.sampled_from(["URI", "ContactStatus", "AOR", "EndpointName", "RoundtripUsec", "X"]),
    st.text(max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(header, max_size=7))
def test_any_headers_parse_or_raise_the_remote_error(headers: list[tuple[str, str]]) -> None:
    message = Message((("Event", "ContactStatus"), *headers))
    try:
        status = parse_contact_status(message)
    except RemoteProtocolError:
        return
    assert status.state.value == message["ContactStatus"]
    assert status.rtt_us is None or status.rtt_us >= 0

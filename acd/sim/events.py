"""AMI event builders with the header sets and order recorded from Asterisk 22.

Every builder returns a ``Message``; header names/order were taken from
shared/asterisk/transcripts/ami_events_full_call.txt and chanspy_events.txt.
"""

from __future__ import annotations

from collections.abc import Iterable

from acd.asterisk.ami.message import Message
from acd.sim.channels import Channel, channel_headers

Pairs = Iterable[tuple[str, str]]

CALL = "call,all"
AGENT = "agent,all"
AGI = "agi,all"
DTMF = "dtmf,all"
DIALPLAN = "dialplan,all"

#: ast_cause2str (main/causes.c) for the causes the simulator produces
CAUSE_TEXT = {
    0: "Unknown",
    16: "Normal Clearing",
    17: "User busy",
    19: "No user responding",
    21: "Call Rejected",
    34: "Circuit/channel congestion",
}


def event(name: str, privilege: str, *parts: Pairs) -> Message:
    headers: list[tuple[str, str]] = [("Event", name), ("Privilege", privilege)]
    for part in parts:
        headers.extend(part)
    return Message(tuple(headers))


def chan(name: str, privilege: str, ch: Channel, *extra: tuple[str, str]) -> Message:
    """An event about one channel: snapshot then the event's own headers."""
    return event(name, privilege, channel_headers(ch), extra)


def two_party(
    name: str, privilege: str, caller: Channel | None, dest: Channel, *extra: tuple[str, str]
) -> Message:
    """Dial*/Agent* events: caller snapshot (absent for an Originate), then Dest* snapshot."""
    parts: list[Pairs] = []
    if caller is not None:
        parts.append(channel_headers(caller))
    parts.append(channel_headers(dest, "Dest"))
    parts.append(extra)
    return event(name, privilege, *parts)


def newchannel(ch: Channel) -> Message:
    return chan("Newchannel", CALL, ch)


def newstate(ch: Channel) -> Message:
    return chan("Newstate", CALL, ch)


def new_callerid(ch: Channel) -> Message:
    return chan(
        "NewCallerid", CALL, ch, ("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")
    )


def new_connected_line(ch: Channel) -> Message:
    return chan("NewConnectedLine", CALL, ch)


def varset(ch: Channel, variable: str, value: str) -> Message:
    return chan("VarSet", DIALPLAN, ch, ("Variable", variable), ("Value", value))


def newexten(ch: Channel, app: str, data: str) -> Message:
    """A dialplan step starts (recorded: snapshot, Extension, Application, AppData)."""
    return chan(
        "Newexten", DIALPLAN, ch, ("Extension", ch.exten), ("Application", app), ("AppData", data)
    )


def hangup(ch: Channel, cause: int) -> Message:
    return chan(
        "Hangup", CALL, ch, ("Cause", str(cause)), ("Cause-txt", CAUSE_TEXT.get(cause, "Unknown"))
    )


def hangup_request(ch: Channel, cause: int, soft: bool = False) -> Message:
    name = "SoftHangupRequest" if soft else "HangupRequest"
    return chan(name, CALL, ch, ("Cause", str(cause)))


def local_bridge(one: Channel, two: Channel) -> Message:
    return event(
        "LocalBridge",
        CALL,
        channel_headers(one, "LocalOne"),
        channel_headers(two, "LocalTwo"),
        [("Context", two.context), ("Exten", two.exten), ("LocalOptimization", "No")],
    )


def originate_response(
    action_id: str | None,
    *,
    success: bool,
    channel: str,
    target: tuple[str, str],
    reason: int,
    uniqueid: str,
    cid: tuple[str, str],
) -> Message:
    """``target`` is ("Context", ctx)+("Exten", exten) or ("Application", app)+("Data", data)."""
    head = [("ActionID", action_id)] if action_id is not None else []
    is_app = target[0].startswith("app:")
    first, second = target
    where = (
        [("Application", first[4:]), ("Data", second)]
        if is_app
        else [("Context", first), ("Exten", second)]
    )
    return event(
        "OriginateResponse",
        CALL,
        head,
        [("Response", "Success" if success else "Failure"), ("Channel", channel)],
        where,
        [("Reason", str(reason)), ("Uniqueid", uniqueid)],
        [("CallerIDNum", cid[0]), ("CallerIDName", cid[1])],
    )


def agi_exec(ch: Channel, command_id: str, command: str, result: tuple[str, str] | None) -> Message:
    """AGIExecStart (result None) / AGIExecEnd with ResultCode and Result text."""
    extra = [("CommandId", command_id), ("Command", command)]
    if result is None:
        return event("AGIExecStart", AGI, channel_headers(ch), extra)
    code, text = result
    return event(
        "AGIExecEnd", AGI, channel_headers(ch), extra, [("ResultCode", code), ("Result", text)]
    )


def dtmf(ch: Channel, digit: str, end: bool, duration_ms: int = 100) -> Message:
    if end:
        return chan(
            "DTMFEnd",
            DTMF,
            ch,
            ("Digit", digit),
            ("DurationMs", str(duration_ms)),
            ("Direction", "Received"),
        )
    return chan("DTMFBegin", DTMF, ch, ("Digit", digit), ("Direction", "Received"))


def device_state_change(device: str, state: str) -> Message:
    return event("DeviceStateChange", CALL, [("Device", device), ("State", state)])


def bridge_headers(bridge_id: str, count: int) -> list[tuple[str, str]]:
    return [
        ("BridgeUniqueid", bridge_id),
        ("BridgeType", "basic"),
        ("BridgeTechnology", "simple_bridge"),
        ("BridgeCreator", "<unknown>"),
        ("BridgeName", "<unknown>"),
        ("BridgeNumChannels", str(count)),
        ("BridgeVideoSourceMode", "none"),
    ]


def bridge(name: str, bridge_id: str, count: int, ch: Channel | None = None) -> Message:
    """BridgeCreate/BridgeDestroy (no channel) and BridgeEnter/BridgeLeave (with channel)."""
    parts: list[Pairs] = [bridge_headers(bridge_id, count)]
    if ch is not None:
        parts.append(channel_headers(ch))
    return event(name, CALL, *parts)


def chanspy(name: str, spyer: Channel, spyee: Channel) -> Message:
    return event(name, CALL, channel_headers(spyer, "Spyer"), channel_headers(spyee, "Spyee"))


SYSTEM = "system,all"


def peer_status(endpoint: str, status: str) -> Message:
    """PJSIP endpoint online/offline (main/stasis_endpoints.c peerstatus_to_ami; res_pjsip's
    blob carries only peer_status, so no Cause/Address/Port/Time)."""
    return event(
        "PeerStatus",
        SYSTEM,
        [("ChannelType", "PJSIP"), ("Peer", f"PJSIP/{endpoint}"), ("PeerStatus", status)],
    )


def contact_status(uri: str, status: str, aor: str, endpoint: str, rtt_us: int) -> Message:
    """One contact's qualify result (main/stasis_endpoints.c contactstatus_to_ami, header order
    as written there)."""
    return event(
        "ContactStatus",
        SYSTEM,
        [
            ("URI", uri),
            ("ContactStatus", status),
            ("AOR", aor),
            ("EndpointName", endpoint),
            ("RoundtripUsec", str(rtt_us)),
        ],
    )

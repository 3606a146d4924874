"""Channels of the simulated PBX: naming, identifiers and the AMI channel snapshot.

Names and ids follow the recordings (shared/asterisk README): ``Local/<exten>@<context>-<8 hex>;1``
and ``;2``, ``PJSIP/<ep>-<8 hex>``; Uniqueid ``<epoch seconds>.<sequence>``; Linkedid is the
Uniqueid of the first channel of the call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from acd.sim.plan import CallerBehaviour

#: ast_state2str (main/channel.c): the states the simulator uses.
STATE_DOWN = 0
STATE_RING = 4
STATE_RINGING = 5
STATE_UP = 6
STATE_DESC = {0: "Down", 1: "Rsrvd", 2: "OffHook", 3: "Dialing", 4: "Ring", 5: "Ringing", 6: "Up"}

UNKNOWN = "<unknown>"


@dataclass(eq=False)
class Channel:
    name: str
    uniqueid: str
    linkedid: str
    context: str
    exten: str
    priority: int
    created_at: float
    kind: str = "Local"  # channel technology, ``Type:`` in Status
    state: int = STATE_DOWN
    cid_num: str = UNKNOWN
    cid_name: str = UNKNOWN
    conn_num: str = UNKNOWN
    conn_name: str = UNKNOWN
    language: str = "en"
    account_code: str = ""
    application: str = ""
    app_data: str = ""
    bridge_id: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    #: the other half of a Local pair
    peer: Channel | None = None
    alive: bool = True
    #: hang-up requested; the running application is unwinding (AGI: "dead channel")
    dead: bool = False
    #: what the channel's current blocking application does when the channel is hung up
    on_hangup: Callable[[float], None] | None = None
    #: called once when the channel goes Up (a Local ;2 answering answers its ;1)
    on_answer: Callable[[float], None] | None = None
    #: called once when the channel is destroyed (an Originate waiting for it to answer)
    on_gone: Callable[[float], None] | None = None
    #: who consumes DTMF right now (GET DATA, WAIT FOR DIGIT, STREAM FILE with escape digits)
    on_digit: Callable[[float, str], None] | None = None
    #: set by AMI Redirect while the current application unwinds
    redirect_to: tuple[str, str, int] | None = None
    #: caller behaviour of the phone behind this channel (set on the ;1 that enters the dialplan)
    behaviour: CallerBehaviour | None = None
    prompts_answered: int = 0
    #: when the channel first went Up (app_dial's ANSWEREDTIME is measured from here)
    answered_at: float | None = None
    #: a SoftHangupRequest was already published for this channel (Hangup() app, AGI HANGUP)
    soft_hangup_sent: bool = False
    #: the cause of the hang-up request that ends the channel (``${HANGUPCAUSE}``), None = none
    hangup_cause: int | None = None
    #: the dialplan interpreter's position marker (acd/sim/dialplan_run.py); None = not in it
    frame: object | None = None

    @property
    def up(self) -> bool:
        return self.state == STATE_UP

    def snapshot(self) -> ChannelSnapshot:
        return ChannelSnapshot(
            name=self.name,
            state=self.state,
            cid_num=self.cid_num,
            cid_name=self.cid_name,
            conn_num=self.conn_num,
            conn_name=self.conn_name,
            language=self.language,
            account_code=self.account_code,
            context=self.context,
            exten=self.exten,
            priority=self.priority,
            uniqueid=self.uniqueid,
            linkedid=self.linkedid,
            application=self.application,
            app_data=self.app_data,
            bridge_id=self.bridge_id,
            created_at=self.created_at,
            kind=self.kind,
        )


@dataclass(frozen=True, slots=True)
class ChannelSnapshot:
    name: str
    state: int
    cid_num: str
    cid_name: str
    conn_num: str
    conn_name: str
    language: str
    account_code: str
    context: str
    exten: str
    priority: int
    uniqueid: str
    linkedid: str
    application: str
    app_data: str
    bridge_id: str
    created_at: float
    kind: str


def channel_headers(ch: Channel | ChannelSnapshot, prefix: str = "") -> list[tuple[str, str]]:
    """The channel snapshot block every channel event carries, in the recorded order.

    ``prefix`` is "Dest" for the callee of dial/agent events, "LocalOne"/"LocalTwo" for
    LocalBridge (main/manager_channels.c ast_manager_build_channel_state_string_prefix).
    """
    return [
        (f"{prefix}Channel", ch.name),
        (f"{prefix}ChannelState", str(ch.state)),
        (f"{prefix}ChannelStateDesc", STATE_DESC.get(ch.state, "Unknown")),
        (f"{prefix}CallerIDNum", ch.cid_num),
        (f"{prefix}CallerIDName", ch.cid_name),
        (f"{prefix}ConnectedLineNum", ch.conn_num),
        (f"{prefix}ConnectedLineName", ch.conn_name),
        (f"{prefix}Language", ch.language),
        (f"{prefix}AccountCode", ch.account_code),
        (f"{prefix}Context", ch.context),
        (f"{prefix}Exten", ch.exten),
        (f"{prefix}Priority", str(ch.priority)),
        (f"{prefix}Uniqueid", ch.uniqueid),
        (f"{prefix}Linkedid", ch.linkedid),
    ]


class Naming:
    """Allocates channel suffixes and Uniqueids, like main/channel.c and core_local.c do."""

    def __init__(self, epoch: float, first_sequence: int = 852, first_local: int = 0x1AA) -> None:
        self._epoch = epoch
        self._seq = first_sequence
        self._local = first_local

    def uniqueid(self, now: float) -> str:
        seq = self._seq
        self._seq += 1
        return f"{int(self._epoch + now)}.{seq}"

    def suffix(self) -> str:
        value = self._local
        self._local += 1
        return f"{value:08x}"

    def wall(self, now: float) -> float:
        return self._epoch + now


def split_local(endpoint: str) -> tuple[str, str, bool] | None:
    """``Local/agent2@agents/n`` -> ("agent2", "agents", True); None for other technologies."""
    if not endpoint.startswith("Local/"):
        return None
    rest = endpoint[len("Local/") :]
    options = ""
    if "/" in rest:
        rest, options = rest.split("/", 1)
    exten, _, context = rest.partition("@")
    return exten, context or "default", "n" in options

"""What the pure PBX core asks its runtime to do, and the requests the runtime hands in.

The core never touches sockets or files: it returns these values from ``Pbx.drain()`` and the
runtime performs them in order.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd.asterisk.ami.message import Message
from acd.sim.plan import CallerBehaviour


@dataclass(frozen=True, slots=True)
class AmiEvent:
    """Broadcast to every AMI session with events on."""

    message: Message


@dataclass(frozen=True, slots=True)
class OriginateResult:
    """Outcome of a *synchronous* Originate (an async one emits OriginateResponse as AmiEvent).

    ``success`` False with ``reason`` as in OriginateResponse: 0 no such extension, 3 no answer,
    5 busy, 8 congestion.
    """

    action_id: str | None
    success: bool
    reason: int
    channel: str
    uniqueid: str


@dataclass(frozen=True, slots=True)
class AgiOpen:
    """Open a FastAGI connection to host:port and send this environment block."""

    session_id: int
    host: str
    port: int
    env: tuple[tuple[str, str], ...]  # ("agi_network", "yes"), ... in recorded order


@dataclass(frozen=True, slots=True)
class AgiReply:
    session_id: int
    text: str  # exact reply line(s), each ending in "\n"


@dataclass(frozen=True, slots=True)
class AgiHangupNotice:
    """The unsolicited ``HANGUP\\n`` line."""

    session_id: int


@dataclass(frozen=True, slots=True)
class AgiClose:
    session_id: int


@dataclass(frozen=True, slots=True)
class WavFile:
    """A finished recording: the runtime writes ``acd.sim.wav.render(seconds, channels)`` there."""

    path: str
    seconds: float
    channels: int  # 1, or 2 for MixMonitor option D / dual-channel recording
    seed: int = 0


@dataclass(frozen=True, slots=True)
class LogLine:
    """A line Asterisk appends to one of its log files, relative to its log directory:
    ``queue_log`` or ``cdr-csv/Master.csv`` (the runtime writes them to the plan's
    ``asterisk_log_dir``)."""

    file: str
    line: str  # without the trailing newline


Output = (
    AmiEvent | OriginateResult | AgiOpen | AgiReply | AgiHangupNotice | AgiClose | WavFile | LogLine
)


@dataclass(frozen=True, slots=True)
class OriginateRequest:
    """AMI Originate as received (header values already split)."""

    channel: str
    context: str | None = None
    exten: str | None = None
    priority: int = 1
    application: str | None = None
    data: str = ""
    variables: tuple[tuple[str, str], ...] = ()
    caller_id: str | None = None  # '"Name" <num>' or 'num'
    timeout_ms: int = 30000
    is_async: bool = True
    action_id: str | None = None
    #: how the far end behaves when ``channel`` is a simulated caller (Local/<n>@caller-sim/n)
    caller: CallerBehaviour | None = None


@dataclass(frozen=True, slots=True)
class OriginateAccepted:
    """The request was queued; for async, an OriginateResponse event follows."""


@dataclass(frozen=True, slots=True)
class OriginateRejected:
    """Refused before dialling (AMI answers ``Response: Error``)."""

    message: str

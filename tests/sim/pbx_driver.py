"""Drives the pure PBX core like the runtime would, with a scripted FastAGI server.

Shared by the tests/sim/test_pbx_*.py files: recorded AGI command lines (fastagi_session.txt),
recorded AMI events (ami_events_full_call.txt, cut with the AMI framing core), and a loop that
advances the core's timers and answers AgiOpen/AgiReply outputs.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from acd.asterisk.ami.framing import NEED_DATA, Framer
from acd.asterisk.ami.message import Message
from acd.settings.dialplan_render import install_placeholders
from acd.sim.outputs import (
    AgiClose,
    AgiHangupNotice,
    AgiOpen,
    AgiReply,
    AmiEvent,
    OriginateRequest,
    Output,
    WavFile,
)
from acd.sim.pbx import Pbx
from acd.sim.plan import AgentBehaviour, CallerBehaviour, DialplanPlan, SimPlan
from tests.transcripts import read_text

#: The recordings' Uniqueids give the second a call started in, not its fraction; app_queue's
#: whole-second HoldTime/TalkTime (time(NULL) differences) depend on it. Half a second past
#: reproduces the recorded values of scenarios A-C.
EPOCH = 1795327343.5
SHIPPED_DIALPLAN = Path(__file__).resolve().parents[2] / "dialplan" / "extensions.conf"


#: the FastAGI key the shipped dialplan is installed with in these tests
SHIPPED_AGI_KEY = "test-agi-key"


def shipped_dialplan() -> DialplanPlan:
    """The shipped dialplan/extensions.conf installed as the README says (the named
    ``${HOTLINE_AGI_KEY}`` placeholder substituted; FastAGI 127.0.0.1:4573): what the daemon's
    calls run on a real Asterisk. The Driver opens no sockets, so its port does not matter."""
    text = install_placeholders(SHIPPED_DIALPLAN.read_text(), {"HOTLINE_AGI_KEY": SHIPPED_AGI_KEY})
    return DialplanPlan(text=text, source="dialplan/extensions.conf")


#: event types the comparisons leave out: CEL, VarSet, Newexten (as the brief allows), Cdr (not
#: simulated) and DeviceStateChange (Asterisk repeats them and adds Queue:*_avail devices the
#: simulator does not model). NewCallerid / NewConnectedLine are compared.
NOISE = frozenset({"CEL", "VarSet", "Newexten", "DeviceStateChange", "Cdr"})


def _scenario_block(name: str, scenario: str) -> str:
    text = read_text(name)
    return text.split(f"== SCENARIO {scenario}:")[1].split("== SCENARIO")[0]


def recorded_agi_commands(scenario: str) -> list[str]:
    """The command lines the FastAGI server sent in one scenario, in order."""
    commands: list[str] = []
    direction = ""
    for line in _scenario_block("fastagi_session.txt", scenario).splitlines():
        if line.startswith("--- "):
            direction = ">>>" if line.startswith("--- >>>") else "other"
        elif direction == ">>>" and line.endswith("\\n"):
            commands.append(line[: -len("\\n")])
    return commands


def recorded_agi_replies(scenario: str) -> list[str]:
    """Asterisk's side of one FastAGI session after the env block, line by line (with LF)."""
    lines: list[str] = []
    direction = ""
    for line in _scenario_block("fastagi_session.txt", scenario).splitlines():
        if line.startswith("--- "):
            direction = "<<<" if line.startswith("--- <<<") else "other"
        elif direction == "<<<" and line.endswith("\\n") and not line.startswith(("agi_", "<<")):
            lines.append(line[: -len("\\n")] + "\n")
    return [ln for ln in lines if ln != "\n"]


def recorded_events(scenario: str) -> list[Message]:
    """Every AMI event of one scenario of ami_events_full_call.txt, via the AMI framing core."""
    return _frame(_scenario_block("ami_events_full_call.txt", scenario))


def recorded_chanspy_part(part: str) -> list[Message]:
    """Every AMI event of one ``== PART <part>:`` section of chanspy_events.txt."""
    return _frame(read_text("chanspy_events.txt").split(f"== PART {part}:")[1].split("== PART")[0])


def _frame(block: str) -> list[Message]:
    raw = block.split("-- raw stream --")[1]
    wire = "".join(
        line[: -len("\\r\\n")] + "\r\n" for line in raw.splitlines() if line.endswith("\\r\\n")
    )
    framer = Framer(expect_banner=False)
    framer.receive_data(wire.encode())
    out: list[Message] = []
    while (item := framer.next_message()) is not NEED_DATA:
        assert isinstance(item, Message)
        out.append(item)
    return out


def recorded_layouts(name: str) -> dict[str, set[tuple[str, ...]]]:
    """Header-name tuples of every message in a transcript, by first header value."""
    shapes: dict[str, set[tuple[str, ...]]] = {}
    current: list[str] = []
    first = ""
    for line in read_text(name).splitlines():
        if not line.endswith("\\r\\n"):
            continue
        text = line[: -len("\\r\\n")]
        if not text:
            if current:
                shapes.setdefault(first, set()).add(tuple(current))
            current = []
            continue
        key, sep, value = text.partition(": ")
        if not sep:
            continue  # banner line
        if not current:
            first = value
        current.append(key)
    return shapes


# Orders that differ between runs of the real Asterisk itself (README: OriginateResponse may
# come early; the two halves of a Local channel hang up on two threads).
_RACY = {"DialState", "QueueMemberStatus", "SoftHangupRequest", "HangupRequest", "Hangup"}


def sort_racy_runs(types: list[str], racy: frozenset[str] | set[str]) -> list[str]:
    """Event types with each run of mutually unordered types (``racy``) sorted."""
    out: list[str] = []
    run: list[str] = []
    for name in [*types, ""]:
        if name in racy:
            run.append(name)
            continue
        out += sorted(run)
        run = []
        if name:
            out.append(name)
    return out


def normalise(types: list[str]) -> list[str]:
    return sort_racy_runs([t for t in types if t != "OriginateResponse"], _RACY)


def event_types(events: list[Message]) -> list[str]:
    return [m.name for m in events if m.name not in NOISE]


@dataclass
class Run:
    """Everything the core emitted, with the time it was drained."""

    events: list[tuple[float, Message]] = field(default_factory=list)
    agi_lines: list[tuple[int, str]] = field(default_factory=list)  # (session, text) incl. HANGUP
    agi_opened: list[AgiOpen] = field(default_factory=list)
    agi_closed: list[int] = field(default_factory=list)
    wavs: list[WavFile] = field(default_factory=list)
    other: list[Output] = field(default_factory=list)

    @property
    def messages(self) -> list[Message]:
        return [m for _, m in self.events]

    def replies(self, session: int) -> list[str]:
        return [t for s, t in self.agi_lines if s == session]


Script = Callable[[int, AgiOpen], list[str] | None]


class Driver:
    """Runs a Pbx with AGI servers scripted per session: ``scripts(session_id, open)`` returns
    the command lines to send (each after the previous reply; then the server closes), or None
    to refuse the connection (AGISTATUS=FAILURE)."""

    def __init__(
        self,
        plan: SimPlan | None = None,
        *,
        seed: int = 1,
        script: Script | None = None,
        epoch: float = EPOCH,
    ) -> None:
        self.pbx = Pbx(plan or SimPlan(), rng=random.Random(seed), epoch=epoch)
        self.script = script or (lambda _sid, _open: [])
        self.now = 0.0
        self.run = Run()
        self._pending: dict[int, list[str]] = {}
        #: optional hook called with (now, session_id, reply) to inject inputs mid-call
        self.on_reply: Callable[[float, int, str], None] | None = None
        #: sessions whose server stays connected when it ran out of commands (the test closes
        #: them, or sends more with ``send``)
        self.keep_open: set[int] = set()

    def originate(self, req: OriginateRequest) -> None:
        self.pbx.originate(self.now, req)
        self.pump()

    def pump(self) -> None:
        while out := self.pbx.drain():
            for item in out:
                self._handle(item)

    def _handle(self, item: Output) -> None:
        run, pbx = self.run, self.pbx
        if isinstance(item, AmiEvent):
            run.events.append((self.now, item.message))
        elif isinstance(item, AgiOpen):
            run.agi_opened.append(item)
            commands = self.script(item.session_id, item)
            if commands is None:
                pbx.agi_connect_failed(self.now, item.session_id)
                return
            self._pending[item.session_id] = list(commands)
            pbx.agi_connected(self.now, item.session_id)
            self._send_next(item.session_id)
        elif isinstance(item, AgiReply):
            run.agi_lines.append((item.session_id, item.text))
            if self.on_reply is not None:
                self.on_reply(self.now, item.session_id, item.text)
            self._send_next(item.session_id)
        elif isinstance(item, AgiHangupNotice):
            run.agi_lines.append((item.session_id, "HANGUP\n"))
        elif isinstance(item, AgiClose):
            run.agi_closed.append(item.session_id)
        elif isinstance(item, WavFile):
            run.wavs.append(item)
        else:
            run.other.append(item)

    def _send_next(self, sid: int) -> None:
        pending = self._pending.get(sid)
        if pending is None:
            return
        if pending:
            self.pbx.agi_command(self.now, sid, pending.pop(0))
        else:
            del self._pending[sid]
            if sid not in self.keep_open:
                self.pbx.agi_closed(self.now, sid)

    def queue_commands(self, sid: int, commands: list[str], *, close_after: bool) -> None:
        """From an ``on_reply`` hook: the server sends these next (after this reply)."""
        self._pending[sid] = list(commands)
        if close_after:
            self.keep_open.discard(sid)

    def send(self, sid: int, commands: list[str]) -> None:
        """A kept-open server sends more commands now (each after the previous reply)."""
        self._pending[sid] = list(commands)
        self._send_next(sid)
        self.pump()

    def run_until(self, end: float) -> Run:
        """Fire timers up to ``end`` (or until nothing is scheduled)."""
        self.pump()
        while (deadline := self.pbx.next_deadline()) is not None and deadline <= end:
            self.now = max(self.now, deadline)
            self.pbx.advance(self.now)
            self.pump()
        self.now = max(self.now, end) if self.pbx.next_deadline() is not None else self.now
        return self.run

    def at(self, when: float, action: Callable[[float], object]) -> None:
        """Run timers up to ``when``, then an input (hang-up, redirect, ...) at that time."""
        self.run_until(when)
        self.now = max(self.now, when)
        action(self.now)
        self.pump()


def layout(message: Message) -> tuple[str, ...]:
    return tuple(k for k, _ in message.headers)


def talking_call(talk: float = 60.0) -> Driver:
    """Caller 5550300 in queue sales, connected to agent2 (agent1 never answers)."""
    plan = SimPlan(
        agents={
            "Local/agent1@agents/n": AgentBehaviour(answer_after=None),
            "Local/agent2@agents/n": AgentBehaviour(answer_after=1.0, talk_time=talk),
        }
    )
    driver = Driver(plan, script=lambda _sid, _open: [])
    driver.originate(
        OriginateRequest(
            channel="Local/5550300@caller-sim/n",
            context="hotline",
            exten="s",
            caller=CallerBehaviour(number="5550300", hangup_after=None),
        )
    )
    driver.run_until(10.0)
    assert [m for m in driver.run.messages if m.name == "AgentConnect"]
    return driver


def scenario_a_request() -> OriginateRequest:
    """The recorded Originate of scenario A."""
    return OriginateRequest(
        channel="Local/5550200@caller-sim/n",
        context="hotline",
        exten="s",
        variables=(
            ("IVR_DIGIT", "1"),
            ("DTMF_DELAY", "3"),
            ("CALLER_HOLD", "120"),
            ("__TALKTIME", "5"),
        ),
        action_id="ctl-7",
    )


#: The live rig's caller side in the Q10/Q11 captures (tests/fixtures/asterisk-dev): the
#: customer's channel answers and hands the call to a scratch FastAGI server.
SCRATCH_AGI = """\
[scratch-agi]
exten => s,1,Answer()
 same => n,AGI(agi://127.0.0.1:4574/scratch)
 same => n,Hangup()
"""


def scratch_rig_call(contexts: str, callee: str, commands: list[str]) -> Run:
    """A call as the live rig's captures made it: ``Local/555@scratch-phone`` answered into
    ``[scratch-agi]``, whose FastAGI session sends ``commands``; ``callee`` (a Local phone)
    answers after 1 s and talks 4 s; ``contexts``: the capture's other dialplan contexts."""
    plan = SimPlan(
        agents={callee: AgentBehaviour(answer_after=1.0, talk_time=4.0)},
        dialplan=DialplanPlan(
            text=f"{SCRATCH_AGI}\n{contexts}", source="scratch.conf of the live rig"
        ),
    )
    driver = Driver(plan, script=lambda _sid, _open: commands)
    driver.originate(
        OriginateRequest(
            channel="Local/555@scratch-phone/n",
            context="scratch-agi",
            exten="s",
            caller=CallerBehaviour(number="555", hangup_after=None),
        )
    )
    return driver.run_until(20.0)

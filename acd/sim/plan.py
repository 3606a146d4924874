"""What the simulated PBX is configured with: queues, agents, callers and the dialplan text.

Frozen dataclasses only, so a plan can be shared between the core, the runtime and tests.
Defaults mirror ../shared/asterisk/reference-config (queues.conf ``sales``/``support``,
extensions.conf ``[hotline]``) so a bare ``SimPlan()`` behaves like the recorded system.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from acd.asterisk.ami.event_filters import EventFilter
from acd.sim.reference_dialplan import REFERENCE_SOURCE, reference_extensions

Strategy = Literal["linear", "ringall", "rrmemory"]
#: Device states as AMI spells them in DeviceStateChange (main/devicestate.c devstate2str).
DeviceState = Literal["UNKNOWN", "NOT_INUSE", "INUSE", "BUSY", "INVALID", "UNAVAILABLE", "RINGING"]


@dataclass(frozen=True, slots=True)
class QueueMember:
    """One static ``member =>`` line: interface, membername, state interface."""

    interface: str  # e.g. "Local/agent2@agents/n" or "PJSIP/1001"
    member_name: str = ""
    state_interface: str = ""
    penalty: int = 0
    paused: bool = False

    @property
    def name(self) -> str:
        return self.member_name or self.interface


@dataclass(frozen=True, slots=True)
class QueuePlan:
    name: str
    strategy: Strategy = "linear"
    member_timeout: float = 4.0  # queues.conf timeout: ring time per attempt
    retry: float = 1.0  # pause between rounds
    members: tuple[QueueMember, ...] = ()
    wrapuptime: float = 0.0
    musicclass: str = "default"
    #: queues.conf monitor-format; None = no recording started by app_queue
    monitor_format: str | None = None


@dataclass(frozen=True, slots=True)
class AgentBehaviour:
    """How the phone behind one endpoint (``Local/agent2@agents/n``, ``PJSIP/1001``) behaves."""

    answer_after: float | None = 1.0  # seconds of ringing before answering; None = never answers
    answer_probability: float = 1.0  # drawn per ring with the Pbx's rng
    talk_time: float = 5.0  # seconds from answer until the agent's side hangs up
    #: who ends the talk: "agent" hangs up after talk_time; "caller" leaves it to the caller
    hangs_up: Literal["agent", "caller"] = "agent"


@dataclass(frozen=True, slots=True)
class DtmfPress:
    at: float  # seconds after the caller's channel was answered
    digits: str


@dataclass(frozen=True, slots=True)
class CallerBehaviour:
    """A simulated caller (the ``caller-sim`` context of the reference dialplan).

    ``dtmf`` are timed presses like ``SendDTMF`` in caller-sim; ``prompt_answers`` are typed in
    reply to successive GET DATA prompts (menu choice, survey score) ``answer_delay`` s after the
    prompt starts. ``hangup_after`` is the caller's total patience from answer (DTMF_DELAY +
    CALLER_HOLD in caller-sim); None = stays until the other side hangs up.
    """

    number: str = "5550100"
    name: str | None = None  # default "Caller <number>" like the recorded caller-sim
    dtmf: tuple[DtmfPress, ...] = ()
    prompt_answers: tuple[str, ...] = ()
    answer_delay: float = 1.0
    hangup_after: float | None = 123.0

    @property
    def display_name(self) -> str:
        return self.name if self.name is not None else f"Caller {self.number}"


@dataclass(frozen=True, slots=True)
class DialplanPlan:
    """The extensions.conf the simulated Asterisk runs (interpreted by acd/sim/dialplan_run.py).

    ``text`` None means the reference-config ``[hotline]`` and ``[hotline-direct]`` contexts
    (acd/sim/reference_dialplan.py) with their FastAGI address set to ``agi_host:agi_port``;
    otherwise ``text`` is run as it is (e.g. ``hotline dialplan render`` output) and
    ``agi_host``/``agi_port`` only say where its FastAGI server listens.
    """

    text: str | None = None
    source: str = REFERENCE_SOURCE
    #: the context simulated callers dial into (``Simulator.place_call``)
    context: str = "hotline"
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573

    @property
    def extensions_conf(self) -> str:
        if self.text is not None:
            return self.text
        return reference_extensions(self.agi_host, self.agi_port)


def _reference_queues() -> tuple[QueuePlan, ...]:
    one = QueueMember("Local/agent1@agents/n", "Agent One", "Local/agent1@agents")
    two = QueueMember("Local/agent2@agents/n", "Agent Two", "Local/agent2@agents")
    three = QueueMember("Local/agent3@agents/n", "Agent Three", "Local/agent3@agents")
    return (
        QueuePlan("sales", "linear", 4.0, 1.0, (one, two, three), monitor_format="wav"),
        QueuePlan("support", "ringall", 5.0, 1.0, (one,)),
    )


def _reference_agents() -> dict[str, AgentBehaviour]:
    # agent1 never answers; agentN rings 1 s, plays hello-world (~1.4 s) then Wait(TALKTIME=5).
    return {
        "Local/agent1@agents/n": AgentBehaviour(answer_after=None),
        "Local/agent2@agents/n": AgentBehaviour(answer_after=1.0, talk_time=6.4),
        "Local/agent3@agents/n": AgentBehaviour(answer_after=1.0, talk_time=6.4),
    }


@dataclass(frozen=True, slots=True)
class SimPlan:
    queues: tuple[QueuePlan, ...] = field(default_factory=_reference_queues)
    agents: Mapping[str, AgentBehaviour] = field(default_factory=_reference_agents)
    dialplan: DialplanPlan = field(default_factory=DialplanPlan)
    #: playable prompt names -> length in seconds; missing names give ``200 result=-1 endpos=0``
    sounds: Mapping[str, float] = field(
        default_factory=lambda: {
            "beep": 0.4255,  # endpos=3404 as recorded
            "vm-enter-num-to-call": 2.0,
            "hello-world": 1.4,
            "demo-congrats": 6.0,
            "tt-monkeys": 16.0,
        }
    )
    #: initial device states by endpoint (``PJSIP/1001``); absent = NOT_INUSE
    devices: Mapping[str, DeviceState] = field(default_factory=dict)
    recordings_dir: str = "/var/spool/asterisk/monitor"
    #: where queue_log and cdr-csv/Master.csv are written (Asterisk's /var/log/asterisk);
    #: None = not written
    asterisk_log_dir: str | None = None
    asterisk_version: str = "22.10.1"
    #: the AMI users' manager.conf ``eventfilter`` lines
    #: (``acd.asterisk.ami.event_filters.user_filters``); a user without any gets every event
    ami_event_filters: Mapping[str, tuple[EventFilter, ...]] = field(default_factory=dict)

    def queue(self, name: str) -> QueuePlan | None:
        return next((q for q in self.queues if q.name == name), None)

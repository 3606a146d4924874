"""What the simulated PBX is configured with: queues, agents, callers and the hotline dialplan.

Frozen dataclasses only, so a plan can be shared between the core, the runtime and tests.
Defaults mirror ../shared/asterisk/reference-config (queues.conf ``sales``/``support``,
extensions.conf ``[hotline]``) so a bare ``SimPlan()`` behaves like the recorded system.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from acd.settings.names import VAR_HANDLED

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
    """Parameters of the ``[hotline]`` context (see dialplan/ and reference-config)."""

    context: str = "hotline"
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    agi_script: str = "ivr"
    agi_args: tuple[str, ...] = ("hotline",)  # the caller number is appended, as recorded
    #: variable the daemon sets when it took the call; when unset the fallback Queue() runs
    handled_var: str = VAR_HANDLED
    #: variable naming the queue for the fallback (reference dialplan: IVR_QUEUE)
    queue_var: str = "IVR_QUEUE"
    fallback_queue: str = "sales"
    queue_timeout: float = 15.0
    queue_options: str = "t"
    #: other contexts that just run ``Answer, AGI(agi://host:port/<script>,<context>,<cid>),
    #: Hangup`` -- e.g. (("hotline-callback", "callback"),) for the daemon's call-back legs
    agi_contexts: tuple[tuple[str, str], ...] = ()
    #: the FastAGI key the installed dialplan carries in every AGI URL (``?key=``, the
    #: substituted ``${HOTLINE_AGI_KEY}``); None: URLs without a key, like the reference config
    agi_key: str | None = None

    def agi_request(self, script: str) -> str:
        """The script part of the AGI URL as the installed dialplan has it: Asterisk passes
        the whole query on in agi_network_script (shared README)."""
        if self.agi_key is None:
            return script
        return f"{script}{'&' if '?' in script else '?'}key={self.agi_key}"


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
    asterisk_version: str = "22.10.1"

    def queue(self, name: str) -> QueuePlan | None:
        return next((q for q in self.queues if q.name == name), None)

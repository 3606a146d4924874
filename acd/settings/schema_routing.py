"""``queues.yaml`` and ``agents.yaml``: what the ACD routes and to whom.

Skill levels run 1 (novice) to 5 (expert). A queue asks for ``skill`` at ``min_level`` and may
relax that requirement the longer the caller waits; the overflow ladder acts later still.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from acd.settings.common import (
    Fraction,
    FrozenModel,
    Identifier,
    PositiveSeconds,
    Seconds,
    refuse_removed_keys,
)
from acd.settings.schema_callbacks import CallbackSettings
from acd.settings.schema_phones import Location, PhonesSettings, QualityOverride

Level = Annotated[int, Field(ge=1, le=5)]
SelectionPolicy = Literal["longest_idle", "fewest_calls", "round_robin", "skill_level"]
# app_queue strategies for the plain Queue() fallback (apps/app_queue.c, strategies[]).
QueueStrategy = Literal[
    "ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "rrordered", "linear", "wrandom"
]


class ServiceLevel(FrozenModel):
    answer_within_s: PositiveSeconds = 15.0
    target: Fraction = 0.9


class RelaxRule(FrozenModel):
    after_s: PositiveSeconds  # waiting time after which the rule applies
    min_level: Level  # lowest skill level accepted from then on (1 = anyone with the skill)


OverflowAction = Literal["widen_skills", "overflow_queue", "offer_callback"]


class OverflowStep(FrozenModel):
    after_s: PositiveSeconds
    action: OverflowAction
    skills: tuple[Identifier, ...] = ()  # widen_skills: extra skills accepted
    queue: Identifier | None = None  # overflow_queue: where the call moves

    @model_validator(mode="before")
    @classmethod
    def _no_voicemail(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("action") == "voicemail":
            raise ValueError(
                "action 'voicemail' was removed: offer_callback keeps the caller's place and an"
                " agent calls back, which a message box does not"
            )
        return data

    @model_validator(mode="after")
    def _fields_match_action(self) -> OverflowStep:
        if self.action == "widen_skills" and not self.skills:
            raise ValueError("action widen_skills expects 'skills': a list of skill names")
        if self.action == "overflow_queue" and self.queue is None:
            raise ValueError("action overflow_queue expects 'queue': a queue name")
        if self.action != "widen_skills" and self.skills:
            raise ValueError(f"'skills' is only for widen_skills, not {self.action}")
        if self.action != "overflow_queue" and self.queue is not None:
            raise ValueError(f"'queue' is only for overflow_queue, not {self.action}")
        return self


class FallbackQueue(FrozenModel):
    """Used by the dialplan's plain Queue() when the daemon did not take the call."""

    strategy: QueueStrategy = "rrmemory"
    member_timeout_s: int = Field(default=15, ge=1)  # queues.conf timeout (ring per attempt)
    queue_timeout_s: int = Field(default=300, ge=1)  # Queue() timeout argument


# "general" is queues.conf's global section; one-letter names are special dialplan extensions
# (s, i, t, h, e, a, o) and queue names become extensions of the fallback context.
RESERVED_QUEUE_NAMES = frozenset({"general", "s", "i", "t", "h", "e", "a", "o"})


def _not_reserved(name: str) -> str:
    if name in RESERVED_QUEUE_NAMES:
        raise ValueError(
            f"expected a queue name other than {sorted(RESERVED_QUEUE_NAMES)}"
            f" (reserved by queues.conf / the dialplan), got {name!r}"
        )
    return name


AGENTS_TARGET = "agents"  # in agents_may_transfer_to: agents may transfer to a named agent


class TransferRules(FrozenModel):
    """Who may transfer a call of this queue, and where to (``POST /calls/{id}/transfer``).

    Agent tokens are held to ``agents_may_transfer_to`` (queue names, or ``agents`` for a named
    agent; None = anywhere); supervisors and admins may transfer anywhere.
    """

    agents_may_transfer_to: tuple[Identifier, ...] | None = None
    require_reason: bool = True
    # A transfer is new work in the target queue (it waits from the transfer on), served
    # ahead of that queue's fresh callers by this much priority, not sent to the back.
    priority_boost: int = Field(default=5, ge=0, le=10)


class Announcements(FrozenModel):
    """What a waiting caller is told, and when (Asterisk's queue-* sounds)."""

    first_after_s: Seconds = 10.0  # a caller answered within the 15 s target hears none
    every_s: Seconds = 30.0  # then again every this long; 0 = only once
    position: bool = True  # "you are next" / "there are N calls waiting"
    wait_time: bool = True  # "the estimated hold time is N minutes"


# A musiconhold.conf class: rendered into dialplan/musiconhold.conf (files in moh/<class>).
MusicClass = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=40)]


class QueueSettings(FrozenModel):
    name: Annotated[Identifier, AfterValidator(_not_reserved)]
    display_name: str = Field(min_length=1)
    skill: Identifier
    min_level: Level = 1
    priority: int = Field(default=0, ge=0, le=10)  # higher is served first
    wrapup_s: Seconds = 15.0
    service_level: ServiceLevel = ServiceLevel()
    relax: tuple[RelaxRule, ...] = ()
    policy: SelectionPolicy = "longest_idle"
    ring_timeout_rings: int = Field(default=3, ge=1, le=20)
    ring_cadence_s: PositiveSeconds = 3.0  # one ring cycle; rings x cadence = offer timeout
    auto_pause_after_missed: int = Field(default=2, ge=0)  # 0 = never auto-pause
    overflow: tuple[OverflowStep, ...] = ()
    dispositions: tuple[Identifier, ...] = Field(default=("resolved",), min_length=1)
    hours: Identifier | None = None  # calendar in hours.yaml; None = always open
    fallback: FallbackQueue = FallbackQueue()
    recording_retention_days: int | None = Field(default=None, ge=1)  # None = recording.yaml
    transfers: TransferRules = TransferRules()
    music_class: MusicClass = "default"  # what waiting callers hear (also the fallback Queue())
    announcements: Announcements = Announcements()
    # Share of callers asked the post-call survey when the agent hangs up first.
    survey_sample_rate: Fraction = 0.5

    @property
    def ring_timeout_s(self) -> float:
        return self.ring_timeout_rings * self.ring_cadence_s

    @model_validator(mode="before")
    @classmethod
    def _removed(cls, data: Any) -> Any:
        return refuse_removed_keys(
            data,
            {
                "max_wait_s": "long waits are handled by the overflow ladder ('overflow');"
                " the fallback Queue() has its own 'fallback.queue_timeout_s'",
            },
        )

    @model_validator(mode="after")
    def _ladders_ascend(self) -> QueueSettings:
        level = self.min_level
        last = 0.0
        for rule in self.relax:
            if rule.after_s <= last or rule.min_level >= level:
                raise ValueError(
                    "relax rules expected in increasing after_s with each min_level lower"
                    " than the one before (starting from the queue's min_level)"
                )
            level, last = rule.min_level, rule.after_s
        times = [step.after_s for step in self.overflow]
        if times != sorted(times) or len(set(times)) != len(times):
            raise ValueError("overflow steps expected in strictly increasing after_s")
        if len(set(self.dispositions)) != len(self.dispositions):
            raise ValueError("dispositions expected without duplicates")
        return self


class QueuesFile(FrozenModel):
    """The whole of ``queues.yaml``."""

    skills: tuple[Identifier, ...] = Field(min_length=1)
    default_queue: Identifier  # used when the IVR picked none (and by the fallback dialplan)
    queues: tuple[QueueSettings, ...] = Field(min_length=1)
    callbacks: CallbackSettings = CallbackSettings()  # placing booked call-backs


# Dial strings the daemon and queues.conf can ring: a softphone or a Local channel into the
# agents' context. "/n" on Local keeps the channel from being optimised away mid-call.
ENDPOINT_PATTERN = re.compile(
    r"^(PJSIP/[A-Za-z0-9_.-]+|Local/[A-Za-z0-9_.-]+@[a-z][a-z0-9_-]*(/n)?)$"
)


def _check_endpoint(value: str) -> str:
    if not ENDPOINT_PATTERN.match(value):
        raise ValueError(f"expected PJSIP/<device> or Local/<exten>@<context>[/n], got {value!r}")
    return value


class AgentSettings(FrozenModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=40)
    name: str = Field(min_length=1)
    endpoint: Annotated[str, AfterValidator(_check_endpoint)]
    skills: dict[Identifier, Level] = Field(min_length=1)
    wrapup_s: Seconds | None = None  # overrides the queue's wrap-up when set
    supervisor: bool = False
    location: Location = "office"  # where the phone is: phones.office or phones.remote
    webrtc: bool = False  # a browser phone (WSS, DTLS-SRTP) instead of a SIP softphone; remote only
    quality: QualityOverride = QualityOverride()  # per-agent qualify / RTT limit

    @property
    def softphone(self) -> str:
        """The PJSIP device behind the endpoint (``PJSIP/1001`` or ``Local/1001@ctx/n``)."""
        kind, rest = self.endpoint.split("/", 1)
        if kind == "PJSIP":
            return rest
        return rest.split("@", 1)[0]


class SupervisorSettings(FrozenModel):
    """A supervisor and the phones listen/whisper/barge may ring: never any other dial string.
    A person signs in with a personal key linked to this entry (``hotline users add
    --supervisor ID``)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=40)
    name: str = Field(min_length=1)
    phones: tuple[Annotated[str, AfterValidator(_check_endpoint)], ...] = Field(min_length=1)


# Reasons the engine sets by itself; an agent or supervisor never picks them.
SYSTEM_PAUSE_REASONS = ("missed-offers", "phone-unavailable", "unspecified")


def _not_system_reason(value: str) -> str:
    if value in SYSTEM_PAUSE_REASONS:
        raise ValueError(f"{value!r} is set by hotline itself; pick another name")
    return value


class PauseReason(FrozenModel):
    """Why an agent pauses: chosen on the agent desktop (by ``name``) or keyed on the phone
    after ``*13`` (by ``code``); the agent state log and the wallboard show ``name``."""

    code: str = Field(pattern=r"^[0-9]{1,2}$")  # the digits after *13
    name: Annotated[Identifier, AfterValidator(_not_system_reason)]
    label: str = Field(min_length=1, max_length=40)  # what the desktop and wallboard show


class AgentsFile(FrozenModel):
    """The whole of ``agents.yaml``."""

    agents: tuple[AgentSettings, ...] = Field(min_length=1)
    phones: PhonesSettings = PhonesSettings()  # SIP transports and phone settings per location
    supervisors: tuple[SupervisorSettings, ...] = ()
    # Empty: any reason is accepted (as before); listed: only these.
    pause_reasons: tuple[PauseReason, ...] = ()

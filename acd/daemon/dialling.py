"""Ringing the offered agent over the caller's FastAGI session, and the post-call survey.

``EXEC Dial`` rings the agent for the queue's ring timeout and, once answered, lasts the whole
conversation. ``AgentDialler.dial`` returns how it ended (``DialResult``: Asterisk's
``DIALSTATUS``, ``ANSWEREDTIME`` for when AMI did not report the answer, whether the caller
hung up); the answer itself is learnt from AMI while the Dial runs (``acd.daemon.ami_watch``
resolves the call's answer future) and handled by the call flow. The recording is started by
the Dial itself, on the agent's channel when it answers (its ``U()`` Gosub,
``acd.daemon.recording``). Neither method touches the call: they return values.
"""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from acd.asterisk.agi import commands as cmd
from acd.asterisk.aio.agi_session import AgiSession, ChannelHungUp
from acd.daemon.call_state import CallState
from acd.daemon.call_steps import SurveyDone
from acd.daemon.ivr_port import SurveyRunner
from acd.daemon.waiting import WaitSettings
from acd.settings import names

# Share of callers (not opted in) asked the post-call survey after the agent hangs up first,
# when the queue does not say: 0.5 gives the demo a useful number of ratings.
DEFAULT_SURVEY_RATE = 0.5
# How the Dial ended, if answered the talk in seconds (app_dial.c set_duration_var), and the file
# of the recording its U() Gosub started on the answered leg (the rendered [hotline-answer]
# returns MIXMONITOR_FILENAME; app_dial copies it to the caller as GOSUB_RETVAL).
DIAL_RESULT = f"${{{names.ASTERISK_DIALSTATUS}}}|${{ANSWEREDTIME}}|${{GOSUB_RETVAL}}"


@dataclass(frozen=True, slots=True)
class FlowSettings:
    default_queue: str
    queue_priority: Mapping[str, int]
    dial_options: str = ""
    waiting: WaitSettings = field(default_factory=WaitSettings)
    survey_sample_rate: Mapping[str, float] = field(default_factory=dict)  # by queue
    language: str = "zh"  # survey language when the IVR chose none
    mqtt_prefix: str = "hotline"
    transfer_priority_boost: Mapping[str, int] = field(default_factory=dict)  # by target queue
    screen_pop_wait_s: float = 1.0  # how long the phone may wait for a slow, connected broker

    def survey_rate(self, queue: str | None) -> float:
        return self.survey_sample_rate.get(queue or "", DEFAULT_SURVEY_RATE)


@dataclass(frozen=True, slots=True)
class DialResult:
    status: str  # DIALSTATUS: ANSWER | NOANSWER | BUSY | CHANUNAVAIL | CANCEL ...
    ended_at: float
    talk_s: float  # ANSWEREDTIME: the answer's time when AMI did not tell it
    caller_gone: bool
    # GOSUB_RETVAL after the Dial: the file of the recording started at the answer (an earlier
    # leg's, or "", when this Dial started none)
    recording_file: str = ""
    started_at: float | None = None  # when the Dial was sent

    def answered_at(self) -> float:
        """The agent's answer, when AMI did not report it. ANSWEREDTIME is the *caller
        channel's* up time (apps/app_dial.c end_bridge_callback; RECORDED q2_agi_dies_ami_d):
        for a caller the IVR answered it reaches back before the Dial. So the answer is taken
        no earlier than the Dial's start: the ring then counts as talk, an overestimate of at
        most the ring timeout."""
        answered = self.ended_at - self.talk_s
        return answered if self.started_at is None else max(answered, self.started_at)


class AgentDialler:
    def __init__(
        self,
        settings: FlowSettings,
        *,
        clock: Callable[[], float],
        survey: SurveyRunner | None = None,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._survey = survey
        self._draw = draw

    async def dial(
        self, session: AgiSession, endpoint: str, ring_timeout_s: float, options: str = ""
    ) -> DialResult:
        """Ring ``endpoint``; returns when the ring failed or the conversation is over.
        ``options``: Dial options of this call's (the place's B(), the recording's U())."""
        timeout = str(max(1, math.ceil(ring_timeout_s)))
        dial = cmd.exec_("Dial", endpoint, timeout, self._settings.dial_options + options)
        started = self._clock()
        await session.command(dial, timeout_s=math.inf)
        ended = self._clock()
        # one round trip for all three (GET FULL VARIABLE also runs on a hung-up channel)
        found = await session.get_full_variable(DIAL_RESULT) or ""
        status, _, rest = found.partition("|")
        answered, _, recording_file = rest.partition("|")
        status = status or "UNKNOWN"
        talk = 0.0
        if status == "ANSWER":
            with contextlib.suppress(ValueError):
                talk = float(answered or 0)
        caller_gone = session.hung_up or status == "CANCEL"
        return DialResult(status, ended, talk, caller_gone, recording_file, started)

    async def survey(self, session: AgiSession, call: CallState) -> SurveyDone | None:
        """The agent hung up first and the caller is still on the line: maybe the survey (the
        queue's sample rate; no opt-in question exists in the IVR yet). None: not asked."""
        if self._survey is None or session.hung_up:
            return None
        if not self._draw() < self._settings.survey_rate(call.queue):
            return None
        language = call.language or self._settings.language
        try:
            answers = await self._survey(session, language=language)
        except ChannelHungUp:
            answers = None
        if answers is None:
            return SurveyDone(self._clock(), None, None)
        return SurveyDone(self._clock(), answers.rating, answers.solved)

"""Connecting a waiting caller to the offered agent over the caller's FastAGI session.

``EXEC Dial`` rings the agent for the queue's ring timeout and, once answered, lasts the whole
conversation. The answer itself is learnt from AMI (``DialEnd`` on the caller's channel, see
``ami_watch``) with ``ANSWEREDTIME`` after the Dial as the fallback when AMI is down; the
recording, started just before the Dial, holds audio from that answer on. When the agent hangs
up first, the caller may be asked the survey.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from acd.asterisk.agi import commands as cmd
from acd.asterisk.aio.agi_session import AgiSession, ChannelHungUp
from acd.daemon.calls import CallRecord, CallRegistry, Ring
from acd.daemon.ivr_port import SurveyRunner
from acd.daemon.outputs import Outputs
from acd.daemon.recording import CallRecording
from acd.daemon.service import AcdService
from acd.daemon.waiting import WaitSettings
from acd.settings import names


@dataclass(frozen=True, slots=True)
class FlowSettings:
    default_queue: str
    queue_priority: dict[str, int]
    dial_options: str = ""
    waiting: WaitSettings = field(default_factory=WaitSettings)
    # Share of callers (not opted in) asked the post-call survey after the agent hangs up
    # first: 0.5 gives the demo a useful number of ratings; production sets it per campaign.
    survey_sample_rate: float = 0.5
    language: str = "zh"  # survey language when the IVR chose none
    mqtt_prefix: str = "hotline"
    transfer_priority_boost: dict[str, int] = field(default_factory=dict)  # by target queue


class AgentDialler:
    def __init__(
        self,
        acd: AcdService,
        registry: CallRegistry,
        outputs: Outputs,
        settings: FlowSettings,
        *,
        clock: Callable[[], float],
        recording: CallRecording | None = None,
        survey: SurveyRunner | None = None,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self._acd = acd
        self._registry = registry
        self._outputs = outputs
        self._settings = settings
        self._clock = clock
        self._recording = recording
        self._survey = survey
        self._draw = draw

    async def maybe_survey(self, session: AgiSession, call: CallRecord) -> None:
        """The agent hung up first and the caller is still on the line: maybe the survey."""
        # No opt-in question exists in the IVR yet, so only the random sample is asked.
        if self._survey is None or session.hung_up:
            return
        if not self._draw() < self._settings.survey_sample_rate:
            return
        language = call.language or self._settings.language
        try:
            answers = await self._survey(session, language=language)
        except ChannelHungUp:
            answers = None
        if answers is not None:
            call.survey_rating, call.survey_solved = answers.rating, answers.solved
        self._outputs.call_event(
            call, "survey", self._clock(), rating=call.survey_rating, solved=call.survey_solved
        )

    async def ring(
        self,
        session: AgiSession,
        call: CallRecord,
        agent_id: str,
        endpoint: str,
        ring_timeout_s: float,
    ) -> bool:
        """Dial the agent; True when the call was answered (and is now over)."""
        started = self._clock()
        call.agent_id = agent_id
        call.leg_answered_at = None  # this leg's answer (a transferred caller rings again)
        self._outputs.call_event(call, "offered", started, agent_id=agent_id, endpoint=endpoint)

        def answered(at: float, agent_channel: str | None) -> None:
            if call.leg_answered_at is None:
                self._mark_answered(call, started, at, agent_channel)

        self._registry.on_answer(call.uniqueid, answered)
        timeout = str(max(1, math.ceil(ring_timeout_s)))
        dial = cmd.exec_("Dial", endpoint, timeout, self._settings.dial_options)
        if self._recording is not None:
            # Dial blocks the FastAGI session for the whole talk: MixMonitor goes first and
            # records only once bridged (acd.daemon.recording).
            await self._recording.start(session, call, started)
        await session.command(dial, timeout_s=math.inf)
        ended = self._clock()
        status = await session.get_variable(names.ASTERISK_DIALSTATUS) or "UNKNOWN"
        if status == "ANSWER":
            if call.leg_answered_at is None:  # AMI did not say: work it out from ANSWEREDTIME
                talk = float(await session.get_variable("ANSWEREDTIME") or 0)
                self._mark_answered(call, started, ended - talk, None)
            call.rings.append(Ring(agent_id, started, call.leg_answered_at or ended, status))
            call.ended_at = ended
            call.hung_up_by = "caller" if session.hung_up else "agent"
            call.outcome = "answered"
            self._acd.call_ended(call.call_id)
            return True
        call.rings.append(Ring(agent_id, started, ended, status))
        call.agent_id = None
        if session.hung_up or status == "CANCEL":
            raise ChannelHungUp(f"caller hung up while agent {agent_id} rang")
        self._outputs.call_event(call, "ring_no_answer", ended, agent_id=agent_id, status=status)
        self._acd.offer_failed(call.call_id, status)
        return False

    def _mark_answered(
        self, call: CallRecord, ring_started: float, at: float, agent_channel: str | None
    ) -> None:
        if call.answered_at is None:  # KPIs (ASA, service level) use the first answer
            call.ring_started_at, call.answered_at = ring_started, at
        call.leg_answered_at = at
        self._acd.offer_answered(call.call_id)
        self._outputs.call_event(
            call, "answered", at, agent_id=call.agent_id, agent_channel=agent_channel
        )

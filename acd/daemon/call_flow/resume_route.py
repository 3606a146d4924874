"""The FastAGI ``resume`` route: a caller whose daemon session ended unfinished, taken again.

The rendered ``[hotline-resume]`` sends here every caller the daemon did not mark finished
(``HOTLINE_DONE``): the daemon that held them died, stopped or gave up. They go straight back
into their queue, with their priority and the place they held (no IVR again), as the same call:
the call id is the channel's Uniqueid, so the row the first daemon wrote is continued, and the
timeline's numbering continues after the first daemon's. A caller the first daemon never queued
(it died in the IVR, or never took them) runs the IVR from the start. Bad or missing data still
queues the caller (``acd.daemon.resume_data``); it is logged, never a reason to hang up.

A standby that does not lead yet is not listening at all (``acd.app.node``: the daemon and its
FastAGI server exist only once the leadership is won): Asterisk gets a refused connection
(AGISTATUS=FAILURE) and the dialplan tries the next address.
"""

from __future__ import annotations

from collections.abc import Callable

from acd.asterisk.aio.agi_session import AgiSession
from acd.daemon.call_flow.flow import CallFlow
from acd.daemon.call_flow.ivr_route import IvrRoute
from acd.daemon.call_steps import Arrival, Identified, Step
from acd.daemon.calls import Call
from acd.daemon.clocks import Clocks
from acd.daemon.dialling import FlowSettings
from acd.daemon.ivr_port import CallerLookup
from acd.daemon.outputs import Outputs
from acd.daemon.resume_data import Resume, parse_resume
from acd.daemon.screen_pop import identify
from acd.logging import get_logger

log = get_logger(__name__)


class ResumeRoute:
    def __init__(
        self,
        flow: CallFlow,
        ivr: IvrRoute,
        outputs: Outputs,
        settings: FlowSettings,
        *,
        clocks: Clocks,
        callers: CallerLookup | None = None,
        lookup_timeout_s: float = 1.0,
        on_resume: Callable[[str], None] = lambda _call_id: None,
    ) -> None:
        """``on_resume(call_id)``: this call's row is continued here (``CallReconcile``
        stops following it)."""
        self._on_resume = on_resume
        self._flow = flow
        self._ivr = ivr
        self._outputs = outputs
        self._settings = settings
        self._clocks = clocks
        self._callers = callers
        self._lookup_timeout_s = lookup_timeout_s

    async def __call__(self, session: AgiSession) -> None:
        env = session.env
        if self._flow.draining:  # stopping too: the dialplan tries the next address, or queues
            log.info("stopping_resume_left_to_dialplan", channel=env.channel)
            return
        resume = parse_resume(
            env.args,
            uniqueid=env.uniqueid,
            now=self._clocks.wall(),
            default_queue=self._settings.default_queue,
            queue_priority=self._settings.queue_priority,
        )
        fields = {"call_id": resume.call_id, "channel": env.channel, "attempt": resume.attempt}
        if resume.problems:
            log.warning("resume_data_replaced", problems=list(resume.problems), **fields)
        number = env.callerid or ""
        self._on_resume(resume.call_id)
        if resume.queue is None:
            log.info("call_resumed_in_ivr", **fields)
            await self._ivr.take(
                session, number=number, arrived_at=resume.arrived, first_seq=resume.first_seq
            )
            return
        log.info("call_resumed", queue=resume.queue, priority=resume.priority, **fields)
        name = env.calleridname or None
        arrival = Arrival(resume.call_id, env.uniqueid, env.channel, number, name, resume.arrived)
        call = Call(arrival, first_seq=resume.first_seq, leg_base=resume.leg_base)
        await self._flow.serve(session, call, lambda s, c: self._queue(s, c, resume))

    async def _queue(self, session: AgiSession, call: Call, resume: Resume) -> None:
        assert resume.queue is not None
        profile = await identify(self._callers, call.facts.number, self._lookup_timeout_s)
        if profile is not None:
            wall = self._clocks.wall()
            self._add(call, Identified(wall, profile.name, profile.vip, profile.last_agent_id))
        await self._flow.queue_and_connect(
            session,
            call,
            resume.queue,
            resume.priority,  # the first daemon's, VIP and transfer boosts included
            profile,
            place_since=resume.since,
            queued_at=resume.since,
        )
        await self._flow.survey(session, call)

    def _add(self, call: Call, step: Step) -> None:
        """This task owns the call like ``CallFlow`` does: the same two effects of a step."""
        call.add_step(step)
        self._outputs.call_step(call, step)

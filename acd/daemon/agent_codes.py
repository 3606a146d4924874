"""Softphone feature codes over FastAGI (the ``agent`` route): log in, log out, pause with a
reason, unpause, end wrap-up, and pause/resume the recording of the agent's current call.

The dialplan sends ``agent?action=<action>[&reason=<code>]`` from the agent's own softphone, so
the agent is whoever owns the calling device: the channel ``PJSIP/1001-0000002a`` belongs to
the endpoint ``PJSIP/1001``. The agent hears a confirmation or an error tone; nothing an agent
can key crashes the daemon.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from acd.asterisk.aio.agi_session import AgiError, AgiSession
from acd.asterisk.devices import device_of as endpoint_device
from acd.daemon.recording_control import RecordingControl, RecordingRefused
from acd.daemon.service import AcdService
from acd.daemon.sound_names import FEATURE_CODE_CONFIRM, FEATURE_CODE_ERROR
from acd.engine.agent import InvalidTransition
from acd.engine.floor_inputs import AgentAction
from acd.logging import get_logger

log = get_logger(__name__)

ACTIONS: Mapping[str, AgentAction] = {a.value: a for a in AgentAction}
RECORDING_ACTIONS = frozenset({"record-pause", "record-resume"})
CONFIRM_SOUND = FEATURE_CODE_CONFIRM
ERROR_SOUND = FEATURE_CODE_ERROR


def device_of(channel: str) -> str:
    """The device behind a channel name: ``PJSIP/1001-0000002a`` -> ``PJSIP/1001``,
    ``Local/1001@ctx-0000001a;2`` -> ``Local/1001@ctx``."""
    base = channel.split(";", 1)[0]
    head, sep, tail = base.rpartition("-")
    if sep and len(tail) == 8 and all(c in "0123456789abcdef" for c in tail):
        return head
    return base


def agent_for_channel(channel: str, endpoints: Mapping[str, str]) -> str | None:
    """Find the agent whose endpoint dialled this feature code."""
    device = device_of(channel)
    for endpoint, agent_id in endpoints.items():
        if endpoint_device(endpoint) == device:
            return agent_id
    return None


class AgentFeatureCodes:
    def __init__(
        self,
        acd: AcdService,
        endpoints: Mapping[str, str],
        recording: RecordingControl | None = None,
        pause_reason: Callable[[str], str | None] = lambda given: given,
    ) -> None:
        self._acd = acd
        self._endpoints = dict(endpoints)  # endpoint -> agent id
        self._recording = recording  # None: calls are not recorded, nothing to pause
        self._pause_reason = pause_reason  # *13<code> -> the configured reason's name

    async def __call__(self, session: AgiSession) -> None:
        action = session.params.get("action", "")
        reason = session.params.get("reason") or None
        agent_id = agent_for_channel(session.env.channel, self._endpoints)
        event = ACTIONS.get(action)
        ok = False
        if agent_id is None:
            log.warning("feature_code_unknown_device", action=action, channel=session.env.channel)
        elif action in RECORDING_ACTIONS:
            ok = await self._recording_action(agent_id, action, reason)
        elif event is None:
            log.warning("feature_code_unknown_action", agent_id=agent_id, action=action)
        elif event is AgentAction.PAUSE and reason is not None and not self._pause_reason(reason):
            log.info(
                "feature_code_refused", agent_id=agent_id, action=action, error="no such reason"
            )
        else:
            if event is AgentAction.PAUSE and reason is not None:
                reason = self._pause_reason(reason)  # *132 -> "lunch"
            try:
                await self._acd.agent_input(agent_id, event, reason)
                ok = True
                log.info("feature_code_applied", agent_id=agent_id, action=action, reason=reason)
            except InvalidTransition as exc:
                log.info("feature_code_refused", agent_id=agent_id, action=action, error=str(exc))
        try:
            await session.answer()
            await session.stream_file(CONFIRM_SOUND if ok else ERROR_SOUND)
        except AgiError:
            pass  # the agent hung up already; the state change stands

    async def _recording_action(self, agent_id: str, action: str, reason: str | None) -> bool:
        if self._recording is None:
            log.info(
                "feature_code_refused",
                agent_id=agent_id,
                action=action,
                error="calls are not recorded",
            )
            return False
        try:
            if action == "record-pause":
                await self._recording.pause(agent_id=agent_id, reason=reason, by=agent_id)
            else:
                await self._recording.resume(agent_id=agent_id, by=agent_id)
        except RecordingRefused as exc:
            log.info("feature_code_refused", agent_id=agent_id, action=action, error=str(exc))
            return False
        return True

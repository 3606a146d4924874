"""Listen, whisper and barge: a supervisor's phone is originated into ChanSpy on an agent's call.

As recorded in shared/asterisk/transcripts/chanspy_events.txt: AMI ``Originate`` with
``Channel=<supervisor phone>``, ``Application=ChanSpy``, ``Data=<agent channel>,<options>``;
options ``q`` (quiet) for listening, ``qw`` for whispering to the agent, ``qB`` for barging in on
both parties, ``E`` to end with the spied channel. ChanSpyStart / ChanSpyStop are the only AMI
events and look the same for every mode, so the mode we log is the one that was asked for.

We add ``d``: apps/app_chanspy.c (ChanSpy documentation, option ``d``; ``channel_spy`` DTMF
handling) lets the spying phone switch modes with DTMF 4 = listen, 5 = whisper, 6 = barge.

Every session is audited twice (AppendAudit): when it is asked for, and at ChanSpyStop.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from acd.asterisk.ami.message import Message
from acd.daemon.ami_port import AmiActions
from acd.daemon.calls import Call
from acd.storage.commands import AppendAudit

SESSIONS_KEPT = 1000  # recent sessions listed by GET /spy; the audit log keeps them all
CHANSPY_OPTIONS = {"listen": "q", "whisper": "qw", "barge": "qB"}


class SpyMode(StrEnum):
    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"


class NotOnCall(Exception):
    """The agent has no answered call with a known channel to spy on."""


class SpyRefused(Exception):
    """Asterisk refused the Originate (an unknown supervisor endpoint, a permission)."""


def chanspy_data(agent_channel: str, mode: SpyMode) -> str:
    """ChanSpy's ``chanprefix,options``: the full channel name is a prefix matching only it."""
    return f"{agent_channel},{CHANSPY_OPTIONS[mode.value]}dE"


def agent_call(calls: Iterable[Call], agent_id: str) -> Call:
    """The agent's call in conversation whose agent channel AMI told us; else ``NotOnCall``."""
    for call in calls:
        state = call.state
        if state.agent_id == agent_id and state.talking and state.agent_channel:
            return call
    raise NotOnCall(f"agent {agent_id} is not on a call")


@dataclass
class SpySession:
    session_id: int
    who: str  # the API token's name
    role: str
    agent_id: str
    mode: SpyMode
    endpoint: str  # the supervisor's phone
    agent_channel: str
    call_id: str
    requested_at: float
    started_at: float | None = None
    ended_at: float | None = None
    spyer_channel: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "session_id": self.session_id,
            "who": self.who,
            "agent": self.agent_id,
            "mode": self.mode.value,
            "from": self.endpoint,
            "agent_channel": self.agent_channel,
            "call_id": self.call_id,
            "requested_at": self.requested_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
        }


class SupervisorDesk:
    """Starts spy sessions and follows them through ChanSpyStart / ChanSpyStop."""

    def __init__(
        self,
        ami: AmiActions | None,
        audit: Callable[[AppendAudit], None],
        *,
        clock: Callable[[], float],
    ) -> None:
        self._ami = ami
        self._audit = audit
        self._clock = clock
        self._ids = itertools.count(1)
        self.sessions: deque[SpySession] = deque(maxlen=SESSIONS_KEPT)

    async def spy(
        self,
        calls: Iterable[Call],
        *,
        who: str,
        role: str,
        agent_id: str,
        mode: SpyMode,
        endpoint: str,
    ) -> SpySession:
        call = agent_call(calls, agent_id).state
        if self._ami is None:
            raise ConnectionError("no AMI connection: supervisor actions are unavailable")
        assert call.agent_channel is not None
        now = self._clock()
        session = SpySession(
            next(self._ids),
            who,
            role,
            agent_id,
            mode,
            endpoint,
            call.agent_channel,
            call.call_id,
            now,
        )
        # Async: the reply comes at once; the phone rings while the supervisor picks up.
        reply = await self._ami.action(
            "Originate",
            [
                ("Channel", endpoint),
                ("Application", "ChanSpy"),
                ("Data", chanspy_data(call.agent_channel, mode)),
                ("Async", "true"),
            ],
            timeout=10,
        )
        if not reply.ok:  # e.g. "Originate failed": no session began, the refusal is audited
            session.ended_at = now
            self._log(session, "refused", now)
            raise SpyRefused(f"Asterisk refused to call {endpoint}: {reply.message}")
        self.sessions.append(session)
        self._log(session, "start", now)
        return session

    def on_event(self, event: Message) -> None:
        """AMI event callback: cheap, never blocks."""
        if event.name not in ("ChanSpyStart", "ChanSpyStop"):
            return
        spyee = event.get("SpyeeChannel")
        spyer = event.get("SpyerChannel")
        now = self._clock()
        # newest first: a session whose phone was never picked up must not take a later start
        for session in reversed(self.sessions):
            if session.agent_channel != spyee or session.ended_at is not None:
                continue
            if event.name == "ChanSpyStart" and session.started_at is None:
                session.started_at, session.spyer_channel = now, spyer
                return
            if event.name == "ChanSpyStop" and session.spyer_channel == spyer:
                session.ended_at = now
                self._log(session, "stop", now)
                return

    def _log(self, session: SpySession, step: str, at: float) -> None:
        detail = {"mode": session.mode.value, "from": session.endpoint, "call_id": session.call_id}
        if step == "stop" and session.started_at is not None:
            detail["duration_s"] = f"{at - session.started_at:.1f}"
        self._audit(
            AppendAudit(
                idempotency_key=f"spy:{session.requested_at:.6f}:{session.session_id}:{step}",
                who=session.who,
                role=session.role,
                action=f"spy.{session.mode.value}" if step == "start" else f"spy.{step}",
                target=f"agent:{session.agent_id}",
                reason=json.dumps(detail, sort_keys=True),
                at=datetime.fromtimestamp(at, UTC),
            )
        )

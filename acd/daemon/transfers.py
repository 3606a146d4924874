"""Transferring a caller in conversation to another queue or to a named agent.

The caller's FastAGI session is blocked in ``EXEC Dial`` for the whole conversation
(``acd.daemon.dialling``), so a transfer is daemon-driven. ``TransferDesk`` (the HTTP side)
checks the request against the call's queue's rules and hands it to the call as a value
(``TransferAsk`` on ``CallSignals.requests``); the call flow decides (``refusal``): if the caller
is talking to an agent, it hangs up the AGENT's leg with AMI ``Hangup`` on the channel DialEnd
reported (``AgentLeg``; recorded in transcripts/ami_login_and_actions.txt, 28e; main/manager.c
``action_hangup`` soft-hangs-up only that channel) and answers the request. Dial then returns
ANSWER with the caller still up: the first agent wraps up as after any call, the transfer is a
step of the call, and the caller queues again (``requeue_for``), to the target queue, or kept
for the named agent (``designated_agent``). Nothing is undone: the leg simply ended.

A transfer is new work: the caller waits from the transfer on, with the target queue's priority
raised by its ``transfers.priority_boost`` so that they are not sent to the back. KPIs keep the
FIRST answer; talk is the sum of the legs (``acd.daemon.call_state``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from acd.asterisk.aio.ami_session import AmiError
from acd.daemon.ami_port import ActionResult, AmiActions
from acd.daemon.call_state import CallState
from acd.daemon.calls import CallRegistry, TransferAccepted, TransferAsk
from acd.daemon.dialling import FlowSettings
from acd.engine.model import VIP_PRIORITY_BOOST
from acd.logging import get_logger
from acd.settings import names
from acd.settings.schema_routing import AGENTS_TARGET, TransferRules
from acd.storage.commands import AppendAudit

log = get_logger(__name__)

TargetKind = Literal["queue", "agent"]
UNRESTRICTED_ROLES = frozenset({"supervisor", "qa", "admin"})


class TransferError(Exception):
    """A refused transfer; ``status`` is the HTTP status the API answers with."""

    status = 409


class UnknownTarget(TransferError):
    status = 404


class NotInConversation(TransferError):
    status = 409


class TransferNotAllowed(TransferError):
    status = 403


class ReasonRequired(TransferError):
    status = 422


def check_transfer(
    rules: TransferRules, role: str, kind: TargetKind, name: str, reason: str | None
) -> None:
    """The call's queue policy (pure): raises ``ReasonRequired`` or ``TransferNotAllowed``."""
    if rules.require_reason and not (reason or "").strip():
        raise ReasonRequired("a reason is required to transfer calls of this queue")
    if role in UNRESTRICTED_ROLES or rules.agents_may_transfer_to is None:
        return
    allowed = rules.agents_may_transfer_to
    wanted = AGENTS_TARGET if kind == "agent" else name
    if wanted not in allowed:
        shown = ", ".join(allowed) or "nowhere"
        raise TransferNotAllowed(f"agents may transfer these calls only to: {shown}")


REPLY_WITHIN_S = 15.0  # the call flow answers at once; Asterisk's Hangup takes milliseconds


def refusal(call: CallState, ask: TransferAsk) -> TransferError | None:
    """Why the call cannot be transferred now (pure; the call flow asks), or None."""
    if not call.talking or call.agent_channel is None or call.transfer_asked is not None:
        return NotInConversation(f"call {call.call_id} is not in a conversation with an agent")
    if ask.kind == "agent" and ask.name == call.agent_id:
        return NotInConversation(f"agent {ask.name} is already on call {call.call_id}")
    return None


@dataclass(frozen=True, slots=True)
class Requeue:
    """Where a transferred caller waits next."""

    queue: str
    priority: int
    designated_agent: str | None


def requeue_for(call: CallState, target: str, settings: FlowSettings) -> Requeue:
    """The next queue entry of a caller transferred to ``target`` ("queue:q" or "agent:a")."""
    kind, _, name = target.partition(":")
    boost = settings.transfer_priority_boost
    if kind == "agent":
        queue = call.queue or settings.default_queue
        return Requeue(queue, call.priority + boost.get(queue, 0), name)
    priority = settings.queue_priority.get(name, 0) + boost.get(name, 0)
    if call.vip:
        priority += VIP_PRIORITY_BOOST
    return Requeue(name, priority, None)


class AgentLeg:
    """Hangs up the agent's leg of a conversation (the call flow's side of a transfer).

    With it, it names that leg on the caller's channel (``HOTLINE_TRANSFERRED``, AMI ``Setvar``):
    the Dial then returns ``DIALSTATUS=ANSWER`` with ``DIALEDPEERNAME`` equal to it, and the
    rendered ``[hotline-resume]`` offers the caller to a daemon again instead of letting them
    go, should this daemon die before it queues them again (the caller's FastAGI session is
    blocked in the Dial until the leg ends, so only AMI can mark the channel beforehand). A mark
    on a conversation that was not transferred after all would have a finished caller offered
    again: the call flow then ends the session with ``HOTLINE_DONE`` (``Call.transfer_marked``)."""

    def __init__(self, ami: Callable[[], AmiActions | None]) -> None:
        self._ami = ami

    async def hang_up(self, call: CallState) -> None:
        """Raises ``NotInConversation`` when the agent's leg is already gone, ``ConnectionError``
        (or an ``AmiError``) when Asterisk cannot be reached."""
        ami = self._ami()
        leg = call.agent_channel
        if ami is None or leg is None:
            raise ConnectionError("no AMI connection: calls cannot be transferred")
        # Both written before either answer comes (one AMI session: Asterisk runs them in that
        # order), so no round trip separates the mark from the Hangup.
        marked, hung_up = await asyncio.gather(
            self._mark(ami, call, leg),
            ami.action("Hangup", [("Channel", leg)], timeout=10),
            return_exceptions=True,
        )
        if isinstance(hung_up, BaseException):
            raise hung_up
        if not hung_up.ok:  # "No such channel": the agent hung up first, the call is over
            if not isinstance(marked, BaseException) and marked.ok:
                await self._unmark(ami, call)
            raise NotInConversation(f"call {call.call_id}: the agent's leg is already gone")
        if isinstance(marked, BaseException) or not marked.ok:
            # transferred all the same; unmarked, a daemon dying before the caller is queued
            # again lets them go (as before the mark existed)
            why = str(marked) if isinstance(marked, BaseException) else marked.message
            log.warning("transfer_not_marked", call_id=call.call_id, error=why)

    async def _unmark(self, ami: AmiActions, call: CallState) -> None:
        try:
            cleared = await self._mark(ami, call, "")
        except (AmiError, OSError) as exc:
            cleared = None
            log.warning("transfer_mark_left", call_id=call.call_id, error=str(exc))
        if cleared is not None and not cleared.ok:
            log.warning("transfer_mark_left", call_id=call.call_id, error=cleared.message)

    @staticmethod
    async def _mark(ami: AmiActions, call: CallState, leg: str) -> ActionResult:
        marker = [("Channel", call.facts.channel), ("Variable", names.VAR_TRANSFERRED)]
        return await ami.action("Setvar", [*marker, ("Value", leg)], timeout=10)


class TransferDesk:
    """The HTTP side: checks a transfer request and hands it to the call."""

    def __init__(
        self,
        registry: CallRegistry,
        rules: Callable[[str | None], TransferRules],
        targets: tuple[Collection[str], Collection[str]],  # (queue names, agent ids)
        audit: Callable[[AppendAudit], None] | None,
        *,
        clock: Callable[[], float],
    ) -> None:
        self._registry = registry
        self._rules = rules
        self._queues, self._agents = targets
        self._audit = audit
        self._clock = clock

    async def request(
        self, call_id: str, kind: TargetKind, name: str, reason: str | None, *, who: str, role: str
    ) -> TransferAccepted:
        call = self._registry.get(call_id)
        if call is None:
            raise UnknownTarget(f"unknown call {call_id}")
        if name not in (self._queues if kind == "queue" else self._agents):
            raise UnknownTarget(f"unknown {kind} {name}")
        state = call.state
        if not state.talking:
            raise NotInConversation(f"call {call_id} is not in a conversation with an agent")
        check_transfer(self._rules(state.queue), role, kind, name, reason)
        reply: asyncio.Future[TransferAccepted] = asyncio.get_running_loop().create_future()
        call.signals.requests.put_nowait(TransferAsk(kind, name, reason, who, reply))
        async with asyncio.timeout(REPLY_WITHIN_S):
            accepted = await reply  # the call flow's answer (or its refusal, raised)
        if self._audit is not None:
            now = self._clock()
            detail = {"call_id": call_id, "from_agent": accepted.from_agent, "reason": reason}
            self._audit(
                AppendAudit(
                    idempotency_key=f"transfer:{call_id}:{now:.6f}",
                    who=who,
                    role=role,
                    action="call.transfer",
                    target=f"{kind}:{name}",
                    reason=json.dumps(detail, sort_keys=True),
                    at=datetime.fromtimestamp(now, UTC),
                )
            )
        return accepted

"""Transferring a caller in conversation to another queue or to a named agent.

The caller's FastAGI session is blocked in ``EXEC Dial`` for the whole conversation
(``acd.daemon.dialling``), so a transfer is daemon-driven: the request records the target on the
live ``CallRecord`` and hangs up the AGENT's leg with AMI ``Hangup`` on the channel DialEnd
reported (recorded in transcripts/ami_login_and_actions.txt, 28e; main/manager.c
``action_hangup`` soft-hangs-up only that channel). Dial then returns ANSWER with the caller
still up, and the call flow calls ``resume_after_transfer``: the first agent wraps up as after
any call, the transfer is logged, and the caller queues again, to the target queue, or kept for
the named agent (``designated_agent``).

A transfer is new work: the caller waits from the transfer on, with the target queue's priority
raised by its ``transfers.priority_boost`` so that they are not sent to the back. KPIs keep the
FIRST answer (``CallRecord.answered_at``); talk stops at the transfer and restarts at the next
answer (``CallRecord.facts``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from acd.daemon.calls import CallRecord, CallRegistry
from acd.daemon.dialling import FlowSettings
from acd.daemon.outputs import Outputs
from acd.engine.model import VIP_PRIORITY_BOOST
from acd.settings.schema_routing import AGENTS_TARGET, TransferRules
from acd.storage.commands import AppendAudit

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


class ActionResult(Protocol):
    @property
    def ok(self) -> bool: ...


class AmiActions(Protocol):
    async def action(
        self,
        name: str,
        headers: Iterable[tuple[str, str]] = (),
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - AmiClient's signature
    ) -> ActionResult: ...


@dataclass(frozen=True, slots=True)
class Requeue:
    """Where a transferred caller waits next."""

    queue: str
    priority: int
    designated_agent: str | None


class TransferDesk:
    """Validates a transfer request, records its target on the call and hangs up the agent."""

    def __init__(
        self,
        registry: CallRegistry,
        ami: AmiActions | None,
        rules: Callable[[str | None], TransferRules],
        targets: tuple[Collection[str], Collection[str]],  # (queue names, agent ids)
        audit: Callable[[AppendAudit], None] | None,
        *,
        clock: Callable[[], float],
    ) -> None:
        self._registry = registry
        self._ami = ami
        self._rules = rules
        self._queues, self._agents = targets
        self._audit = audit
        self._clock = clock

    async def request(
        self, call_id: str, kind: TargetKind, name: str, reason: str | None, *, who: str, role: str
    ) -> CallRecord:
        call = self._registry.get(call_id)
        if call is None:
            raise UnknownTarget(f"unknown call {call_id}")
        if name not in (self._queues if kind == "queue" else self._agents):
            raise UnknownTarget(f"unknown {kind} {name}")
        if call.agent_channel is None or call.ended_at is not None or call.transfer_to:
            raise NotInConversation(f"call {call_id} is not in a conversation with an agent")
        if kind == "agent" and name == call.agent_id:
            raise NotInConversation(f"agent {name} is already on call {call_id}")
        check_transfer(self._rules(call.queue), role, kind, name, reason)
        if self._ami is None:
            raise ConnectionError("no AMI connection: calls cannot be transferred")
        channel = call.agent_channel
        call.transfer_to, call.transfer_reason, call.transfer_by = f"{kind}:{name}", reason, who
        try:
            result = await self._ami.action("Hangup", [("Channel", channel)], timeout=10)
        except BaseException:
            call.transfer_to = call.transfer_reason = call.transfer_by = None
            raise
        if not result.ok:  # "No such channel": the agent hung up first, the call is over
            call.transfer_to = call.transfer_reason = call.transfer_by = None
            raise NotInConversation(f"call {call_id}: the agent's leg is already gone")
        if self._audit is not None:
            now = self._clock()
            detail = {"call_id": call_id, "from_agent": call.agent_id, "reason": reason}
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
        return call


def resume_after_transfer(
    call: CallRecord, now: float, outputs: Outputs, settings: FlowSettings, *, caller_gone: bool
) -> Requeue | None:
    """After an answered leg: the caller's next queue if a transfer was asked for, else None.

    The leg's agent already had ``call_ended`` (wrap-up); a caller who hung up meanwhile ends
    the call as usual and the transfer is not done (the audit log still has the request)."""
    target, reason, by = call.transfer_to, call.transfer_reason, call.transfer_by
    call.transfer_to = call.transfer_reason = call.transfer_by = None
    if target is None or caller_gone:
        return None
    kind, _, name = target.partition(":")
    from_agent = call.agent_id
    entry = {"from_agent": from_agent, "target": target, "reason": reason, "by": by, "at": now}
    call.transfers.append(entry)
    leg_start = call.leg_answered_at if call.leg_answered_at is not None else now
    call.talk_before_s += now - leg_start
    # The call goes on: what the ended leg set must not decide it (the last leg does).
    call.ended_at = call.hung_up_by = call.agent_channel = call.agent_id = None
    call.leg_answered_at = None
    outputs.call_event(
        call, "transferred", now, agent_id=from_agent,
        from_agent=from_agent, target=target, reason=reason, by=by,
    )  # fmt: skip
    boost = settings.transfer_priority_boost
    if kind == "agent":
        queue = call.queue or settings.default_queue
        return Requeue(queue, call.priority + boost.get(queue, 0), name)
    priority = settings.queue_priority.get(name, 0) + boost.get(name, 0)
    if call.vip:
        priority += VIP_PRIORITY_BOOST
    return Requeue(name, priority, None)

"""Which booked call-backs to dial now, and what a failed dial leads to: plain decisions.

Pure: no database, no AMI, no clock (the Originate headers and write commands are built here as
plain values). The scheduler (``acd.daemon.callbacks``) passes ``now``, the
polite calling hours as epoch intervals (``wait_policy.calling_hours``), the ready agents per queue
and the call-backs already in progress; these functions say which call-backs go and what follows.

Rules: a call-back goes once its due time (when the caller would have reached the head of the
queue) has come, only inside calling hours, earliest booking first, and at most as many call-backs
of a queue are in progress as that queue has ready agents, so the customer who answers is not
kept waiting. A number that is not a plain phone number is never dialled (it is put into a dial
string). A failed dial is retried after ``retry_after_s`` until ``max_attempts`` dials were made.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from acd.daemon.call_events import utc
from acd.engine.floor import Floor
from acd.settings import names
from acd.storage.commands import UpdateCallback

DIALABLE = re.compile(r"^\+?[0-9]{3,20}$")
State = Literal["pending", "dialing", "done", "failed", "cancelled"]


@dataclass(frozen=True, slots=True)
class Booking:
    """One ``callbacks`` row as the scheduler sees it (times as epoch seconds)."""

    callback_id: str
    call_id: str | None
    number: str
    queue: str
    requested_at: float
    due_at: float | None  # None: as soon as possible
    attempts: int = 0
    state: State = "pending"


def dialable(number: str, allowed: Callable[[str], bool] | None = None) -> bool:
    """A plain phone number, and one the configured allow-list (``callbacks.allowed_numbers``)
    lets the daemon call: nothing else is ever put into a dial string."""
    return DIALABLE.match(number) is not None and (allowed is None or allowed(number))


def in_hours(now: float, calling_hours: Iterable[tuple[float, float]]) -> bool:
    return any(start <= now < end for start, end in calling_hours)


def to_place(
    bookings: Iterable[Booking],
    now: float,
    *,
    calling_hours: Sequence[tuple[float, float]],
    ready_agents: Mapping[str, int],
    in_progress: Mapping[str, int],
    allowed: Callable[[str], bool] | None = None,
) -> list[Booking]:
    """The pending, due, dialable call-backs to dial now, earliest booking first."""
    if not in_hours(now, calling_hours):
        return []
    due = sorted(
        (
            b
            for b in bookings
            if b.state == "pending"
            and (b.due_at is None or b.due_at <= now)
            and dialable(b.number, allowed)
        ),
        key=lambda b: (b.due_at or b.requested_at, b.requested_at, b.callback_id),
    )
    busy: Counter[str] = Counter(in_progress)
    chosen: list[Booking] = []
    for booking in due:
        if busy[booking.queue] < ready_agents.get(booking.queue, 0):
            busy[booking.queue] += 1
            chosen.append(booking)
    return chosen


def undialable(
    bookings: Iterable[Booking], allowed: Callable[[str], bool] | None = None
) -> list[Booking]:
    """Pending call-backs whose number can never be dialled: they fail at once."""
    return [b for b in bookings if b.state == "pending" and not dialable(b.number, allowed)]


def dialled(booking: Booking, now: float, retry_after_s: float) -> Booking:
    """The dial went out: one more attempt; ``due_at`` becomes the retry time in case no
    outcome is ever learnt (a daemon restart finds the row ``dialing`` and retries from then)."""
    return replace(
        booking, state="dialing", attempts=booking.attempts + 1, due_at=now + retry_after_s
    )


def after_failure(
    booking: Booking, now: float, *, max_attempts: int, retry_after_s: float
) -> Booking:
    """No answer, busy, a failed dial or the customer left before an agent: retry or give up."""
    if booking.attempts >= max_attempts:
        return replace(booking, state="failed")
    return replace(booking, state="pending", due_at=now + retry_after_s)


def stale_dialing(booking: Booking, now: float) -> bool:
    """A row left ``dialing`` by an earlier run whose retry time has come (outcome unknown)."""
    return booking.state == "dialing" and booking.due_at is not None and booking.due_at <= now


def recovered(booking: Booking, *, max_attempts: int) -> Booking:
    """A stale ``dialing`` row counts as a failed attempt whose retry time (``due_at``) has
    come: pending again at once, or failed when no attempt is left."""
    return replace(booking, state="failed" if booking.attempts >= max_attempts else "pending")


def ready_agents(floor: Floor, _now: float) -> dict[str, int]:
    """Routable (ready, reachable) agents holding each queue's skill (run in the owner task)."""
    return {
        name: sum(
            1
            for agent in floor.specs.values()
            if queue.skill in agent.skills and floor.agents[agent.id].routable
        )
        for name, queue in floor.queues.items()
    }


def originate_headers(
    booking: Booking, *, channel: str, caller_id: str | None, ring_timeout_s: float
) -> list[tuple[str, str]]:
    """AMI Originate (Async) of the customer into the ``hotline-callback`` context."""
    headers = [
        ("Channel", channel.format(number=booking.number)),
        ("Context", names.CONTEXT_CALLBACK),
        ("Exten", "s"),
        ("Priority", "1"),
        ("Timeout", str(round(ring_timeout_s * 1000))),  # milliseconds
        ("Async", "true"),
        ("Variable", f"{names.VAR_CALLBACK_ID}={booking.callback_id}"),
        ("Variable", f"{names.VAR_QUEUE}={booking.queue}"),  # for the dialplan's fallback
    ]
    if caller_id:
        headers.append(("CallerID", caller_id))
    return headers


def update_command(booking: Booking) -> UpdateCallback:
    """The row as ``booking`` says; one key per (attempt, state), so a replay is a no-op."""
    return UpdateCallback(
        idempotency_key=f"cb:{booking.callback_id}:{booking.attempts}:{booking.state}",
        callback_id=booking.callback_id,
        state=booking.state,
        attempts=booking.attempts,
        due_at=utc(booking.due_at) if booking.due_at is not None else None,
    )

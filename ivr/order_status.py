"""Order status self-service: the caller keys an order number and ``#``, hears where it stands.

Pure parts: ``parse_order_number``, ``status_speech`` (what to say for an order) and
``OrderDialog`` (one retry for an unknown number, then an agent). The shell, ``run_order_status``,
drives them over a FastAGI session. Orders come from a pluggable ``OrderStatusSource``; the
default reads the ``orders`` table the shop integration fills.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acd.asterisk.aio.agi_session import AgiSession
from acd.logging import get_logger
from acd.storage.models import Order
from ivr.agi_io import collect, play
from ivr.prompts import slug, sound

log = get_logger(__name__)

ORDER_STATUSES = ("placed", "paid", "shipped", "completed", "cancelled")
MAX_ORDER_DIGITS = 20
ENTRY_TIMEOUT_S = 10.0  # per key: people read order numbers off a screen or an e-mail
MAX_ATTEMPTS = 2  # an unknown number gets one retry, then an agent


@dataclass(frozen=True, slots=True)
class OrderInfo:
    order_number: str
    status: str
    courier: str | None = None


class OrderStatusSource(Protocol):
    async def status(self, order_number: str) -> OrderInfo | None: ...


class TableOrderStatusSource:
    """Orders from the ``orders`` table (read-only)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def status(self, order_number: str) -> OrderInfo | None:
        async with self._sessions() as db:
            row = await db.get(Order, order_number)
        if row is None:
            return None
        return OrderInfo(row.order_number, row.status, row.courier)


# --- pure decisions ---------------------------------------------------------------------------


def parse_order_number(digits: str) -> str | None:
    """The keyed order number, or None when it cannot be one (empty, ``*``, too long)."""
    if not digits or not digits.isdigit() or not digits.isascii():
        return None
    return digits if len(digits) <= MAX_ORDER_DIGITS else None


@dataclass(frozen=True, slots=True)
class PlayFile:
    name: str


@dataclass(frozen=True, slots=True)
class SayDigits:
    digits: str


Speech = PlayFile | SayDigits


def status_speech(order: OrderInfo, language: str) -> tuple[Speech, ...] | None:
    """ "Order <digits> has been shipped by <courier>"; None for a status we have no prompt for."""
    if order.status not in ORDER_STATUSES:
        return None
    parts: list[Speech] = [
        PlayFile(sound(language, "order-number-is")),
        SayDigits(order.order_number),
        PlayFile(sound(language, f"order-status-{order.status}")),
    ]
    courier = slug(order.courier) if order.courier else ""
    if order.status == "shipped" and courier:
        parts += [PlayFile(sound(language, "order-courier")), PlayFile(sound(language, courier))]
    return tuple(parts)


Step = Literal["speak", "retry", "agent"]


class OrderDialog:
    """Counts attempts: a number that is malformed or unknown gets one retry, then an agent."""

    def __init__(self, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.max_attempts = max_attempts
        self.attempts = 0

    def entered(self, order: OrderInfo | None) -> Step:
        self.attempts += 1
        if order is not None:
            return "speak"
        return "retry" if self.attempts < self.max_attempts else "agent"


# --- the shell ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderResult:
    """``told``: the caller heard the status; ``agent``: hand over (last keyed number, if any)."""

    kind: Literal["told", "agent"]
    order_number: str | None
    attempts: int
    status: str | None = None


async def run_order_status(
    session: AgiSession, source: OrderStatusSource, *, language: str
) -> OrderResult:
    dialog = OrderDialog()
    keyed: str | None = None
    prompts: tuple[str, ...] = (sound(language, "order-enter-number"),)
    while True:
        keys = await collect(
            session, prompts, timeout_s=ENTRY_TIMEOUT_S, max_digits=MAX_ORDER_DIGITS
        )
        number = parse_order_number(keys.digits)
        order = await source.status(number) if number is not None else None
        keyed = number or keyed
        step = dialog.entered(order)
        if step == "speak" and order is not None:
            speech = status_speech(order, language)
            if speech is None:  # a status the shop added that we cannot say: a person can
                log.warning(
                    "order_status_unknown", order_number=order.order_number, status=order.status
                )
                return OrderResult("agent", order.order_number, dialog.attempts, order.status)
            await _say(session, speech)
            return OrderResult("told", order.order_number, dialog.attempts, order.status)
        if step == "agent":
            await play(session, (sound(language, "order-transfer"),))
            return OrderResult("agent", keyed, dialog.attempts)
        prompts = (sound(language, "order-not-found"), sound(language, "order-enter-number"))


async def _say(session: AgiSession, speech: tuple[Speech, ...]) -> None:
    for part in speech:
        if isinstance(part, SayDigits):
            await session.say_digits(part.digits)
        else:
            await play(session, (part.name,))

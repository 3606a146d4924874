"""The ``callbacks`` section of ``queues.yaml``: how booked call-backs are placed.

A caller who keeps their place with a call-back is dialled back by the daemon (AMI ``Originate``
of ``channel`` with the number filled in, into the ``hotline-callback`` context) when their turn
comes, inside polite calling hours, retried a few times when nobody answers.
"""

from __future__ import annotations

import re
import string
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from acd.settings.common import FrozenModel, PositiveSeconds

# A dial string with the customer's number as the only placeholder, e.g. PJSIP/{number}@trunk
# or Local/{number}@outbound/n (technology/resource, as Originate's Channel header takes it).
_CHANNEL = re.compile(r"^[A-Za-z][A-Za-z0-9]*/\S+$")


def _check_channel(value: str) -> str:
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
    except ValueError:  # unbalanced braces
        fields = []
    if fields != ["number"] or not _CHANNEL.match(value):
        raise ValueError(
            "expected a dial string with one {number} placeholder, e.g."
            f" 'PJSIP/{{number}}@trunk', got {value!r}"
        )
    return value


Hour = Annotated[int, Field(ge=0, le=24)]


def _check_patterns(value: tuple[str, ...]) -> tuple[str, ...]:
    for pattern in value:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"expected a regular expression, got {pattern!r}: {exc}") from None
    return value


# National numbers only (no 00/+ international prefix): international premium-rate numbers are
# the usual toll-fraud target. Widen it deliberately in queues.yaml if you call abroad.
DEFAULT_ALLOWED_NUMBERS = (r"0?[1-9][0-9]{2,14}",)


class CallbackSettings(FrozenModel):
    channel: Annotated[str, AfterValidator(_check_channel)] = "PJSIP/{number}@trunk"
    caller_id: str | None = None  # shown to the customer, e.g. '"Hotline" <4008001234>'
    max_attempts: int = Field(default=3, ge=1, le=10)
    retry_after_s: PositiveSeconds = 600.0  # after no answer / busy / a failed dial
    ring_timeout_s: PositiveSeconds = 30.0  # Originate Timeout: how long the customer rings
    # Local hours (hotline.yaml timezone), [start, end): nobody is called outside them.
    calling_hours: tuple[Hour, Hour] = (9, 20)
    slot_capacity: int = Field(default=4, ge=1)  # call-backs booked per 15-minute slot
    check_every_s: PositiveSeconds = 15.0  # how often booked call-backs are looked at
    # Numbers the daemon may ever dial back: each a regular expression the whole number must
    # match. Anything else is never dialled (the booking fails and is logged).
    allowed_numbers: Annotated[
        tuple[str, ...], AfterValidator(_check_patterns), Field(min_length=1)
    ] = DEFAULT_ALLOWED_NUMBERS

    def number_allowed(self, number: str) -> bool:
        return any(re.fullmatch(p, number) for p in self.allowed_numbers)

    @model_validator(mode="after")
    def _hours_ordered(self) -> CallbackSettings:
        start, end = self.calling_hours
        if not start < end:
            raise ValueError(
                f"calling_hours expected [start, end) with start < end, got [{start}, {end}]"
            )
        return self

"""``hours.yaml`` (when queues are open) and ``targets.yaml`` (KPI targets for reports)."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from acd.settings.common import (
    Fraction,
    FrozenModel,
    Identifier,
    PositiveSeconds,
    Prompts,
    TimeZoneName,
)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def _parse_span(value: str) -> tuple[dt.time, dt.time | None]:
    match = _SPAN.match(value)
    if match is None:
        raise ValueError(f"expected an opening span like '09:00-18:00', got {value!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start = dt.time(h1, m1)
    if h2 == 24 and m2 == 0:
        return start, None  # None: until midnight
    if h2 == 24:
        raise ValueError(f"expected an end no later than 24:00, got {value!r}")
    end = dt.time(h2, m2)
    if end <= start:
        raise ValueError(f"expected the end after the start in {value!r}")
    return start, end


OpeningSpan = Annotated[str, AfterValidator(lambda v: (_parse_span(v), v)[1])]


class Holiday(FrozenModel):
    date: dt.date
    name: str = ""


class Calendar(FrozenModel):
    name: Identifier
    timezone: TimeZoneName
    # Days left out are closed all day. Spans are local time, "HH:MM-HH:MM", end exclusive.
    weekly: dict[Weekday, tuple[OpeningSpan, ...]]
    holidays: tuple[Holiday, ...] = ()
    closed_message: Prompts
    offer_callback: bool = True  # when closed, offer a call-back instead of only the message

    def spans(self, day: Weekday) -> tuple[tuple[dt.time, dt.time | None], ...]:
        """Parsed opening spans of ``day``; an end of None means midnight."""
        return tuple(_parse_span(s) for s in self.weekly.get(day, ()))

    def is_open(self, when: dt.datetime) -> bool:
        """Whether ``when`` (timezone-aware; the caller passes the clock) is in opening hours."""
        if when.tzinfo is None:
            raise ValueError("is_open needs a timezone-aware datetime")
        local = when.astimezone(zoneinfo.ZoneInfo(self.timezone))
        if any(holiday.date == local.date() for holiday in self.holidays):
            return False
        now = local.time().replace(tzinfo=None)
        return any(
            start <= now and (end is None or now < end)
            for start, end in self.spans(WEEKDAYS[local.weekday()])
        )

    @model_validator(mode="after")
    def _holidays_unique(self) -> Calendar:
        dates = [h.date for h in self.holidays]
        if len(set(dates)) != len(dates):
            raise ValueError("holidays expected without duplicate dates")
        return self


class HoursFile(FrozenModel):
    """The whole of ``hours.yaml``."""

    calendars: tuple[Calendar, ...] = Field(min_length=1)


class RingTarget(FrozenModel):
    rings: int = Field(default=3, ge=1)
    target: Fraction = 0.95


class TargetsFile(FrozenModel):
    """The whole of ``targets.yaml``: KPI targets for wallboards and reports."""

    service_level_s: PositiveSeconds = 15.0  # answered within this many seconds ...
    service_level: Fraction = 0.90  # ... for this fraction of offered calls
    answered_within_rings: RingTarget = RingTarget()
    answer_rate: Fraction = 0.90
    aht_s: PositiveSeconds = 180.0  # average handle time (talk + hold + wrap-up)
    csat: Fraction = 0.95
    fcr: Fraction = 0.85  # first-contact resolution
    short_abandon_s: PositiveSeconds = 5.0  # abandons quicker than this are not counted against SL

    @model_validator(mode="before")
    @classmethod
    def _not_empty(cls, data: Any) -> Any:
        # an empty targets.yaml is most likely a mistake, not "use every default"
        if isinstance(data, dict) and not data:
            raise ValueError("expected KPI targets, found an empty file")
        return data

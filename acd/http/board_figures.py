"""The wallboard's KPI figures from the database, refreshed at most every ``refresh_s`` and shared
by every screen: per queue today and over the last 15 and 30 minutes, calls each agent handled
today, and call-backs still to be made.

The figures are ``acd.reports.build_reports`` over the stored calls (one fetch for the three
periods), so they are the numbers ``hotline report`` prints for the same period; the live part of
the wallboard (waiting callers, agents' states, current calls) is read from the floor instead.
Reads go through the daemon's read-only engine: they never take SQLite's write lock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acd.http import wallboard
from acd.logging import get_logger
from acd.reports.build import build_reports
from acd.reports.config import report_config
from acd.settings.settings import Settings
from acd.storage.models import Callback

log = get_logger(__name__)
PENDING_CALLBACKS = ("pending", "dialing")  # booked, not yet reached
COST_SHARE = 0.05  # at most this share of the time goes to refreshing the figures


@dataclass(frozen=True)
class Figures:
    at: float | None  # when they were computed (None: never, e.g. no database)
    queues: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    handled_today: dict[str, int] = field(default_factory=dict)
    callbacks_pending: dict[str, int] = field(default_factory=dict)


class BoardFigures:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession] | None,
        *,
        clock: Callable[[], float],
        refresh_s: float,
        warn_margin: float,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._clock = clock
        self._refresh_s = refresh_s
        self._warn_margin = warn_margin
        self._config = report_config(settings)
        self._targets = {q.name: q.service_level.target for q in settings.queues}
        self._last = Figures(None, self._empty())
        self._lock = asyncio.Lock()
        self._took_s = 0.0  # how long the last refresh took

    def _empty(self) -> dict[str, dict[str, dict[str, Any]]]:
        return wallboard.queue_figures({}, self._targets, self._warn_margin)

    async def get(self) -> Figures:
        """The figures, at most ``refresh_s`` old (or, on a day so long that a refresh takes
        a while, ``COST_SHARE`` of the time at most goes to refreshing); screens asking at
        once share one refresh."""
        async with self._lock:
            at = self._last.at
            wait = max(self._refresh_s, self._took_s / COST_SHARE)
            if self._sessions is None or (at is not None and self._clock() - at < wait):
                return self._last
            began = time.monotonic()
            try:
                self._last = await self._compute(self._sessions, self._clock())
            except Exception as exc:  # a database outage shows the last figures, never a 500
                log.warning("wallboard_figures_failed", error=repr(exc))
            self._took_s = time.monotonic() - began
            return self._last

    async def _compute(self, sessions: async_sessionmaker[AsyncSession], now: float) -> Figures:
        when = datetime.fromtimestamp(now, UTC)
        config = self._config
        periods = wallboard.periods(when, config.tz)
        common: dict[str, Any] = {
            "as_of": when,
            "settings": config.kpi,
            "ring_limits": config.ring_limits,
            "tz": config.tz,
        }
        async with sessions() as session:
            conn = await session.connection()
            reports = await build_reports(
                conn,
                {**periods, "agents_today": periods["today"]},
                by={**dict.fromkeys(periods, "queue"), "agents_today": "agent"},
                **common,
            )
            query = (
                select(Callback.queue, func.count())
                .where(Callback.state.in_(PENDING_CALLBACKS))
                .group_by(Callback.queue)
            )
            pending = {str(q): int(n) for q, n in await session.execute(query)}
        return Figures(
            now,
            wallboard.queue_figures(reports, self._targets, self._warn_margin),
            wallboard.handled_by_agent(reports["agents_today"]),
            pending,
        )

"""Agent sessions across daemon runs: the restore at start, the heartbeat, the close at stop.

At start (``restore``), before the floor is published and FastAGI takes a call:
1. the spool a previous run left is replayed, so every session and state change it had is in;
2. the agent state intervals a crash left open are closed at the last time known (the daemon's
   heartbeat, or the latest change stored); after a clean stop there are none;
3. once the AMI watcher's first resync has applied the device states (bounded wait), Asterisk's
   channels say which agents' phones are still in a call;
4. each agent's latest stored interval, with the leg of a call it answered since laid over
   it (``acd.engine.sessions.with_calls``: the conversations and wrap-ups are on the calls
   rows), and ``acd.engine.sessions.restore_inputs`` decides; each agent is restored on the
   floor, which opens its new interval and republishes its state (``Outputs``).

At a clean stop every open interval is closed at the stop's time (``close_at_stop``); the
sessions stay (each agent's latest interval, open or closed, is its session:
``acd.storage.agent_sessions``), so the agents are logged in again at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.asterisk.aio.ami_client import AmiClient, AmiError
from acd.asterisk.devices import channel_device, device_of
from acd.daemon.ami_watch import AmiWatcher
from acd.daemon.clocks import Clocks
from acd.daemon.service import AcdService
from acd.engine.agent import AgentState
from acd.engine.sessions import AgentSession, StoredLeg, restore_inputs, with_calls
from acd.logging import get_logger
from acd.storage.agent_sessions import busy_legs, latest_sessions
from acd.storage.commands import CloseOpenStates, MarkAlive
from acd.storage.models import AgentStateLog, DaemonHeartbeat
from acd.storage.writer import StorageWriter

log = get_logger(__name__)
HEARTBEAT_S = 5.0  # how stale the "last time known" after a crash can be
NODE = "active"  # one row: only the active daemon writes
SPOOL_WAIT_S = 10.0
AMI_WAIT_S = 2.0  # Asterisk answers in milliseconds; without it, calls are not held back long


@dataclass(frozen=True, slots=True)
class Restored:
    agents: int  # sessions taken back
    talking: int  # of them, still in a conversation
    closed_at: datetime | None  # intervals a crash left open were closed at this time
    asterisk: bool  # Asterisk's channels were known


class Sessions:
    def __init__(
        self,
        acd: AcdService,
        db: AsyncEngine,
        writer: StorageWriter,
        watcher: AmiWatcher,
        ami: Callable[[], AmiClient],
        *,
        endpoints: Mapping[str, str],
        clocks: Clocks,
    ) -> None:
        self._acd = acd
        self._db = db
        self._writer = writer
        self._watcher = watcher
        self._ami = ami
        self._devices = {agent: device_of(endpoint) for agent, endpoint in endpoints.items()}
        self._clocks = clocks

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clocks.wall(), UTC)

    # -- start ------------------------------------------------------------------------------

    async def restore(self, *, ami_wait_s: float = AMI_WAIT_S) -> Restored:
        try:
            async with asyncio.timeout(SPOOL_WAIT_S):
                await self._writer.wait_drained()
        except TimeoutError:
            log.warning("restore_before_spool_replayed", limit_s=SPOOL_WAIT_S)
        try:
            stored, last_known, open_rows = await self._read()
        except (SQLAlchemyError, OSError) as exc:  # calls first: every agent starts logged out
            log.error("sessions_not_read", error=str(exc), why="agents must log in again")
            return Restored(0, 0, None, asterisk=False)
        closed_at = None
        if open_rows and last_known is not None:
            closed_at = last_known
            self._writer.submit(
                CloseOpenStates(idempotency_key=f"close:{last_known.isoformat()}", at=last_known)
            )
        busy = await self._busy_phones(ami_wait_s)
        now = self._clocks.wall()
        talking = 0
        inputs = restore_inputs(stored, busy, now)
        for inp in inputs:
            try:
                await self._acd.ask(inp)
            except Exception as exc:  # an agent already logged in, one no longer configured
                log.warning("session_not_restored", agent_id=inp.agent_id, error=repr(exc))
                continue
            talking += inp.outside_call is not None
        log.info(
            "sessions_restored",
            agents=len(inputs),
            talking=talking,
            closed_at=None if closed_at is None else closed_at.isoformat(),
            asterisk=busy is not None,
        )
        return Restored(len(inputs), talking, closed_at, busy is not None)

    async def _read(self) -> tuple[dict[str, AgentSession], datetime | None, int]:
        """The stored sessions (wall-clock seconds), the last time known, open intervals."""
        log_ = AgentStateLog
        async with self._db.connect() as db:
            rows = await latest_sessions(db, self._devices)
            legs = await busy_legs(db, self._now())
            beat = await db.scalar(select(func.max(DaemonHeartbeat.seen_at)))
            last_change = await db.scalar(select(func.max(log_.started_at)))
            open_rows = await db.scalar(
                select(func.count()).select_from(log_).where(log_.ended_at.is_(None))
            )
        stored: dict[str, AgentSession] = {}
        for row in rows.values():  # the configured agents only
            try:
                state = AgentState(row.state)
            except ValueError:
                continue
            stored[row.agent_id] = AgentSession(
                row.agent_id,
                state,
                row.reason,
                row.since.timestamp(),
                None if row.wrap_up_due is None else row.wrap_up_due.timestamp(),
                row.call_id,
                row.queue,
            )
        stored = with_calls(
            stored,
            (
                StoredLeg(
                    leg.agent_id,
                    leg.call_id,
                    leg.queue,
                    leg.answered_at.timestamp(),
                    None if leg.ended_at is None else leg.ended_at.timestamp(),
                    None if leg.wrap_up_due is None else leg.wrap_up_due.timestamp(),
                )
                for leg in legs
                if leg.agent_id in self._devices
            ),
        )
        # the answers and ends of the busy legs were changes of the log before issue 13: the
        # last time known is at least the latest of them (a crash during wrap-up closes the
        # agent's ready interval, and with it the derived conversation, no earlier than that)
        now = self._now()
        leg_times = [
            t for leg in legs for t in (leg.answered_at, leg.ended_at) if t is not None and t <= now
        ]
        known = [t for t in (beat, last_change, *leg_times) if t is not None]
        return stored, max(known) if known else None, int(open_rows or 0)

    async def _busy_phones(self, wait_s: float) -> dict[str, str] | None:
        """Agent -> a channel on the agent's phone now; None when Asterisk cannot be asked."""
        try:
            async with asyncio.timeout(wait_s):
                await self._watcher.synced.wait()  # device states applied first
            channels = await self._ami().action("CoreShowChannels", timeout=wait_s)
        except (TimeoutError, AmiError) as exc:
            log.warning("restore_without_asterisk", error=repr(exc))
            return None
        agents_on: dict[str, list[str]] = {}
        for agent, device in self._devices.items():
            agents_on.setdefault(device, []).append(agent)
        busy: dict[str, str] = {}
        for item in channels.events:
            name = item.get("Channel") or ""
            for agent in agents_on.get(channel_device(name), ()):
                busy.setdefault(agent, item.get("Uniqueid") or name)
        return busy

    # -- while running ----------------------------------------------------------------------

    async def heartbeat(self, period_s: float = HEARTBEAT_S) -> None:
        """The last time known alive, for the close after a crash."""
        while True:
            at = self._now()
            self._writer.submit(
                MarkAlive(idempotency_key=f"alive:{at.isoformat()}", node=NODE, at=at)
            )
            await asyncio.sleep(period_s)

    # -- stop -------------------------------------------------------------------------------

    def close_at_stop(self) -> None:
        """A clean stop: every open interval ends now (a report over the stop stays the same);
        the sessions stay for the next start."""
        at = self._now()
        with contextlib.suppress(RuntimeError):  # the writer never started
            self._writer.submit(CloseOpenStates(idempotency_key=f"close:{at.isoformat()}", at=at))
            self._writer.submit(
                MarkAlive(idempotency_key=f"alive:{at.isoformat()}", node=NODE, at=at)
            )

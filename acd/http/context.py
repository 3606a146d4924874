"""What the HTTP API reaches into: the daemon's parts, handed over by the composition root.

The API never touches the floor directly: reads and changes go through ``AcdService`` (the floor's
owner task), live calls come from ``CallRegistry``, writes go through the daemon's storage writer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acd.daemon.calls import CallRegistry
from acd.daemon.clocks import Clocks
from acd.daemon.floor_changes import FloorChanges
from acd.daemon.outputs import Outputs
from acd.daemon.service import AcdService
from acd.daemon.supervisor import SupervisorDesk
from acd.http.board_figures import BoardFigures
from acd.logging import get_logger
from acd.settings.settings import Settings
from acd.storage.commands import WriteCommand

if TYPE_CHECKING:
    from acd.asterisk.aio.ami_client import AmiClient
    from acd.daemon.recording_control import RecordingControl
    from acd.identity.directory import Directory

log = get_logger(__name__)
LAG_PROBE_S = 0.5


@dataclass(frozen=True)
class WallboardSettings:
    """Alert thresholds and refresh rates of the wallboard (defaults; not in the YAML files)."""

    complaint_queue: str = "complaints"
    complaint_surge_calls: int = 5  # this many complaint calls ...
    complaint_surge_window_s: float = 600.0  # ... within this window raise the alert
    push_every_s: float = 1.0
    # KPI figures come from the database (acd.reports): at most this old, one query per refresh
    # whatever the number of screens.
    figures_every_s: float = 5.0
    sl_warn_margin: float = 0.05  # service level this far under target is amber, further red


class LoopLag:
    """How late the event loop wakes a sleeper: a small owned task measures it every 0.5 s."""

    def __init__(self) -> None:
        self.seconds = 0.0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(LAG_PROBE_S)
            self.seconds = max(0.0, loop.time() - before - LAG_PROBE_S)


@dataclass
class ApiContext:
    settings: Settings
    acd: AcdService
    registry: CallRegistry
    outputs: Outputs
    desk: SupervisorDesk
    sessions: async_sessionmaker[AsyncSession] | None = None
    db_url: str | None = None
    write: Callable[[WriteCommand], None] | None = None
    ami: AmiClient | None = None
    clocks: Clocks = field(default_factory=Clocks)
    wallboard: WallboardSettings = field(default_factory=WallboardSettings)
    loop_lag: LoopLag = field(default_factory=LoopLag)
    recording_key: bytes | None = None
    recording_control: RecordingControl | None = None  # None: recordings cannot be paused
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    last_board: tuple[float, dict[str, Any]] | None = None  # (when, wallboard snapshot)
    directory: Directory | None = None  # None: built by create_app from settings and sessions
    # Read-only sessions (SQLite: no write lock) for the wallboard's figures and the desktop's
    # recent calls; None: ``sessions``.
    reads: async_sessionmaker[AsyncSession] | None = None
    floor_changes: FloorChanges = field(default_factory=FloorChanges)
    figures: BoardFigures | None = None  # built on first use

    def board_figures(self) -> BoardFigures:
        if self.figures is None:
            self.figures = BoardFigures(
                self.settings,
                self.reads or self.sessions,
                clock=self.clock,
                refresh_s=self.wallboard.figures_every_s,
                warn_margin=self.wallboard.sl_warn_margin,
            )
        return self.figures

    @property
    def clock(self) -> Callable[[], float]:
        """Wall-clock time (what is stored and shown); the floor's own is ``clocks.steady``."""
        return self.clocks.wall

    @property
    def ami_up(self) -> bool:
        return self.ami is not None and self.ami.connected

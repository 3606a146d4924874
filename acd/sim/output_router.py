"""Where the PBX core's outputs go: AMI sessions, FastAGI links, waiting Originates, WAV files.

Part of the simulator runtime (``acd.sim.runtime``): ``dispatch`` is called with what
``Pbx.drain()`` returned, in order, right after each input or timer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from acd.asterisk.ami.message import Message
from acd.logging import get_logger
from acd.sim import wav
from acd.sim.agi_link import AgiLink
from acd.sim.ami_server import AmiServer
from acd.sim.outputs import (
    AgiClose,
    AgiHangupNotice,
    AgiOpen,
    AgiReply,
    AmiEvent,
    LogLine,
    OriginateResult,
    Output,
    WavFile,
)

log = get_logger(__name__)

Spawn = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None] | None"]


class OutputRouter:
    def __init__(
        self,
        spawn: Spawn,
        open_link: Callable[[AgiOpen], AgiLink],
        *,
        keep_events: bool,
        log_dir: str | None = None,
    ) -> None:
        self.ami: AmiServer | None = None
        #: Asterisk's log directory (queue_log, cdr-csv/Master.csv); None = lines are dropped
        self.log_dir = Path(log_dir) if log_dir else None
        #: every AMI event the core emitted, in order (only when kept)
        self.emitted: list[Message] | None = [] if keep_events else None
        self.links: dict[int, AgiLink] = {}
        #: WAV files being written; the runtime lets them finish on close
        self.writers: set[asyncio.Task[None]] = set()
        self._originates: dict[str, asyncio.Future[OriginateResult]] = {}
        self._spawn = spawn
        self._open_link = open_link

    def dispatch(self, outputs: list[Output]) -> None:
        for out in outputs:
            if isinstance(out, AmiEvent):
                if self.emitted is not None:
                    self.emitted.append(out.message)
                if self.ami is not None:
                    self.ami.broadcast(out.message)
            elif isinstance(out, AgiReply | AgiHangupNotice | AgiClose):
                self._to_link(out)
            elif isinstance(out, AgiOpen):
                link = self._open_link(out)
                self.links[out.session_id] = link
                self._spawn(link.run())
            elif isinstance(out, OriginateResult):
                waiter = self._originates.pop(out.action_id or "", None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(out)
            elif isinstance(out, LogLine):
                self._append(out)
            elif isinstance(out, WavFile):
                task = self._spawn(self._write_wav(out))
                if task is not None:
                    self.writers.add(task)
                    task.add_done_callback(self.writers.discard)

    def _to_link(self, out: AgiReply | AgiHangupNotice | AgiClose) -> None:
        link = self.links.get(out.session_id)
        if link is None:
            log.debug("sim_output_dropped", session_id=out.session_id, why="unknown AGI session")
        elif isinstance(out, AgiReply):
            link.reply(out.text)
        elif isinstance(out, AgiHangupNotice):
            link.hangup()
        else:
            link.close()

    def _append(self, out: LogLine) -> None:
        # A few hundred bytes per call: written in place, in order, like Asterisk's own
        # line-buffered log files (a reader tailing queue_log sees each line at once).
        if self.log_dir is None:
            return
        path = self.log_dir / out.file
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(out.line + "\n")
        except OSError as exc:
            log.error("sim_log_write_failed", path=str(path), error=str(exc))

    def expect_originate(self, token: str) -> asyncio.Future[OriginateResult]:
        """A future resolved by the core's ``OriginateResult`` carrying ``token``."""
        waiter: asyncio.Future[OriginateResult] = asyncio.get_running_loop().create_future()
        self._originates[token] = waiter
        return waiter

    def close(self) -> None:
        for link in list(self.links.values()):
            link.close()
        for waiter in self._originates.values():
            waiter.cancel()

    @staticmethod
    async def _write_wav(out: WavFile) -> None:
        path = Path(out.path)
        data = await asyncio.to_thread(wav.render, out.seconds, out.channels, seed=out.seed)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(path.write_bytes, data)

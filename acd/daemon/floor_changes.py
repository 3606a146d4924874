"""Which agents changed, for readers that follow one agent from outside the owner task (the agent
desktops' event streams).

``FloorFanout`` sits between the ACD owner task and ``Outputs``: every ``AgentChanged`` effect
goes on to the outputs (MQTT, storage) as before and also bumps that agent's version here, which
costs a dict update. A desktop stream remembers the version it last showed and ``wait``s for a
newer one (or a timeout for what changes without an agent state change, such as a recording
pause); a burst of changes while it was busy wakes it once.
"""

from __future__ import annotations

import asyncio
import contextlib

from acd.daemon.service import FloorOutputs
from acd.engine.floor import Floor
from acd.engine.floor_effects import AgentChanged


class FloorChanges:
    def __init__(self) -> None:
        self._versions: dict[str, int] = {}
        self._waiting: dict[str, asyncio.Event] = {}  # only agents someone waits for

    def agent_changed(self, agent_id: str) -> None:
        self._versions[agent_id] = self._versions.get(agent_id, 0) + 1
        woken = self._waiting.pop(agent_id, None)
        if woken is not None:
            woken.set()

    def version(self, agent_id: str) -> int:
        return self._versions.get(agent_id, 0)

    async def wait(self, agent_id: str, seen: int, timeout_s: float) -> int:
        """The agent's version after ``seen`` as soon as there is one, else after
        ``timeout_s``."""
        if self.version(agent_id) == seen:
            event = self._waiting.setdefault(agent_id, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout_s)
        return self.version(agent_id)


class FloorFanout:
    """The owner task's outputs, with every agent change also counted in ``changes``."""

    def __init__(self, outputs: FloorOutputs, changes: FloorChanges) -> None:
        self._outputs = outputs
        self._changes = changes

    def agent_changed(self, change: AgentChanged) -> None:
        self._outputs.agent_changed(change)
        self._changes.agent_changed(change.agent_id)

    def floor_changed(self, floor: Floor, now: float) -> None:
        self._outputs.floor_changed(floor, now)

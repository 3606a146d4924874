"""Retained MQTT queue statistics (``<prefix>/queues/<queue>/stats``), from the one queue view.

The numbers are ``floor_views.queues_view``: the same ones ``GET /queues``, the wallboard and
``/metrics`` show (callers waiting, longest wait, agents holding the queue's skill by state).
One owned task publishes them: when the floor changed (the owner task calls ``changed``, which
costs nothing) at most once per ``every_s``, and every ``every_s`` while callers wait (their
longest wait grows); a queue whose numbers did not change is not published again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from acd.daemon.floor_views import queues_view
from acd.engine.floor import Floor
from acd.events import topics
from acd.events.topics import Publication

EVERY_S = 1.0

QueuesView = dict[str, dict[str, Any]]


class QueueStats:
    def __init__(
        self,
        read: Callable[[Callable[[Floor, float], QueuesView]], Awaitable[QueuesView]],
        publish: Callable[[Publication], None],
        *,
        prefix: str,
        clock: Callable[[], float],
        every_s: float = EVERY_S,
    ) -> None:
        self._read = read
        self._publish = publish
        self._prefix = prefix
        self._clock = clock  # wall clock: the payload's ``ts``
        self._every_s = every_s
        self._changed = asyncio.Event()
        self._last: dict[str, tuple[Any, ...]] = {}
        self.published = 0
        #: the last numbers published per queue (what a new subscriber gets, retained)
        self.last_published: dict[str, dict[str, Any]] = {}

    def changed(self) -> None:
        """The floor changed (called by the ACD owner task after every step)."""
        self._changed.set()

    async def run(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            view = await self._read(queues_view)
            self.publish_view(view, self._clock())
            if any(q["waiting"] for q in view.values()):
                self._changed.set()  # longest waits grow: refresh at the next round
            await asyncio.sleep(self._every_s)

    def publish_view(self, view: QueuesView, now: float) -> None:
        for name, q in view.items():
            shown = (q["waiting"], q["longest_wait_s"], sorted(q["agents_by_state"].items()))
            if self._last.get(name) == shown:
                continue
            self._last[name] = shown
            self.last_published[name] = q
            self._publish(
                topics.queue_stats(
                    self._prefix,
                    name,
                    now,
                    waiting=q["waiting"],
                    longest_wait_s=q["longest_wait_s"],
                    agents_by_state=q["agents_by_state"],
                    service_level=None,
                )
            )
            self.published += 1

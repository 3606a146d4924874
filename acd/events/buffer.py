"""Bounded outgoing buffer for the MQTT publisher (pure, no I/O).

While the broker is away, publications wait here. The buffer is bounded so an outage cannot eat
the daemon's memory: when full, the oldest *non-retained* publication is dropped (and counted).
Retained topics (agent state, queue stats) only matter by their latest value, so a newer one
replaces the older one waiting for the same topic instead of taking another slot.
"""

from __future__ import annotations

from collections import OrderedDict
from itertools import count

from acd.events.topics import Publication


class PublishBuffer:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self.capacity = capacity
        self.dropped = 0
        self._seq = count()
        # key -> publication, in arrival order; retained ones are keyed by topic
        self._items: OrderedDict[object, Publication] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def push(self, pub: Publication, *, first: bool = False) -> None:
        """Queue ``pub`` last, or ``first`` (a message someone waits for: the screen pop)."""
        key: object = ("retained", pub.topic) if pub.retain else next(self._seq)
        if key in self._items:
            del self._items[key]  # newer retained value replaces the waiting one
        elif len(self._items) >= self.capacity:
            self._drop_one()
        self._items[key] = pub
        if first:
            self._items.move_to_end(key, last=False)

    def clear(self) -> int:
        """Drop everything queued; how many were dropped (not counted in ``dropped``)."""
        count = len(self._items)
        self._items.clear()
        return count

    def _drop_one(self) -> None:
        for key in self._items:
            if not isinstance(key, tuple):  # oldest non-retained
                del self._items[key]
                self.dropped += 1
                return
        self._items.popitem(last=False)  # all retained: drop the oldest topic's value
        self.dropped += 1

    def peek(self) -> Publication | None:
        return next(iter(self._items.values()), None)

    def pop(self) -> Publication:
        _, pub = self._items.popitem(last=False)
        return pub

"""Back-off after failed sign-ins, per client address (pure; the time is a parameter).

Up to ``allowed`` failures within ``window_s`` cost nothing; after that the address must wait
``base_s`` seconds, doubling with every further failure up to ``max_s``; a wait is answered
429 with ``Retry-After`` before any credential is looked at. A success clears the address. At
most ``max_clients`` addresses are remembered (the oldest are forgotten), so a flood of
addresses cannot grow memory without bound.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(slots=True)
class _Client:
    failures: int
    first_at: float
    blocked_until: float = 0.0


class AuthThrottle:
    def __init__(
        self,
        *,
        allowed: int = 10,
        window_s: float = 60.0,
        base_s: float = 1.0,
        max_s: float = 300.0,
        max_clients: int = 10_000,
    ) -> None:
        self._allowed = allowed
        self._window_s = window_s
        self._base_s = base_s
        self._max_s = max_s
        self._max_clients = max_clients
        self._clients: OrderedDict[str, _Client] = OrderedDict()

    def retry_after(self, client: str, now: float) -> int | None:
        """Whole seconds this client must still wait, or None if it may try."""
        state = self._clients.get(client)
        if state is None or now >= state.blocked_until:
            return None
        return max(1, math.ceil(state.blocked_until - now))

    def failed(self, client: str, now: float) -> None:
        state = self._clients.get(client)
        if state is None or (now - state.first_at > self._window_s and now >= state.blocked_until):
            state = _Client(0, now)
        state.failures += 1
        excess = state.failures - self._allowed
        if excess > 0:
            state.blocked_until = now + min(self._max_s, self._base_s * 2 ** (excess - 1))
        self._clients[client] = state
        self._clients.move_to_end(client)
        while len(self._clients) > self._max_clients:
            self._clients.popitem(last=False)

    def succeeded(self, client: str) -> None:
        self._clients.pop(client, None)

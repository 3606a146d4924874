"""What protects the FastAGI port (pure helpers of ``FastAgiServer``).

- ``key_matches``: the dialplan passes a shared secret in every AGI URL (``?key=...``, which
  Asterisk hands over in ``agi_network_script``, shared README); a session without it is
  refused, so a local process cannot pose as Asterisk and, say, pause someone else's agent by
  forging ``agi_channel``. Constant-time comparison.
- ``session_cap``: at most ``max_sessions`` at once, and never more than the process's open-file
  limit leaves room for (HTTP, database, AMI, MQTT and log files need descriptors too).
- ``LogLimiter``: refusals are logged once per peer and interval with a count, so a flood of
  connections cannot flood the log.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

KEY_PARAM = "key"


def key_matches(expected: str | None, params: dict[str, str] | None) -> bool:
    """True when no key is configured, or the session's ``key`` parameter is the key."""
    if expected is None:
        return True
    given = (params or {}).get(KEY_PARAM, "")
    return hmac.compare_digest(given.encode(), expected.encode())


def session_cap(max_sessions: int, open_files_limit: int | None) -> int:
    """Sessions allowed at once: a quarter of the descriptors (at least 32) stay for the rest."""
    if open_files_limit is None or open_files_limit <= 0:
        return max_sessions
    reserve = max(32, open_files_limit // 4)
    return max(1, min(max_sessions, open_files_limit - reserve))


@dataclass(slots=True)
class _Window:
    logged_at: float
    suppressed: int = 0


class LogLimiter:
    """``check(key, now)``: None when this occurrence is not to be logged; else how many were
    suppressed since the last line for ``key`` (0 for the first). Remembers ``max_keys`` keys."""

    def __init__(self, interval_s: float = 60.0, max_keys: int = 1024) -> None:
        self._interval_s = interval_s
        self._max_keys = max_keys
        self._windows: dict[str, _Window] = {}

    def check(self, key: str, now: float) -> int | None:
        window = self._windows.get(key)
        if window is not None and now - window.logged_at < self._interval_s:
            window.suppressed += 1
            return None
        suppressed = window.suppressed if window is not None else 0
        if window is None and len(self._windows) >= self._max_keys:
            oldest = min(self._windows, key=lambda k: self._windows[k].logged_at)
            del self._windows[oldest]
        self._windows[key] = _Window(now)
        return suppressed

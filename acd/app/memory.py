"""Giving freed heap memory back to the system (glibc), for a daemon whose traffic comes and goes.

After a busy spell the memory its calls used is free inside the process but stays resident:
glibc keeps freed chunks in its arenas (one per thread that allocated: the event loop, the
database driver's and ``asyncio.to_thread``'s threads) and returns the top of a heap only past
a threshold. ``malloc_trim(0)`` hands every free page of every arena back (``madvise``), so the
resident set follows the live data down again. CPython's own small-object arenas (1 MiB) are
unmapped by CPython once empty; a partly used one stays (nothing can move its objects).

Measured with ``bench/daemon_load.py`` (the README's benchmark row): what a trim gives back after
the traffic, and what one costs on the event loop.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from collections.abc import Callable
from typing import Final


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim  # noqa: B018 - present in glibc only (not musl, not macOS)
    except (OSError, AttributeError):
        return None
    return libc


_LIBC: Final = _glibc()


def trim_heap(clock: Callable[[], float] = time.perf_counter) -> float | None:
    """Return free heap pages to the system; seconds it took (None: not glibc, nothing done)."""
    if _LIBC is None:
        return None
    started = clock()
    _LIBC.malloc_trim(0)
    return clock() - started

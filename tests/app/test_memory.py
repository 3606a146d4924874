"""``acd.app.memory``: the heap trim the daemon runs once a minute (``RunOptions.trim_heap``)."""

from __future__ import annotations

import sys

import pytest

from acd.app import memory


@pytest.mark.skipif(memory._LIBC is None, reason="glibc only")
def test_trim_returns_the_time_it_took() -> None:
    times = iter([10.0, 10.25])
    assert memory.trim_heap(clock=lambda: next(times)) == 0.25
    assert next(times, None) is None  # read before and after the trim


def test_without_glibc_nothing_is_done(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_LIBC", None)
    assert memory.trim_heap(clock=lambda: pytest.fail("no clock read")) is None


def test_glibc_is_found_on_linux() -> None:
    if sys.platform == "linux" and memory._glibc() is None:
        pytest.fail("a glibc Linux without malloc_trim: the daemon would never trim")

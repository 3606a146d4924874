"""The live suite runs only against a real Asterisk named by ``HOTLINE_LIVE_AMI``, never in CI:
every test here carries the ``live`` marker and is skipped, with the reason, otherwise.
Collection imports nothing that needs Asterisk."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.live.rig import LiveRig, skip_reason


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    why = "the live suite never runs in CI" if os.environ.get("CI") else skip_reason()
    for item in items:
        if item.get_closest_marker("live") and why is not None:
            item.add_marker(pytest.mark.skip(reason=why))


@pytest_asyncio.fixture
async def rig(tmp_path: Path) -> AsyncIterator[LiveRig]:
    """The daemon started on the live configuration; stopped (SIGTERM) and the test's channels
    hung up at the end."""
    async with LiveRig(tmp_path) as live:
        await live.daemon.start()
        yield live

"""The real daemon with its HTTP API on a free loopback port, against the PBX simulator.

Reuses ``tests.daemon.harness`` (Simulator + Daemon over real sockets); the only differences are
API tokens in the settings and ``RunOptions(http_port=0)``.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from acd.app.daemon import RunOptions
from acd.settings.settings import Settings
from acd.sim.plan import AgentBehaviour
from tests.daemon import harness as harness_module
from tests.daemon.harness import Harness, floor_harness, floor_settings
from tests.http.api_harness import with_test_tokens

LONG_TALK = AgentBehaviour(answer_after=0.5, talk_time=3600.0, hangs_up="agent")


def with_tokens(settings: Settings) -> Settings:
    """The config's API tokens with the test values of ``TOKENS`` (as load_settings would)."""
    return with_test_tokens(settings)


@asynccontextmanager
async def live_daemon(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    agents: int = 2,
    behaviour: AgentBehaviour = LONG_TALK,
    login: bool = True,
) -> AsyncIterator[tuple[Harness, str]]:
    """Yields the harness and the API's base URL; the daemon stops gracefully at the end."""
    monkeypatch.setattr(harness_module, "RunOptions", functools.partial(RunOptions, http_port=0))
    settings = with_tokens(floor_settings(agents))
    async with floor_harness(
        tmp_path, settings=settings, behaviour=behaviour, keep_events=True, start=False
    ) as harness:
        daemon = await harness.start_daemon(login=login)
        assert daemon.http is not None
        try:
            yield harness, daemon.http.url
        finally:
            for channel in [c.name for c in harness.sim.pbx.channels()]:
                harness.hang_up(channel)
            await harness.stop_daemon()

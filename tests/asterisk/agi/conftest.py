"""Fixtures for the FastAGI server tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from acd.asterisk.aio.agi_server import AgiRouter, FastAgiServer


@pytest_asyncio.fixture
async def harness() -> AsyncIterator[tuple[AgiRouter, FastAgiServer]]:
    router = AgiRouter()
    async with FastAgiServer(router, port=0) as server:
        yield router, server

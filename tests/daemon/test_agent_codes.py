"""Softphone feature codes over a real FastAGI connection: the agent is found from the calling
device, the ACD applies the request, and the agent hears a confirmation or an error tone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from acd.asterisk.agi.client_conn import NEED_DATA, ClientConnection, CommandReceived
from acd.asterisk.agi.router import Router
from acd.asterisk.aio.agi_server import AgiHandler, FastAgiServer
from acd.daemon.agent_codes import AgentFeatureCodes, agent_for_channel, device_of
from acd.daemon.service import AcdService
from acd.daemon.specs import engine_specs
from acd.engine.agent import AgentState
from acd.engine.floor import Floor
from acd.engine.floor_effects import AgentChanged
from acd.settings.loader import load_settings

SETTINGS = load_settings(Path(__file__).resolve().parents[2] / "config", require_secrets=False)


class _Outputs:
    def __init__(self) -> None:
        self.changes: list[AgentChanged] = []

    def agent_changed(self, change: AgentChanged) -> None:
        self.changes.append(change)

    def floor_changed(self, floor: Floor, now: float) -> None:
        pass


@pytest.mark.parametrize(
    ("channel", "device"),
    [
        ("PJSIP/1001-0000002a", "PJSIP/1001"),
        ("Local/1001@hotline-agents-000001ab;2", "Local/1001@hotline-agents"),
        ("PJSIP/1001", "PJSIP/1001"),
        ("PJSIP/trunk-a-b", "PJSIP/trunk-a-b"),  # no 8-hex suffix: left alone
    ],
)
def test_device_of_a_channel(channel: str, device: str) -> None:
    assert device_of(channel) == device


def test_agent_found_from_endpoint_with_or_without_the_n_flag() -> None:
    endpoints = {"PJSIP/1001": "1001", "Local/2001@hotline-agents/n": "2001"}
    assert agent_for_channel("PJSIP/1001-00000001", endpoints) == "1001"
    assert agent_for_channel("Local/2001@hotline-agents-0000000a;1", endpoints) == "2001"
    assert agent_for_channel("PJSIP/9999-00000001", endpoints) is None


@pytest_asyncio.fixture
async def codes() -> AsyncIterator[tuple[AcdService, int]]:
    queues, agents = engine_specs(SETTINGS)
    floor = Floor(queues, agents)
    acd = AcdService(floor, _Outputs(), clock=asyncio.get_running_loop().time)
    handler: AgiHandler = AgentFeatureCodes(
        acd, floor.by_endpoint, pause_reason=SETTINGS.pause_reason
    )
    owner = asyncio.create_task(acd.run())
    async with FastAgiServer(Router({"agent": handler}), port=0) as server:
        yield acd, server.port
    owner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await owner


async def _dial_code(port: int, channel: str, script: str) -> list[str]:
    """Play the Asterisk side: send the environment, answer every command, return them."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    conn = ClientConnection()
    writer.write(
        conn.start(
            [
                ("agi_network", "yes"),
                ("agi_network_script", script),
                ("agi_channel", channel),
                ("agi_uniqueid", "1795327400.1"),
            ]
        )
    )
    commands: list[str] = []
    while True:
        event = conn.next_event()
        if isinstance(event, CommandReceived):
            commands.append(event.line)
            writer.write(conn.reply(result="0"))
            continue
        if event is NEED_DATA:
            data = await reader.read(4096)
            conn.receive_data(data)
            if data:
                continue
        break
    writer.close()
    return commands


async def _state(acd: AcdService, agent: str) -> tuple[AgentState, str | None]:
    status = await acd.read(lambda f, _now: f.agents[agent])
    return status.state, status.pause_reason


@pytest.mark.asyncio
async def test_login_pause_with_reason_and_unpause(codes: tuple[AcdService, int]) -> None:
    acd, port = codes
    sent = await _dial_code(port, "PJSIP/1001-0000002a", "agent?action=login")
    assert sent == ["ANSWER", 'STREAM FILE beep ""']
    assert await _state(acd, "1001") == (AgentState.READY, None)
    await _dial_code(port, "PJSIP/1001-0000002b", "agent?action=pause&reason=lunch")
    assert await _state(acd, "1001") == (AgentState.PAUSED, "lunch")
    await _dial_code(port, "PJSIP/1001-0000002d", "agent?action=pause&reason=3")  # *133
    assert await _state(acd, "1001") == (AgentState.PAUSED, "training")  # agents.yaml's name
    sent = await _dial_code(port, "PJSIP/1001-0000002e", "agent?action=pause&reason=99")
    assert sent[-1] == 'STREAM FILE beeperr ""'  # no such reason: refused, nothing changes
    assert await _state(acd, "1001") == (AgentState.PAUSED, "training")
    await _dial_code(port, "PJSIP/1001-0000002c", "agent?action=unpause")
    assert await _state(acd, "1001") == (AgentState.READY, None)


@pytest.mark.asyncio
async def test_refusals_play_the_error_tone_and_change_nothing(
    codes: tuple[AcdService, int],
) -> None:
    acd, port = codes
    # unpause while logged out: the state machine refuses it
    sent = await _dial_code(port, "PJSIP/1002-00000001", "agent?action=unpause")
    assert sent[-1] == 'STREAM FILE beeperr ""'
    assert await _state(acd, "1002") == (AgentState.LOGGED_OUT, None)
    # an unknown action and an unknown device
    sent = await _dial_code(port, "PJSIP/1002-00000002", "agent?action=teleport")
    assert sent[-1] == 'STREAM FILE beeperr ""'
    sent = await _dial_code(port, "PJSIP/7777-00000003", "agent?action=login")
    assert sent[-1] == 'STREAM FILE beeperr ""'

"""A second ``hotline run`` refused at start-up never connects to the broker: the running daemon,
which uses the same MQTT client id, is not thrown off (the broker drops the older of two
connections with one client id)."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import aiomqtt
import httpx
import pytest

from acd.exitcodes import ExitCode
from tests.cli.run_support import RUN_TIMEOUT_S, make_run_config, one_line
from tests.settings.conftest import SECRETS

AGENT = "1001"


async def _drain(stream: asyncio.StreamReader, lines: list[str], seen: asyncio.Event) -> None:
    while line := (await stream.readline()).decode():
        lines.append(line)
        if any("daemon_up" in x for x in lines) and any("mqtt_connected" in x for x in lines):
            seen.set()


@pytest.mark.mqtt
@pytest.mark.asyncio
async def test_a_refused_second_daemon_does_not_disconnect_the_first(tmp_path: Path) -> None:
    cfg = make_run_config(tmp_path)
    system = cfg.system()
    prefix = system["mqtt"]["topic_prefix"]
    api = f"http://127.0.0.1:{system['http']['port']}"
    first = await asyncio.create_subprocess_exec(
        *cfg.command(), env=cfg.env, cwd=cfg.root, stderr=asyncio.subprocess.PIPE
    )
    assert first.stderr is not None
    log: list[str] = []
    up = asyncio.Event()
    drain = asyncio.create_task(_drain(first.stderr, log, up))
    try:
        async with asyncio.timeout(RUN_TIMEOUT_S):
            await up.wait()
            second = await asyncio.to_thread(cfg.run)  # same config: same ports, same client id
            assert second.returncode == ExitCode.UNAVAILABLE
            assert "the port is in use" in one_line(second)

            # The first daemon still publishes over its first connection.
            async with aiomqtt.Client("127.0.0.1", 1883, identifier=f"{cfg.client_id}-w") as mqtt:
                await mqtt.subscribe(f"{prefix}/agents/{AGENT}/state", qos=1)
                async with httpx.AsyncClient(base_url=api) as http:
                    reply = await http.post(
                        f"/agents/{AGENT}/login",
                        headers={"Authorization": f"Bearer {SECRETS['HOTLINE_TOKEN_SUPERVISOR']}"},
                    )
                assert reply.status_code == 200, reply.text
                async for message in mqtt.messages:
                    assert isinstance(message.payload, bytes)
                    if json.loads(message.payload)["state"] != "logged_out":
                        break
    finally:
        if first.returncode is None:
            first.send_signal(signal.SIGTERM)
        await first.wait()
        await drain
    text = "".join(log)
    assert first.returncode == ExitCode.OK, text
    assert text.count("mqtt_connected") == 1, text  # a takeover would show a reconnect
    assert "mqtt_link_down" not in text

"""Retained MQTT queue statistics against a real Mosquitto: one implementation (the queue view
the API and the wallboard show), retained for late subscribers, updated as the floor changes."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from acd.daemon.floor_views import queues_view
from acd.engine.floor_inputs import AgentAction
from acd.sim.plan import CallerBehaviour
from tests.conftest import port_open
from tests.daemon.flow_daemon import FlowSetup, flow_daemon, flow_settings
from tests.daemon.harness import floor_harness


async def retained(topic: str, client_id: str) -> tuple[bool, dict[str, Any]]:
    """What a desktop subscribing now gets first: (retain flag, payload)."""
    async with aiomqtt.Client("127.0.0.1", 1883, identifier=client_id) as late:
        await late.subscribe(topic, qos=1)
        async with asyncio.timeout(5):
            message = await anext(aiter(late.messages))
    assert isinstance(message.payload, bytes)
    return message.retain, json.loads(message.payload)


@pytest.mark.mqtt
@pytest.mark.asyncio
async def test_queue_stats_are_the_queue_view_retained_and_kept_current(tmp_path: Path) -> None:
    if not port_open("127.0.0.1", 1883, 0.5):
        pytest.fail("Mosquitto expected on 127.0.0.1:1883")
    prefix = f"test-stats-{uuid.uuid4().hex[:8]}"
    settings = flow_settings(tmp_path, 2, mqtt_prefix=prefix)
    # Generated agents: only 2001 has the orders skill; 2002 is ready but cannot take orders.
    assert "orders" in settings.agent("2001").skills
    assert "orders" not in settings.agent("2002").skills
    topic = f"{prefix}/queues/orders/stats"
    harness = floor_harness(tmp_path, settings=settings, start=False)
    async with harness as h, flow_daemon(h, FlowSetup(queue="orders"), mqtt=True) as daemon:
        stats = daemon.queue_stats
        await daemon.acd.agent_input("2001", AgentAction.PAUSE, "meeting")
        await h.place(CallerBehaviour(number="5551100", hangup_after=None))

        def published_waiting(n: int) -> bool:
            return stats.last_published.get("orders", {}).get("waiting") == n

        await h.wait_for(lambda: published_waiting(1), "the caller in the published stats")
        view = (await daemon.acd.read(queues_view))["orders"]
        flag, body = await retained(topic, f"{prefix}-late-1")
        assert flag is True
        assert body["type"] == "queue.stats"
        assert (body["queue"], body["waiting"]) == ("orders", 1)
        # agents holding the queue's skill, by state: the same numbers GET /queues shows
        assert body["agents"] == view["agents_by_state"] == {"paused": 1}
        assert 0 <= body["longest_wait_s"] <= view["longest_wait_s"] + 2
        # the caller leaves: the retained value follows
        (caller,) = h.caller_channels()
        h.hang_up(caller)
        await h.wait_for(lambda: published_waiting(0), "the stats after the hang-up")
        flag, body = await retained(topic, f"{prefix}-late-2")
    assert (flag, body["waiting"], body["longest_wait_s"]) == (True, 0, 0.0)

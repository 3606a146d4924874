"""The publisher against a real Mosquitto: delivery, retained stats, and a broker outage."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator

import aiomqtt
import pytest
import pytest_asyncio

from acd.events import topics
from acd.events.publisher import MqttPublisher
from tests.conftest import free_port, port_open

pytestmark = pytest.mark.mqtt


def _start_mosquitto(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        ["mosquitto", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(100):
        if port_open("127.0.0.1", port, 0.1):
            return proc
        if proc.poll() is not None:
            break
        subprocess.run(["sleep", "0.05"], check=False)
    proc.kill()
    raise RuntimeError(f"mosquitto did not start on port {port}")


@pytest.fixture
def broker() -> Iterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    """A private Mosquitto on a free port (so the outage test can stop it)."""
    if shutil.which("mosquitto") is None:
        reason = "mosquitto binary not installed (apt-get install mosquitto)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run the MQTT tests")
        pytest.skip(reason)
    port = free_port()
    procs = [_start_mosquitto(port)]
    yield port, procs
    for p in procs:
        p.kill()
        p.wait()


async def _collect(port: int, pattern: str, n: int, ready: asyncio.Event) -> list[aiomqtt.Message]:
    got: list[aiomqtt.Message] = []
    async with aiomqtt.Client("127.0.0.1", port, identifier=f"test-sub-{port}") as sub:
        await sub.subscribe(pattern, qos=1)
        ready.set()
        async for msg in sub.messages:
            got.append(msg)
            if len(got) >= n:
                break
    return got


@pytest_asyncio.fixture
async def publisher_task(
    broker: tuple[int, list[subprocess.Popen[bytes]]],
) -> AsyncIterator[tuple[MqttPublisher, int]]:
    port, _ = broker
    pub = MqttPublisher("127.0.0.1", port, client_id="hotline-test", backoff=(0.05, 0.2))
    task = asyncio.create_task(pub.run())
    yield pub, port
    pub.close()
    await asyncio.wait_for(task, 10)


@pytest.mark.asyncio
async def test_events_reach_a_subscriber(publisher_task: tuple[MqttPublisher, int]) -> None:
    pub, port = publisher_task
    ready = asyncio.Event()
    collector = asyncio.create_task(_collect(port, "hotline/calls/#", 2, ready))
    await asyncio.wait_for(ready.wait(), 5)
    pub.publish(topics.call_event("hotline", "c1", "arrived", 1.0, number="5550100"))
    pub.publish(topics.call_event("hotline", "c1", "queued", 2.0, queue="orders"))
    got = await asyncio.wait_for(collector, 10)
    assert [m.topic.value for m in got] == ["hotline/calls/c1/arrived", "hotline/calls/c1/queued"]
    assert json.loads(bytes(got[0].payload))["number"] == "5550100"


@pytest.mark.asyncio
async def test_queue_stats_are_retained_for_late_subscribers(
    publisher_task: tuple[MqttPublisher, int],
) -> None:
    pub, port = publisher_task
    pub.publish(
        topics.queue_stats(
            "hotline",
            "orders",
            5.0,
            waiting=3,
            longest_wait_s=12.0,
            agents_by_state={"ready": 1},
            service_level=0.9,
        )
    )
    await asyncio.wait_for(pub.connected.wait(), 5)
    while len(pub.buffer):
        await asyncio.sleep(0.01)
    ready = asyncio.Event()
    got = await asyncio.wait_for(_collect(port, "hotline/queues/+/stats", 1, ready), 10)
    assert got[0].retain
    assert json.loads(bytes(got[0].payload))["waiting"] == 3


@pytest.mark.asyncio
async def test_publications_made_during_a_broker_outage_are_delivered_after_it(
    broker: tuple[int, list[subprocess.Popen[bytes]]],
    publisher_task: tuple[MqttPublisher, int],
) -> None:
    port, procs = broker
    pub, _ = publisher_task
    await asyncio.wait_for(pub.connected.wait(), 5)
    procs[0].kill()
    procs[0].wait()
    while pub.connected.is_set():  # the publisher notices the broker is gone
        pub.publish(topics.ami_link("hotline", False, 0.0))
        await asyncio.sleep(0.05)
    for i in range(5):
        pub.publish(topics.call_event("hotline", f"out{i}", "arrived", float(i)))
    procs.append(_start_mosquitto(port))
    ready = asyncio.Event()
    collector = asyncio.create_task(_collect(port, "hotline/calls/#", 5, ready))
    got = await asyncio.wait_for(collector, 15)
    assert sorted(m.topic.value for m in got) == [f"hotline/calls/out{i}/arrived" for i in range(5)]
    assert pub.connects >= 2

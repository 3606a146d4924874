from __future__ import annotations

import json

import pytest

from acd.events import topics
from acd.events.buffer import PublishBuffer


def test_call_event_topic_and_payload() -> None:
    pub = topics.call_event("hotline", "c-1", "queued", 100.25, queue="orders", priority=5)
    assert pub.topic == "hotline/calls/c-1/queued"
    assert not pub.retain
    doc = json.loads(pub.payload)
    assert doc == {
        "v": 1,
        "type": "call.queued",
        "ts": 100.25,
        "call_id": "c-1",
        "queue": "orders",
        "priority": 5,
    }


def test_unknown_call_event_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown call event"):
        topics.call_event("hotline", "c-1", "teleported", 1.0)


def test_wildcards_in_ids_cannot_escape_the_topic_tree() -> None:
    pub = topics.agent_state("hotline", "a/+#", "ready", 1.0)
    assert pub.topic == "hotline/agents/a___/state"
    assert pub.retain


def test_buffer_drops_oldest_non_retained_when_full() -> None:
    buf = PublishBuffer(3)
    state = topics.agent_state("p", "1001", "ready", 1.0)
    buf.push(state)
    for i in range(3):
        buf.push(topics.call_event("p", f"c{i}", "arrived", float(i)))
    assert buf.dropped == 1
    remaining = [buf.pop().topic for _ in range(len(buf))]
    # the retained agent state survives; the oldest call event (c0) was dropped
    assert remaining == ["p/agents/1001/state", "p/calls/c1/arrived", "p/calls/c2/arrived"]


def test_buffer_keeps_only_latest_value_of_a_retained_topic() -> None:
    buf = PublishBuffer(10)
    buf.push(topics.agent_state("p", "1001", "ready", 1.0))
    buf.push(topics.call_event("p", "c1", "arrived", 2.0))
    buf.push(topics.agent_state("p", "1001", "on_call", 3.0))
    assert len(buf) == 2
    assert buf.pop().topic == "p/calls/c1/arrived"
    assert json.loads(buf.pop().payload)["state"] == "on_call"
    assert buf.dropped == 0


def test_buffer_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity"):
        PublishBuffer(0)

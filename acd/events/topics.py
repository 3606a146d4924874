"""The MQTT topic tree and JSON payloads: every topic and payload hotline publishes is built here.

Topic tree (``<prefix>`` is ``mqtt.topic_prefix``, default ``hotline``):

- ``<prefix>/calls/<call_id>/<event>``: call lifecycle (``CALL_EVENTS``), not retained.
- ``<prefix>/agents/<agent_id>/state``: the agent's state, reason and since when; retained.
- ``<prefix>/agents/<agent_id>/screenpop``: caller number, name, VIP, IVR path, recent calls.
- ``<prefix>/queues/<queue>/stats``: waiting, longest wait, agents, service level; retained.
- ``<prefix>/system/ami``: AMI link ``up`` / ``down``; retained.

Every payload is a JSON object with ``v`` (schema version), ``type`` and ``ts`` (epoch seconds, the
time of the fact — passed in, never read from a clock here).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SCHEMA_VERSION = 1
CALL_EVENTS = frozenset(
    {
        "arrived",
        "ivr",
        "queued",
        "offered",
        "answered",
        "ring_no_answer",
        "transferred",
        "abandoned",
        "ended",
    }
)
# MQTT forbids wildcards in published topics; ids come from config and Asterisk, so guard them.
_UNSAFE = re.compile(r"[+#/\x00]")


@dataclass(frozen=True, slots=True)
class Publication:
    topic: str
    payload: bytes
    retain: bool = False
    qos: int = 0


def _segment(value: str) -> str:
    if not value:
        raise ValueError("empty MQTT topic segment")
    return _UNSAFE.sub("_", value)


def _payload(kind: str, ts: float, body: Mapping[str, Any]) -> bytes:
    doc: dict[str, Any] = {"v": SCHEMA_VERSION, "type": kind, "ts": round(ts, 3)}
    doc.update(body)
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


def call_event(prefix: str, call_id: str, event: str, ts: float, **fields: Any) -> Publication:
    """A call lifecycle event; ``fields`` carry queue, agent, caller number, outcome, ..."""
    if event not in CALL_EVENTS:
        raise ValueError(f"unknown call event {event!r}; expected one of {sorted(CALL_EVENTS)}")
    topic = f"{prefix}/calls/{_segment(call_id)}/{event}"
    return Publication(topic, _payload(f"call.{event}", ts, {"call_id": call_id, **fields}))


def agent_state(
    prefix: str, agent_id: str, state: str, ts: float, *, reason: str | None = None
) -> Publication:
    body = {"agent_id": agent_id, "state": state, "reason": reason, "since": round(ts, 3)}
    topic = f"{prefix}/agents/{_segment(agent_id)}/state"
    return Publication(topic, _payload("agent.state", ts, body), retain=True)


def screen_pop(
    prefix: str,
    agent_id: str,
    ts: float,
    *,
    call_id: str,
    number: str,
    name: str | None,
    vip: bool,
    ivr_path: Mapping[str, Any],
    recent_calls: Sequence[Mapping[str, Any]],
) -> Publication:
    body = {
        "agent_id": agent_id,
        "call_id": call_id,
        "number": number,
        "name": name,
        "vip": vip,
        "ivr": dict(ivr_path),
        "recent_calls": [dict(c) for c in recent_calls],
    }
    topic = f"{prefix}/agents/{_segment(agent_id)}/screenpop"
    return Publication(topic, _payload("agent.screenpop", ts, body), qos=1)


def queue_stats(
    prefix: str,
    queue: str,
    ts: float,
    *,
    waiting: int,
    longest_wait_s: float,
    agents_by_state: Mapping[str, int],
    service_level: float | None,
) -> Publication:
    body = {
        "queue": queue,
        "waiting": waiting,
        "longest_wait_s": round(longest_wait_s, 1),
        "agents": dict(agents_by_state),
        "service_level": service_level,
    }
    topic = f"{prefix}/queues/{_segment(queue)}/stats"
    return Publication(topic, _payload("queue.stats", ts, body), retain=True)


def ami_link(prefix: str, up: bool, ts: float) -> Publication:
    body = {"status": "up" if up else "down"}
    return Publication(f"{prefix}/system/ami", _payload("system.ami", ts, body), retain=True)

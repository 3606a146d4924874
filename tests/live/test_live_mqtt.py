"""A call on a real Asterisk with the daemon publishing to a real Mosquitto (a private broker on
a free port, named in the live configuration's hotline.yaml): the agent's screen pop, the call's
lifecycle in order, and the agent's retained state through the call."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from tests.conftest import free_port, mosquitto
from tests.live.rig import LiveRig
from tests.live.setup_files import edit_yaml
from tests.live.test_live_queue import dial_end, to_agent

pytestmark = [pytest.mark.live, pytest.mark.asyncio]


async def test_a_call_seen_on_the_broker(tmp_path: Path) -> None:
    if shutil.which("mosquitto") is None:
        pytest.skip("mosquitto binary not installed (apt-get install mosquitto)")
    port = free_port()
    async with mosquitto(port), LiveRig(tmp_path) as rig:
        edit_yaml(rig.daemon.config / "hotline.yaml", lambda d: d["mqtt"].update(port=port))
        rig.daemon.mqtt = True
        async with aiomqtt.Client("127.0.0.1", port, identifier="live-suite") as sub:
            await sub.subscribe("hotline/#", qos=1)
            await rig.daemon.start()
            await rig.daemon.login("1001")
            mark = rig.events.mark()
            caller = await to_agent(rig, "13800000040")
            await rig.events.wait(dial_end(caller, "ANSWER"), "the agent's answer", after=mark)
            await rig.hang_up(caller)
            seen = await _until_ended(sub, caller.uniqueid)
    prefix = f"hotline/calls/{caller.uniqueid}/"
    calls = [(t.removeprefix(prefix), p) for t, p in seen if t.startswith(prefix)]
    events = [name for name, _ in calls]
    assert events[0] == "arrived", events
    assert events[-1] == "ended", events
    for earlier, later in (("queued", "offered"), ("offered", "answered"), ("answered", "ended")):
        assert events.index(earlier) < events.index(later), events
    assert dict(calls)["answered"]["agent_id"] == "1001"
    pops = [p for t, p in seen if t == "hotline/agents/1001/screenpop"]
    assert [(p["call_id"], p["number"]) for p in pops] == [(caller.uniqueid, "13800000040")]
    # the screen pop is out before the offer is announced: the desktop shows the caller first
    order = [t for t, _ in seen]
    assert order.index("hotline/agents/1001/screenpop") < order.index(
        f"hotline/calls/{caller.uniqueid}/answered"
    )
    states = [p["state"] for t, p in seen if t == "hotline/agents/1001/state"]
    assert "on_call" in states, states
    assert states[-1] != "on_call", states  # freed (wrap-up) once the call ended


async def _until_ended(sub: aiomqtt.Client, call_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Every message until the call's ``ended`` (and a moment after, for the agent's state)."""
    seen: list[tuple[str, dict[str, Any]]] = []
    ended = f"hotline/calls/{call_id}/ended"
    async with asyncio.timeout(30):
        async for message in sub.messages:
            seen.append((str(message.topic), json.loads(bytes(message.payload))))  # type: ignore[arg-type]
            if str(message.topic) == ended:
                break
    # the agent's wrap-up follows the call's end
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(2):
            async for message in sub.messages:
                seen.append((str(message.topic), json.loads(bytes(message.payload))))  # type: ignore[arg-type]
    return seen

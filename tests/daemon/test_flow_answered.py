"""Answered calls through the real daemon and the PBX simulator: recording from the answer, the
post-call survey after the agent hangs up, and the screen pop on the agent's MQTT topic."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import uuid
from pathlib import Path

import aiomqtt
import pytest

from acd.daemon.ivr_port import IvrOutcome
from acd.sim.plan import AgentBehaviour, CallerBehaviour
from tests.conftest import port_open
from tests.daemon.flow_daemon import FlowSetup, PastCall, Profile, flow_daemon, flow_settings
from tests.daemon.harness import FAST_AGENT, floor_harness


def _wav_facts(path: Path) -> tuple[bytes, str]:
    data = path.read_bytes()
    return data[:4], hashlib.sha256(data).hexdigest()


@pytest.mark.asyncio
async def test_call_is_recorded_from_the_answer_and_catalogued(tmp_path: Path) -> None:
    settings = flow_settings(tmp_path, 1)
    harness = floor_harness(
        tmp_path, settings=settings, behaviour=FAST_AGENT, start=False, keep_events=True
    )
    async with harness as h, flow_daemon(h, FlowSetup()) as daemon:
        await h.place(CallerBehaviour(number="5550400", hangup_after=None))
        await h.wait_for(
            lambda: any(c.recording_id for c in daemon.registry.recent), "the recording"
        )
        (call,) = daemon.registry.recent
    assert call.recording_path is not None
    wav = Path(call.recording_path)
    assert wav.is_relative_to(tmp_path / "recordings")
    head, sha = _wav_facts(wav)
    assert head == b"RIFF"
    (rec,) = h.rows("select id, call_id, agent_id, sha256, duration_s, path from recordings")
    assert rec[:3] == (call.recording_id, call.call_id, settings.agents[0].id)
    assert rec[3] == sha
    assert rec[4] > 0
    assert rec[5] == str(wav)
    assert h.rows("select recording_id, outcome from calls") == [(call.recording_id, "answered")]
    # started over FastAGI (the AMI user has no `system` class for the MixMonitor action), with
    # option b: only the bridged talk is in the file, not the ring before the answer
    execs = [e.get("Command") or "" for e in h.sim_events("AGIExecStart")]
    assert any(c.startswith("EXEC MixMonitor") and ",br(" in c for c in execs)
    assert rec[4] == pytest.approx(FAST_AGENT.talk_time, abs=0.25)
    legs = h.rows("select leg, sha256 from recording_legs order by leg")
    assert [leg for leg, _ in legs] == ["in", "out"]  # dual channel: both legs catalogued
    for leg, sha in legs:
        stored = wav.with_name(f"{wav.stem}-{leg}.wav")
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha
        assert stored.stat().st_mode & 0o777 == 0o600


@pytest.mark.asyncio
async def test_a_call_nobody_answered_leaves_no_recording_behind(tmp_path: Path) -> None:
    settings = flow_settings(tmp_path, 1)
    never = AgentBehaviour(answer_after=None)
    harness = floor_harness(tmp_path, settings=settings, behaviour=never, start=False)
    async with harness as h, flow_daemon(h, FlowSetup()) as daemon:
        await h.place(CallerBehaviour(number="5550401", hangup_after=3.0))
        await h.wait_for(lambda: any(c.outcome for c in daemon.registry.recent), "the hang-up")
        (call,) = daemon.registry.recent
        assert call.recording_path is not None  # MixMonitor ran before the Dial ...
        wav = Path(call.recording_path)
        await h.wait_for(lambda: not wav.exists() and not any(wav.parent.glob("*")),
                         "the header-only files removed")  # fmt: skip
    assert h.rows("select count(*) from recordings") == [(0,)]


@pytest.mark.asyncio
async def test_survey_after_the_agent_hangs_up_stores_the_rating(tmp_path: Path) -> None:
    settings = flow_settings(tmp_path, 1)
    harness = floor_harness(tmp_path, settings=settings, behaviour=FAST_AGENT, start=False)
    async with harness as h, flow_daemon(h, FlowSetup(), survey_rate=1.0) as daemon:
        # rating 4, then "1": the problem was solved
        await h.place(CallerBehaviour(number="5550500", prompt_answers=("4", "1")))
        await h.wait_for(lambda: any(c.outcome for c in daemon.registry.recent), "the call to end")
    rows = h.rows("select outcome, hung_up_by, survey_rating, survey_solved from calls")
    assert rows == [("answered", "agent", 4, 1)]


@pytest.mark.mqtt
@pytest.mark.asyncio
async def test_screen_pop_reaches_the_agent_topic_before_the_phone_rings(tmp_path: Path) -> None:
    if not port_open("127.0.0.1", 1883, 0.5):
        pytest.fail("Mosquitto expected on 127.0.0.1:1883")
    prefix = f"test-flow-{uuid.uuid4().hex[:8]}"
    settings = flow_settings(tmp_path, 1, mqtt_prefix=prefix)
    agent = settings.agents[0].id
    last = PastCall(
        "c-old", dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC), "orders", "2003", "answered"
    )
    setup = FlowSetup(
        ivr=IvrOutcome(
            "queue",
            queue="after_sales",
            reason="item_missing",
            order_number="A1001",
            path=({"node": "main", "keys": ["2"]}, {"node": "after_sales", "keys": ["3"]}),
        ),
        profiles={"5550600": Profile("Li Lei", vip=True, recent_calls=(last,))},
    )
    topic = f"{prefix}/agents/{agent}/screenpop"
    async with aiomqtt.Client("127.0.0.1", 1883, identifier=f"{prefix}-sub") as sub:
        await sub.subscribe(topic, qos=1)
        harness = floor_harness(tmp_path, settings=settings, behaviour=FAST_AGENT, start=False)
        async with harness as h, flow_daemon(h, setup, mqtt=True):
            await h.place(CallerBehaviour(number="5550600", hangup_after=None))
            async with asyncio.timeout(8):
                message = await anext(aiter(sub.messages))
    assert str(message.topic) == topic
    assert isinstance(message.payload, bytes)
    pop = json.loads(message.payload)
    assert pop["type"] == "agent.screenpop"
    assert (pop["agent_id"], pop["number"], pop["name"], pop["vip"]) == (
        agent, "5550600", "Li Lei", True
    )  # fmt: skip
    assert pop["ivr"] == {
        "menus": [{"node": "main", "keys": ["2"]}, {"node": "after_sales", "keys": ["3"]}],
        "reason": "item_missing",
        "order_number": "A1001",
    }
    assert pop["recent_calls"] == [
        {
            "call_id": "c-old",
            "arrived_at": "2026-11-01T09:30:00+00:00",
            "queue": "orders",
            "agent_id": "2003",
            "outcome": "answered",
        }
    ]

"""The core's clock contract (advance / next_deadline), Originate outcomes and the WAV writer."""

from __future__ import annotations

import io
import random
import wave
from array import array

import pytest

from acd.sim.outputs import AmiEvent, OriginateRequest, OriginateResult
from acd.sim.pbx import Pbx
from acd.sim.plan import AgentBehaviour, CallerBehaviour, DtmfPress, SimPlan
from acd.sim.timers import Timers
from acd.sim.wav import render, write
from tests.sim.pbx_driver import Driver


def test_timers_fire_in_deadline_order_with_their_own_time() -> None:
    timers = Timers()
    fired: list[tuple[str, float]] = []
    timers.at(2.0, lambda t: fired.append(("b", t)))
    timers.at(1.0, lambda t: fired.append(("a", t)))
    late = timers.at(1.5, lambda t: fired.append(("x", t)))
    late.cancel()
    assert timers.next_deadline() == 1.0
    timers.run_due(5.0)
    assert fired == [("a", 1.0), ("b", 2.0)]
    assert timers.next_deadline() is None


def test_pbx_does_nothing_before_its_deadline() -> None:
    pbx = Pbx(SimPlan(), rng=random.Random(3), epoch=1_700_000_000.0)
    caller = CallerBehaviour(number="5551000", dtmf=(DtmfPress(2.0, "1"),), hangup_after=5.0)
    pbx.originate(
        0.0,
        OriginateRequest(
            channel="Local/5551000@caller-sim/n", context="parking-lot", exten="hold", caller=caller
        ),
    )
    pbx.drain()
    deadline = pbx.next_deadline()
    assert deadline == 2.0
    pbx.advance(1.999)
    assert pbx.drain() == []
    pbx.advance(2.0)
    begin = [o for o in pbx.drain() if isinstance(o, AmiEvent)]
    assert [o.message.name for o in begin] == ["DTMFBegin"]
    pbx.advance(10.0)
    assert pbx.channels() == []
    assert pbx.next_deadline() is None


def test_uniqueids_follow_the_epoch_and_linkedid_the_first_channel() -> None:
    driver = Driver(script=lambda _sid, _open: [])
    driver.originate(
        OriginateRequest(
            channel="Local/5551001@caller-sim/n",
            context="hotline",
            exten="s",
            caller=CallerBehaviour(number="5551001"),
        )
    )
    driver.run_until(7.0)
    news = [m for m in driver.run.messages if m.name == "Newchannel"]
    first = news[0]["Uniqueid"]
    assert first == "1795327343.852"
    assert news[0]["Channel"] == "Local/5551001@caller-sim-000001aa;1"
    assert {m["Linkedid"] for m in news} == {first}
    assert news[2]["Uniqueid"] == "1795327343.854"  # agent leg at once: empty AGI session


@pytest.mark.parametrize(
    ("channel", "agents", "reason"),
    [
        ("Local/nosuchexten@caller-sim/n", {}, 0),
        ("PJSIP/2001", {"PJSIP/2001": AgentBehaviour(answer_after=None)}, 3),
        ("PJSIP/2002", {"PJSIP/2002": AgentBehaviour(answer_after=0.5)}, 4),
    ],
)
def test_originate_outcomes(channel: str, agents: dict[str, AgentBehaviour], reason: int) -> None:
    driver = Driver(SimPlan(agents=agents))
    driver.originate(
        OriginateRequest(
            channel=channel, application="Wait", data="1", timeout_ms=3000, action_id="o1"
        )
    )
    driver.run_until(20.0)
    (response,) = [m for m in driver.run.messages if m.name == "OriginateResponse"]
    assert response["Reason"] == str(reason)
    assert response["Response"] == ("Success" if reason == 4 else "Failure")
    assert [k for k, _ in response.headers][5:7] == ["Application", "Data"]
    if reason != 4:
        assert response["Uniqueid"] == "<unknown>"
    assert driver.pbx.channels() == []


def test_sync_originate_reports_through_originate_result() -> None:
    driver = Driver(SimPlan(agents={"PJSIP/2003": AgentBehaviour(answer_after=1.0)}))
    driver.originate(
        OriginateRequest(
            channel="PJSIP/2003",
            context="parking-lot",
            exten="hold",
            is_async=False,
            action_id="s1",
        )
    )
    driver.run_until(2.0)
    (result,) = [o for o in driver.run.other if isinstance(o, OriginateResult)]
    assert (result.action_id, result.success, result.reason) == ("s1", True, 4)
    assert not [m for m in driver.run.messages if m.name == "OriginateResponse"]


@pytest.mark.parametrize("channels", [1, 2])
def test_wav_is_valid_pcm_with_gaps(channels: int) -> None:
    data = render(12.5, channels, seed=7)
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (channels, 8000, 2)
        assert w.getnframes() == 100_000
        frames = array("h", w.readframes(w.getnframes()))
    left = frames[0::channels]
    silent = sum(1 for i in range(0, len(left), 800) if not any(left[i : i + 800]))
    loud = sum(1 for i in range(0, len(left), 800) if max(left[i : i + 800]) > 1000)
    assert silent > 5  # gaps a dead-air detector can find
    assert loud > 20
    assert render(12.5, channels, seed=7) == data  # deterministic


def test_wav_write_creates_parent_directories(tmp_path: object) -> None:
    from pathlib import Path

    target = Path(str(tmp_path)) / "a" / "b.wav"
    write(target, 1.0, 2, seed=1)
    with wave.open(str(target)) as w:
        assert w.getnframes() == 8000
    with pytest.raises(ValueError, match="channels"):
        render(1.0, 3)

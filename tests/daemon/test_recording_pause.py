"""Pausing a call's recording for sensitive data, through the real daemon and the PBX simulator:
the agent's ``*16`` feature code over FastAGI and the HTTP API mute the MixMonitor on the agent's
leg (AMI ``MixMonitorMute``), the limit resumes it on its own, and each pause is stored."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from acd.app.daemon import RunOptions
from acd.daemon.calls import Call
from acd.daemon.ivr_port import Features
from acd.daemon.recording_control import RecordingControl, RecordingRefused
from acd.settings.settings import Settings
from recordings import catalogue
from recordings.pause import RecordingPause
from tests.daemon import harness as harness_module
from tests.daemon.harness import Harness, QueueAtOnce, floor_harness, floor_settings
from tests.daemon.test_agent_codes import _dial_code
from tests.http.api_harness import SUPERVISOR, issue_key
from tests.http.live_daemon import LONG_TALK, with_tokens

CONFIRM = 'STREAM FILE beep ""'
ERROR = 'STREAM FILE beeperr ""'


def pause_settings(workdir: Path, max_pause_s: float) -> Settings:
    settings = with_tokens(floor_settings(2))
    recording = settings.recording.model_copy(
        update={"directory": str(workdir / "recordings"), "max_pause_s": max_pause_s}
    )
    return settings.model_copy(update={"recording": recording})


@asynccontextmanager
async def recorded_floor(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, *, max_pause_s: float
) -> AsyncIterator[Harness]:
    """Two agents on long calls, calls recorded and pausable, the HTTP API on a free port."""
    monkeypatch.setattr(harness_module, "RunOptions", functools.partial(RunOptions, http_port=0))
    settings = pause_settings(workdir, max_pause_s)
    runner = QueueAtOnce(settings.default_queue)
    features = Features(
        ivr=lambda _sessions: runner, recorder=catalogue, recording_pauses=RecordingPause
    )
    async with floor_harness(
        workdir, settings=settings, features=features, behaviour=LONG_TALK, keep_events=True
    ) as h:
        yield h


def feature_code(h: Harness, script: str) -> str:
    """The feature code's AGI script as the installed dialplan sends it: with the key."""
    key = h.settings.system.fastagi.key
    value = key.get_secret_value() if key is not None else ""
    return f"{script}{'&' if '?' in script else '?'}key={value}"


async def answered_recorded_call(h: Harness) -> Call:
    await h.place()

    def recorded_and_talking(call: Call) -> bool:
        return call.state.recording_path is not None and call.state.talking

    await h.wait_for(
        lambda: any(recorded_and_talking(c) for c in h.daemon.registry), "a recorded answered call"
    )
    return next(c for c in h.daemon.registry if recorded_and_talking(c))


def mutes(h: Harness, state: str) -> list[tuple[str, str]]:
    """(channel, direction) of each MixMonitorMute event the simulator emitted with ``state``."""
    return [
        (e["Channel"], e["Direction"])
        for e in h.sim_events("MixMonitorMute")
        if e.get("State") == state
    ]


def control_of(h: Harness) -> RecordingControl:
    control = h.daemon.recording_control
    assert control is not None
    return control


async def end_call_and_stop(h: Harness, call: Call) -> None:
    h.hang_up(call.facts.channel)
    await h.wait_for(h.quiet, "the call to end")
    await h.stop_daemon()


@pytest.mark.asyncio
async def test_feature_code_pauses_and_the_limit_resumes_the_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with recorded_floor(tmp_path, monkeypatch, max_pause_s=0.5) as h:
        call = await answered_recorded_call(h)
        agent = call.state.agent_id
        leg = call.state.agent_channel  # the MixMonitor's channel: started at the answer
        assert leg is not None
        idle = next(a.id for a in h.settings.agents if a.id != agent)
        port = h.sim.plan.dialplan.agi_port
        # a local process posing as Asterisk without the dialplan's key: refused, nothing done
        forged = await _dial_code(port, f"PJSIP/{agent}-000000a0", "agent?action=record-pause")
        assert forged == []
        assert mutes(h, "1") == []
        # the idle agent has no call: refused with the error tone, nothing sent to the PBX
        sent = await _dial_code(
            port, f"PJSIP/{idle}-000000a1", feature_code(h, "agent?action=record-pause")
        )
        assert sent[-1] == ERROR
        # the agent on the call keys *161 (reason code 1)
        sent = await _dial_code(
            port, f"PJSIP/{agent}-000000a2", feature_code(h, "agent?action=record-pause&reason=1")
        )
        assert sent[-1] == CONFIRM
        assert mutes(h, "1") == [(leg, "both")]
        # pressing pause again neither sends a second mute nor extends the limit
        sent = await _dial_code(
            port, f"PJSIP/{agent}-000000a3", feature_code(h, "agent?action=record-pause")
        )
        assert sent[-1] == ERROR
        # the daemon marks the call resumed once Asterisk acknowledged the unmute, a moment
        # after the PBX applied it: wait for both (reading the first alone raced the second)
        await h.wait_for(
            lambda: bool(mutes(h, "0")) and not control_of(h).paused_calls(),
            "the automatic resume",
        )
        assert mutes(h, "0") == [(leg, "both")]
        assert control_of(h).paused_calls() == []
        # nothing left to resume
        sent = await _dial_code(
            port, f"PJSIP/{agent}-000000a4", feature_code(h, "agent?action=record-resume")
        )
        assert sent[-1] == ERROR
        await end_call_and_stop(h, call)
    rows = h.rows(
        "select call_id, channel, reason, requested_by, auto_resumed, paused_at, resumed_at"
        " from recording_pauses"
    )
    assert len(rows) == 1
    call_id, channel, reason, by, auto, paused_at, resumed_at = rows[0]
    assert (call_id, channel, reason, by, auto) == (call.call_id, leg, "1", agent, 1)
    assert paused_at < resumed_at
    kinds = [step["kind"] for step in h.timeline()]
    assert kinds.index("answered") < kinds.index("recording_paused")
    assert kinds.index("recording_paused") < kinds.index("recording_resumed")


@pytest.mark.asyncio
async def test_api_pauses_and_resumes_and_refuses_without_a_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with recorded_floor(tmp_path, monkeypatch, max_pause_s=600.0) as h:
        assert h.daemon.http is not None
        call = await answered_recorded_call(h)
        leg = call.state.agent_channel  # the MixMonitor's channel: started at the answer
        assert leg is not None
        base = f"/calls/{call.call_id}/recording"
        assert h.daemon.api.sessions is not None
        own = await issue_key(h.daemon.api.sessions, "li.na", "agent", agent_id=call.state.agent_id)
        other = next(a.id for a in h.settings.agents if a.id != call.state.agent_id)
        colleague = await issue_key(h.daemon.api.sessions, "wang", "agent", agent_id=other)
        async with httpx.AsyncClient(base_url=h.daemon.http.url) as client:
            r = await client.post(f"{base}/pause", json={"reason": "card"}, headers=colleague)
            assert r.status_code == 403  # not their call
            r = await client.post(f"{base}/resume", headers=own)
            assert r.status_code == 409  # not paused
            r = await client.post(f"{base}/pause", json={"reason": "card"}, headers=own)
            assert r.status_code == 200, r.text
            assert r.json()["paused"] is True
            assert mutes(h, "1") == [(leg, "both")]
            r = await client.post(f"{base}/pause", json={}, headers=SUPERVISOR)
            assert r.status_code == 409  # already paused
            r = await client.post(f"{base}/resume", headers=SUPERVISOR)
            assert r.status_code == 200, r.text
            assert mutes(h, "0") == [(leg, "both")]
            r = await client.post("/calls/no-such-call/recording/pause", headers=SUPERVISOR)
            assert r.status_code == 409
            r = await client.post(f"{base}/pause", headers={})
            assert r.status_code == 401
        # a pause still open when the caller hangs up is closed at the hang-up
        control = control_of(h)
        await control.pause(call_id=call.call_id, reason="pin", by="test")
        h.hang_up(call.facts.channel)
        await h.wait_for(lambda: control.paused_calls() == [], "the pause closed at hang-up")
        assert len(mutes(h, "0")) == 1  # no unmute sent to a channel that is gone
        await h.wait_for(h.quiet, "the call to end")
        await h.stop_daemon()
        with pytest.raises(RecordingRefused):
            control_of(h).recorded_call(call_id=call.call_id)
    rows = h.rows(
        "select reason, requested_by, auto_resumed from recording_pauses order by paused_at"
    )
    assert rows == [("card", "li.na", 0), ("pin", "test", 0)]

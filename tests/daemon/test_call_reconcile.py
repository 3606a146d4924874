"""Rows a killed daemon left open are closed by the next one (``acd.daemon.call_reconcile``)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from acd.asterisk.ami.message import Message
from acd.daemon.call_reconcile import CallReconcile, OpenCall, _legs, closure
from acd.daemon.calls import CallRegistry
from acd.daemon.recording import CallRecording, RecordingSettings
from acd.sim.plan import AgentBehaviour, CallerBehaviour
from acd.storage.agent_legs import LegRow
from acd.storage.commands import InsertRecording, UpsertCall, WriteCommand
from acd.storage.engine import create_engine
from recordings import catalogue
from tests.daemon.flow_daemon import FlowSetup, flow_features, flow_settings
from tests.daemon.harness import floor_harness
from tests.recordings.conftest import write_wav

LONG_TALK = AgentBehaviour(answer_after=0.5, talk_time=40.0, hangs_up="agent")


def test_closure_follows_the_evidence() -> None:
    talked = OpenCall("c1", "u1", 100.0, "enquiries", "1001")
    waited = OpenCall("c2", "u2", None, "enquiries", None)
    assert closure(talked, ended_at=200.0, observed=True, queued=False).outcome == "answered"
    assert closure(waited, ended_at=200.0, observed=True, queued=True).outcome == "fallback"
    assert closure(waited, ended_at=200.0, observed=False, queued=False).outcome == "abandoned"
    assert closure(talked, ended_at=200.0, observed=False, queued=False).ended_at == 200.0


@pytest.mark.asyncio
async def test_a_ring_answered_after_its_daemon_died_is_closed_answered(tmp_path: Path) -> None:
    """Rung when the daemon died, answered after (the Dial outlives the FastAGI session,
    RECORDED q2 c2): the next daemon follows the row, sees the answer (DialEnd ANSWER) and
    closes it answered with that answer time, not abandoned."""
    written: list[WriteCommand] = []
    times = iter([500.0, 560.0])
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/unused.db")
    reconcile = CallReconcile(
        engine, CallRegistry(), written.append, recording=None, clock=lambda: next(times)
    )
    ringing = OpenCall("c1", "u1", None, "enquiries", "1001")
    reconcile._following["u1"] = ringing  # as _start does for a live channel
    other = {"Channel": "Local/x;2", "DestChannel": "Local/1001@agent-phones-1;1"}
    reconcile._on_event(Message.build((("Event", "DialEnd"),), Uniqueid="u9", **other,
                                      DialStatus="ANSWER"))  # fmt: skip
    reconcile._on_event(Message.build((("Event", "DialEnd"),), Uniqueid="u1", **other,
                                      DialStatus="ANSWER"))  # fmt: skip
    reconcile._on_event(Message.build((("Event", "Hangup"),), Uniqueid="u1"))
    call, ended_at = reconcile._ended.get_nowait()
    assert (call.answered_at, ended_at) == (500.0, 560.0)
    await reconcile._close(call, ended_at, observed=True)
    (row,) = written
    assert isinstance(row, UpsertCall)
    assert row.values["outcome"] == "answered"
    assert row.values["answered_at"] is not None
    # handed back by a stopping daemon while ringing: corrected only if the Dial is answered
    back = OpenCall("c2", "u2", None, "enquiries", "1001", handed_back=True)
    await reconcile._close(back, 570.0, observed=True)
    assert len(written) == 1  # the fallback row stays as it is
    await reconcile._close(replace(back, answered_at=565.0, answer_seen=True), 570.0, True)
    assert written[-1].values["outcome"] == "answered"  # type: ignore[union-attr]
    await engine.dispose()


@pytest.mark.asyncio
async def test_a_conversation_across_a_sigkill_is_completed_by_the_restarted_daemon(
    tmp_path: Path,
) -> None:
    async with floor_harness(tmp_path, agents=1, behaviour=LONG_TALK, keep_events=True) as h:
        await h.place(CallerBehaviour(number="5550950", hangup_after=None))
        await h.wait_for(lambda: len(h.sim_events("BridgeEnter")) >= 2, "talking")
        await h.sigkill_daemon()
        killed_at = datetime.now().astimezone()
        # the bridged Dial outlives the FastAGI session (RECORDED q2 d): still talking
        assert h.sim.pbx.channels()
        restarted = await h.start_daemon(login=False)
        await h.wait_for(lambda: not h.sim.pbx.channels(), "the conversation's end", 15)
        await h.wait_for(lambda: restarted.call_reconcile.closed == 1, "the row closed")
        await h.stop_daemon()
    ((outcome, answered, ended, agent),) = h.rows(
        "SELECT outcome, answered_at, ended_at, agent_id FROM calls"
    )
    assert outcome == "answered"
    assert agent == h.settings.agents[0].id
    assert answered is not None
    # ended at the hang-up the restarted daemon saw, not at the kill
    assert datetime.fromisoformat(ended).replace(tzinfo=killed_at.tzinfo) > killed_at
    # the caller was not offered to a daemon again: the conversation finished them
    assert not [
        m
        for m in h.sim_events("VarSet")
        if m.get("Value") == "1" and m.get("Variable") == "HOTLINE_RESUMES"
    ]


SLOW_ANSWER = AgentBehaviour(answer_after=2.0, talk_time=3.0, hangs_up="agent")


@pytest.mark.asyncio
@pytest.mark.parametrize("killed_while", ["ringing", "talking", "ringing, answered while down"])
async def test_a_recording_started_by_the_dial_survives_a_sigkill_and_is_catalogued(
    tmp_path: Path, killed_while: str
) -> None:
    """The Dial carries the recording (its U() starts MixMonitor on the agent's channel at the
    answer, acd.daemon.recording): killed while that Dial rings (the answer then comes with no
    daemon, seen or not) or the conversation runs, the daemon loses no caller and no file; the
    restarted one closes the row answered with the recording catalogued."""
    # real time (the row is written while the phone still rings), a ring timeout past the answer
    settings = flow_settings(tmp_path, 1, queues={"enquiries": {"ring_cadence_s": 20.0}})
    features = flow_features(FlowSetup())
    harness = floor_harness(
        tmp_path,
        settings=settings,
        features=features,
        behaviour=SLOW_ANSWER,
        keep_events=True,
        time_scale=1.0,
    )
    async with harness as h:
        await h.place(CallerBehaviour(number="5550951", hangup_after=None))
        await h.wait_for(lambda: bool(h.sim_events("DialBegin")), "ringing")
        await h.wait_for(lambda: bool(h.rows("SELECT id FROM calls")), "the call's row")
        if killed_while == "talking":
            await h.wait_for(lambda: len(h.sim_events("BridgeEnter")) >= 2, "talking")
        await h.sigkill_daemon()
        assert not h.sim_events("Hangup")  # nobody dropped: the Dial outlives the session
        if killed_while.endswith("while down"):  # no daemon sees the DialEnd ANSWER
            await h.wait_for(lambda: len(h.sim_events("BridgeEnter")) >= 2, "answered")
        restarted = await h.start_daemon(login=False)
        await h.wait_for(lambda: not h.sim.pbx.channels(), "the conversation's end", 15)
        await h.wait_for(lambda: restarted.call_reconcile.closed == 1, "the row closed", 15)
        await h.stop_daemon()
        started = h.sim_events("MixMonitorStart")
        phone = f"{settings.agents[0].endpoint}-"
        dial_ends = [
            m.get("DialStatus")
            for m in h.sim_events("DialEnd")
            if (m.get("DestChannel") or "").startswith(phone)
        ]
    assert len(started) == 1  # once, by the Dial, on the agent's channel when it answered
    assert (started[0].get("Channel") or "").startswith(phone)
    assert dial_ends == ["ANSWER"]
    ((outcome, recording_id),) = h.rows("SELECT outcome, recording_id FROM calls")
    assert outcome == "answered"
    ((rec_call, duration),) = h.rows("SELECT call_id, duration_s FROM recordings")
    assert recording_id is not None
    assert rec_call == h.rows("SELECT id FROM calls")[0][0]
    assert duration == pytest.approx(SLOW_ANSWER.talk_time, abs=0.5)  # the talk only


@pytest.mark.asyncio
async def test_every_answered_leg_of_a_reconciled_call_is_catalogued(tmp_path: Path) -> None:
    """A transferred call whose daemon died during the second conversation: each agent's leg
    had its own file (the second with ``-2``); the next daemon catalogues both, each with its
    agent and queue, and the row takes the first leg's recording."""
    written: list[WriteCommand] = []
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/unused.db")
    recording = CallRecording(catalogue, written.append, RecordingSettings(tmp_path / "rec"))
    reconcile = CallReconcile(
        engine, CallRegistry(), written.append, recording=recording, clock=lambda: 900.0
    )
    first_at, second_at = 1_796_500_000.0, 1_796_500_060.0
    legs = (
        LegRow("1001", "c7", datetime.fromtimestamp(first_at, UTC), None, None, "enquiries"),
        LegRow("1002", "c7", datetime.fromtimestamp(second_at, UTC), None, None, "complaints"),
    )
    call = OpenCall("c7", "u7", first_at, "complaints", "1002", legs=legs)
    first = Path(recording.path_for("c7", "enquiries", first_at))
    second = Path(recording.path_for("c7", "complaints", second_at, leg=2))
    assert second.name == "c7-2.wav"
    for path in (first, second):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(path, [("tone", 2.0)])
    await reconcile._close(call, second_at + 30.0, observed=True)
    inserted = [c for c in written if isinstance(c, InsertRecording)]
    assert [(c.recording_id, c.agent_id, c.queue, c.path) for c in inserted] == [
        ("c7", "1001", "enquiries", str(first)),
        ("c7-2", "1002", "complaints", str(second)),
    ]
    (row,) = [c for c in written if isinstance(c, UpsertCall)]
    assert row.values["recording_id"] == "c7"


@pytest.mark.asyncio
async def test_a_reconciled_leg_takes_the_file_its_daemon_ordered(tmp_path: Path) -> None:
    """The row's legs carry the file each Dial ordered (its date from the offer, a minute
    before midnight; answered after it): that file is catalogued, not one named from the
    answer; a leg whose recording never started is skipped at once, without waiting for it."""
    written: list[WriteCommand] = []
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/unused.db")
    recording = CallRecording(catalogue, written.append, RecordingSettings(tmp_path / "rec"))
    reconcile = CallReconcile(
        engine, CallRegistry(), written.append, recording=recording, clock=lambda: 900.0
    )
    offered, answered = 1_796_601_599.0, 1_796_601_601.0  # 23:59:59 and 00:00:01 UTC
    ordered = Path(recording.path_for("c9", "enquiries", offered))
    assert ordered != Path(recording.path_for("c9", "enquiries", answered))
    ordered.parent.mkdir(parents=True)
    write_wav(ordered, [("tone", 1.0)])
    at = datetime.fromtimestamp(answered, UTC)
    legs = (
        LegRow("1001", "c9", at, None, None, "enquiries", str(ordered), recording_stored=True),
        LegRow("1002", "c9", at, None, None, "enquiries", None, recording_stored=True),
    )
    started = asyncio.get_running_loop().time()
    await reconcile._close(OpenCall("c9", "u9", answered, "enquiries", "1002", legs=legs), 990.0,
                           observed=True)  # fmt: skip
    assert asyncio.get_running_loop().time() - started < 3.0  # no 5 s wait for leg 2
    inserted = [c for c in written if isinstance(c, InsertRecording)]
    assert [(c.recording_id, c.path) for c in inserted] == [("c9", str(ordered))]


def test_a_malformed_agent_legs_column_is_read_as_no_legs() -> None:
    """One bad row must not stop the reconcile (its task's exception would stop the daemon)."""
    assert _legs("c1", [{"agent_id": "1001"}]) == ()  # no answer time
    assert _legs("c1", {"agent_id": "1001"}) == ()  # not a list
    assert _legs("c1", [42]) == ()
    assert _legs("c1", None) == ()
    good = _legs("c1", [{"agent_id": "1001", "answered_at": "2026-12-06T10:00:00+00:00"}])
    assert [(leg.agent_id, leg.recording_stored) for leg in good] == [("1001", False)]

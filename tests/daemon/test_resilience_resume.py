"""A daemon dies with callers waiting; the other daemon resumes them (route ``resume``).

Two daemons in this process on one database, in front of the simulator running the shipped
dialplan rendered with a standby address: the active one holds two waiting callers (its only
agent paused), the standby listens (as if it had just won the leadership); the agent comes back
from the pause there.
The active one is SIGKILLed: Asterisk ends both AGI() sessions with SUCCESS and keeps the
variables (RECORDED q2_*), ``[hotline-resume]`` sees no ``HOTLINE_DONE`` and offers each caller
to the standby, which queues them with their priority and place, and connects them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from acd.asterisk.aio.agi_session import AgiSession
from acd.daemon.call_flow import conversation
from acd.daemon.ivr_port import Features, IvrOutcome
from acd.engine.floor_inputs import AgentAction
from acd.settings import names
from acd.sim.plan import AgentBehaviour, CallerBehaviour
from tests.daemon.harness import floor_harness, floor_settings


class _AfterSales:
    """An IVR that queues at once with what the caller said (kept in the row by the resume)."""

    def __init__(self, queue: str) -> None:
        self.queue = queue

    def language(self, session: AgiSession) -> str:
        return "zh"

    async def __call__(
        self, session: AgiSession, *, caller_number: str, vip: bool, language: str
    ) -> IvrOutcome:
        return IvrOutcome("queue", queue=self.queue, reason="repair", order_number="A1234")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.asyncio
async def test_callers_waiting_at_a_killed_daemon_are_resumed_by_the_standby(
    tmp_path: Path,
) -> None:
    standby_port = _free_port()
    settings = floor_settings(1)
    fastagi = settings.fastagi.model_copy(
        update={"standby_host": "127.0.0.1", "standby_port": standby_port}
    )
    settings = settings.model_copy(
        update={"system": settings.system.model_copy(update={"fastagi": fastagi})}
    )
    ivr = _AfterSales(settings.default_queue)
    features = Features(ivr=lambda _sessions: ivr)
    async with floor_harness(tmp_path, settings=settings, features=features, keep_events=True) as h:
        agent = h.settings.agents[0].id
        await h.daemon.acd.agent_input(agent, AgentAction.PAUSE, "meeting")
        for i in range(2):
            await h.place(CallerBehaviour(number=f"555091{i}", hangup_after=None))
        await h.wait_for(
            lambda: h.floor(lambda f, _now: len(f.router.waiting_calls()) == 2), "two waiting"
        )
        await h.daemon.writer.wait_drained()  # the pause is stored: the standby restores it
        active, run = h.detach()
        standby = await h.start_daemon(agi_port=standby_port)  # the agent's session restored
        await h.sigkill(active, run)
        await standby.acd.agent_input(agent, AgentAction.UNPAUSE)  # back from the meeting
        await h.wait_for(lambda: len(h.sim_events("BridgeEnter")) >= 4, "both connected", 15)
        await h.wait_for(lambda: not h.sim.pbx.channels(), "both calls over", 15)
        assert standby.outputs.outcomes["answered"] == 2
        await h.stop_daemon()
    # nobody reached the fallback Queue(): the standby took both at their first resume
    assert not h.sim_events("QueueCallerJoin")
    resumes = {
        m.get("Value") for m in h.sim_events("VarSet") if m.get("Variable") == names.VAR_RESUMES
    }
    assert resumes == {"0", "1"}
    kept = h.rows("SELECT ivr_reason, order_number FROM calls")
    assert kept == [("repair", "A1234")] * 2  # the first daemon's IVR answers, not overwritten
    rows = h.rows("SELECT id, outcome, agent_id, arrived_at, queue, priority FROM calls")
    assert len(rows) == 2  # the same rows continued, none written twice
    assert {r[1:3] for r in rows} == {("answered", agent)}
    # the first daemon's steps ride on its row writes (calls.timeline); the standby's are
    # call_events rows (the reports merge both by step number)
    events = h.rows("SELECT call_id, seq, kind, at FROM call_events ORDER BY call_id, seq")
    for call_id, _outcome, _agent, arrived_at, queue, priority in rows:
        column = [(call_id, s["seq"], s["kind"], s["at"]) for s in h.timeline(call_id)]
        resumed = [e for e in events if e[0] == call_id]
        mine = column + resumed
        assert [e[2] for e in mine].count("arrived") == 1  # the first daemon's
        assert resumed, "the standby's steps are stored"
        assert all(e[1] >= 1000 for e in resumed), "the standby's steps continue the numbering"
        assert all(e[1] < 1000 for e in column)
        assert queue == h.settings.default_queue
        assert priority == h.settings.queue(queue).priority
        first = next(e for e in mine if e[2] == "arrived")
        stepped = datetime.fromisoformat(first[3]).replace(tzinfo=None)  # stored UTC either way
        kept = datetime.fromisoformat(arrived_at) - stepped
        assert abs(kept.total_seconds()) <= 0.001  # the original arrival (to the ms stored)


@pytest.mark.asyncio
@pytest.mark.parametrize("stalled", [False, True], ids=["ringing", "dial-written-no-waits-yet"])
async def test_a_caller_whose_place_went_with_the_dial_is_resumed_in_their_queue(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    stalled: bool,
) -> None:
    """An agent was free, so the Dial stored the caller's place in its pre-dial handler (no
    ``EXEC MSet`` before it). The daemon is SIGKILLed while that Dial rings and restarted; the
    phone never answers: the caller comes back through ``[hotline-resume]`` with their queue,
    priority and place on the channel, and the restarted daemon queues them there (not the
    IVR again), continuing the same row. ``stalled``: the call's task is held where the Dial's
    command is written and the waits for the answer are not set up yet (the ring yields to the
    Dial's task first), and the kill comes there."""
    caplog.set_level(logging.INFO)
    held: list[bool] = []
    if stalled:
        original = conversation.Conversation._converse

        async def hold_then_converse(self: Any, call: Any, dial: Any, answer: Any) -> Any:
            if not held:  # the first daemon's only call: held until the kill
                held.append(True)
                await asyncio.Event().wait()
            return await original(self, call, dial, answer)

        monkeypatch.setattr(conversation.Conversation, "_converse", hold_then_converse)
    settings = floor_settings(1, ring_timeout_s=3.0)
    ivr = _AfterSales(settings.default_queue)
    features = Features(ivr=lambda _sessions: ivr)
    harness = floor_harness(
        tmp_path,
        settings=settings,
        features=features,
        behaviour=AgentBehaviour(answer_after=None),
        keep_events=True,
    )
    async with harness as h:
        await h.place(CallerBehaviour(number="5550920", hangup_after=None))
        await h.wait_for(lambda: bool(h.sim_events("DialBegin")), "the agent's phone ringing")
        await h.wait_for(lambda: bool(h.rows("SELECT id FROM calls")), "the call's row")
        assert held == ([True] if stalled else [])  # killed where the waits are not set up
        await h.sigkill_daemon()
        place = {
            m.get("Variable"): (m.get("Value"), m.get("Context"))
            for m in h.sim_events("VarSet")
            if m.get("Variable") in (names.VAR_QUEUE, names.VAR_PRIORITY)
        }
        restarted = await h.start_daemon(login=False)
        await h.wait_for(
            lambda: h.floor(lambda f, _now: len(f.router.waiting_calls()) == 1),
            "the caller waiting at the restarted daemon",
            15,
        )
        (waiting,) = await restarted.acd.read(lambda f, _now: f.router.waiting_calls())
        execs = [m.get("Command") or "" for m in h.sim_events("AGIExecStart")]
        await h.kill_daemon()
    queue = settings.default_queue
    # stored by the Dial's pre-dial handler, before the ring, not by a command of its own
    assert place == {
        names.VAR_QUEUE: (queue, "hotline-predial"),
        names.VAR_PRIORITY: (str(settings.queue(queue).priority), "hotline-predial"),
    }
    first_dial = next(i for i, c in enumerate(execs) if c.startswith("EXEC Dial"))
    assert not [c for c in execs[:first_dial] if c.startswith('EXEC MSet "HOTLINE_QUEUE')]
    assert waiting.queue == queue
    messages = [r.getMessage() for r in caplog.records]
    assert [m for m in messages if "call_resumed" in m and "in_ivr" not in m]
    assert not [m for m in messages if "call_resumed_in_ivr" in m]
    assert len(h.rows("SELECT id FROM calls")) == 1  # the same row continued


@pytest.mark.asyncio
async def test_a_bug_before_the_dial_that_would_store_the_place_still_leaves_the_place(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agent was free, so the caller's place was to go with the Dial; a bug stops the ring
    before the Dial is sent. The caller is handed back with the place stored anyway: the
    dialplan offers them to the daemon again, which queues them in their queue (not the IVR)
    and connects them."""
    caplog.set_level(logging.INFO)
    real = conversation.predial_option
    failures = [RuntimeError("a bug building the Dial's options")]

    def predial_option_once(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(conversation, "predial_option", predial_option_once)
    settings = floor_settings(1)
    ivr = _AfterSales(settings.default_queue)
    features = Features(ivr=lambda _sessions: ivr)
    async with floor_harness(tmp_path, settings=settings, features=features, keep_events=True) as h:
        await h.place(CallerBehaviour(number="5550930", hangup_after=None))
        await h.wait_for(lambda: bool(h.sim_events("BridgeEnter")), "the caller connected", 15)
        await h.wait_for(lambda: not h.sim.pbx.channels(), "the call over", 15)
        await h.stop_daemon()
    assert not failures  # the bug happened
    messages = [r.getMessage() for r in caplog.records]
    assert [m for m in messages if "call_flow_failed" in m]
    assert [m for m in messages if "call_resumed" in m and "in_ivr" not in m]
    assert not [m for m in messages if "call_resumed_in_ivr" in m]
    assert not h.sim_events("QueueCallerJoin")  # not the fallback either
    assert h.rows("SELECT outcome, queue FROM calls") == [("answered", settings.default_queue)]


@pytest.mark.asyncio
async def test_killed_before_the_dial_with_the_calls_steps_held_the_caller_is_answered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agent was free: the call's steps from the IVR's end on (``ivr``, ``queued``) wait to
    be sent until its Dial is written. The daemon is killed there, before the Dial (so the
    caller's place, which was to go with it, is not on the channel): nothing is written from
    the held steps until then; the harness's kill cancels the tasks, whose cleanup writes
    them, in order, once (a real SIGKILL would leave the row at its arrival); the restarted
    daemon takes the caller through the IVR again and connects them, continuing the row."""
    caplog.set_level(logging.INFO)
    stalled: list[str] = []
    original = conversation.Conversation.ring

    async def stall_before_the_dial(self: Any, session: Any, call: Any, *args: Any) -> Any:
        if not stalled:  # the first daemon's only ring: held until the kill
            stalled.append(call.call_id)
            await asyncio.Event().wait()
        return await original(self, session, call, *args)

    monkeypatch.setattr(conversation.Conversation, "ring", stall_before_the_dial)
    settings = floor_settings(1)
    ivr = _AfterSales(settings.default_queue)
    features = Features(ivr=lambda _sessions: ivr)
    async with floor_harness(tmp_path, settings=settings, features=features, keep_events=True) as h:
        await h.place(CallerBehaviour(number="5550940", hangup_after=None))
        await h.wait_for(lambda: bool(stalled), "the call's task at its ring")
        await h.daemon.writer.wait_drained()
        [(call_id, before)] = h.rows("SELECT id, timeline FROM calls")
        assert [s["kind"] for s in json.loads(before)] == ["arrived"]  # the rest held
        await h.sigkill_daemon()
        execs = [m.get("Command") or "" for m in h.sim_events("AGIExecStart")]
        assert not [c for c in execs if c.startswith("EXEC Dial")]  # killed before the Dial
        await h.start_daemon(login=False)
        await h.wait_for(lambda: bool(h.sim_events("BridgeEnter")), "the caller connected", 15)
        await h.wait_for(lambda: not h.sim.pbx.channels(), "the call over", 15)
        await h.stop_daemon()
    messages = [r.getMessage() for r in caplog.records]
    assert [m for m in messages if "call_resumed_in_ivr" in m]  # no place on the channel
    assert not h.sim_events("QueueCallerJoin")  # not the fallback Queue()
    queue = settings.default_queue
    rows = h.rows("SELECT id, outcome, queue, ivr_reason FROM calls")
    assert rows == [(call_id, "answered", queue, "repair")]  # one row, continued
    first = [s["kind"] for s in h.timeline(call_id)]  # the first daemon's steps, each once
    assert first == ["arrived", "ivr", "queued", "ended"]
    resumed = h.rows("SELECT kind FROM call_events WHERE call_id = ? ORDER BY seq", (call_id,))
    assert ("answered",) in resumed


@pytest.mark.asyncio
async def test_a_refused_queue_entry_sends_the_held_steps_before_the_session_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The floor refuses the queue entry (a queue it does not know): the steps held for the
    ring are written at once, not after the caller's session and the recording's catalogue
    (up to seconds later); the caller goes back to the dialplan."""
    finishing = asyncio.Event()
    go_on = asyncio.Event()
    original = AgiSession.finish

    async def held_finish(self: AgiSession, timeout_s: float) -> None:
        finishing.set()
        await go_on.wait()
        await original(self, timeout_s)

    monkeypatch.setattr(AgiSession, "finish", held_finish)
    settings = floor_settings(1)
    ivr = _AfterSales("no-such-queue")
    features = Features(ivr=lambda _sessions: ivr)
    async with floor_harness(tmp_path, settings=settings, features=features, keep_events=True) as h:
        await h.place(CallerBehaviour(number="5550950", hangup_after=None))
        await h.wait_for(finishing.is_set, "the call's session ending")
        await h.daemon.writer.wait_drained()
        [(timeline,)] = h.rows("SELECT timeline FROM calls")
        assert [s["kind"] for s in json.loads(timeline)] == ["arrived", "ivr", "queued"]
        go_on.set()
        await h.stop_daemon()
    assert h.rows("SELECT outcome FROM calls") == [("fallback",)]  # to the dialplan's Queue()

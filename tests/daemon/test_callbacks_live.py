"""Booked call-backs placed by the real daemon against the PBX simulator over loopback sockets.

A pending ``callbacks`` row becomes due -> AMI Originate into ``hotline-callback`` -> the
customer's answered leg reaches the FastAGI ``callback`` route -> queued at their place -> an
agent answers -> the row is ``done``. A dial nobody answers is retried, then ``failed``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from acd.daemon.call_events import utc
from acd.engine.floor_effects import Offer
from acd.engine.floor_inputs import AgentAction
from acd.engine.model import WaitingCall
from acd.settings.schema_callbacks import CallbackSettings
from acd.settings.settings import Settings
from acd.storage.commands import InsertCallback
from tests.daemon.harness import Harness, floor_harness, floor_settings

NUMBER = "13800138000"


def with_callbacks(settings: Settings, **changes: object) -> Settings:
    base = {
        "channel": "Local/{number}@caller-sim/n",  # the simulator's answering customer
        "calling_hours": (0, 24),  # the test runs at any hour
        "check_every_s": 0.1,
        "ring_timeout_s": 5.0,
        "retry_after_s": 0.3,
        "max_attempts": 2,
    }
    base.update(changes)
    return settings.model_copy(update={"callbacks": CallbackSettings.model_validate(base)})


def book(h: Harness, queue: str, *, booked_at: float | None = None) -> str:
    """A call-back booked at ``booked_at`` (two minutes ago by default), due now."""
    now = time.time()
    booked_at = now - 120 if booked_at is None else booked_at
    callback_id = uuid.uuid4().hex
    h.daemon.outputs.store(
        InsertCallback(
            idempotency_key=f"test:cb:{callback_id}",
            callback_id=callback_id,
            call_id=None,
            number=NUMBER,
            queue=queue,
            requested_at=utc(booked_at),
            due_at=utc(now - 1),
            position=1,
        )
    )
    return callback_id


@pytest.mark.asyncio
async def test_a_due_callback_is_dialled_and_put_through_to_an_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = with_callbacks(floor_settings(2))
    async with floor_harness(tmp_path, settings=settings, keep_events=True) as h:
        queue = settings.default_queue
        acd = h.daemon.acd
        enqueued: list[WaitingCall] = []
        enqueue = acd.enqueue

        async def spy(call: WaitingCall, offers: asyncio.Queue[Offer]) -> None:
            enqueued.append(call)
            await enqueue(call, offers)

        monkeypatch.setattr(acd, "enqueue", spy)
        booked_at = time.time() - 120
        callback_id = book(h, queue, booked_at=booked_at)
        scheduler = h.daemon.callbacks
        await h.wait_for(lambda: scheduler.placed == 1, "the call-back to be dialled")
        await h.wait_for(
            lambda: any(c.state.queue == queue and c.state.answered_at for c in h.daemon.registry),
            "an agent to answer the customer's leg",
        )
        await h.wait_for(h.quiet, "the call to end")
        await h.wait_for(lambda: scheduler.in_progress == 0, "the booking closed")
        # the customer keeps the place they held when booking: their arrival is the booking
        assert [c.queue for c in enqueued] == [queue]
        # (the floor runs on the steady clock: the booking time converted to it)
        assert abs(enqueued[0].arrived_at - h.daemon.clocks.to_steady(booked_at)) < 0.01
        originated = h.sim_events("OriginateResponse")
        assert [(e.get("Context"), e.get("Reason")) for e in originated] == [
            ("hotline-callback", "4")
        ]
        await h.stop_daemon()

    assert h.rows("SELECT state, attempts FROM callbacks WHERE id = ?", (callback_id,)) == [
        ("done", 1)
    ]
    (call_id, outcome, number, queued_at, answered_at) = h.rows(
        "SELECT id, outcome, caller_number, queued_at, answered_at FROM calls"
    )[0]
    assert (outcome, number) == ("answered", NUMBER)
    assert queued_at is not None
    assert answered_at is not None
    kinds = [step["kind"] for step in h.timeline(call_id)]
    assert kinds[:3] == ["arrived", "callback", "queued"]
    assert "answered" in kinds


@pytest.mark.asyncio
async def test_nobody_is_called_back_while_no_agent_is_ready(tmp_path: Path) -> None:
    settings = with_callbacks(floor_settings(1))
    async with floor_harness(tmp_path, settings=settings, start=False) as h:
        await h.start_daemon(login=False)
        book(h, settings.default_queue)
        scheduler = h.daemon.callbacks
        start = scheduler.rounds
        await h.wait_for(lambda: scheduler.rounds >= start + 5, "a few scheduler rounds")
        assert scheduler.placed == 0
        await h.daemon.acd.agent_input(settings.agents[0].id, AgentAction.LOGIN)
        await h.wait_for(lambda: scheduler.placed == 1, "the call-back once an agent is ready")


@pytest.mark.asyncio
async def test_an_unanswered_callback_is_retried_then_failed(tmp_path: Path) -> None:
    # PJSIP/<number>@trunk is no phone the simulator answers: it rings until the Originate
    # Timeout, then OriginateResponse Reason 3 (as recorded for an unanswered Originate).
    settings = with_callbacks(floor_settings(1), channel="PJSIP/{number}@trunk", ring_timeout_s=1.0)
    async with floor_harness(tmp_path, settings=settings, keep_events=True) as h:
        callback_id = book(h, settings.default_queue)
        scheduler = h.daemon.callbacks
        await h.wait_for(lambda: scheduler.placed == 2, "the retry")
        await h.wait_for(
            lambda: len(h.sim_events("OriginateResponse")) == 2 and scheduler.in_progress == 0,
            "both dials to fail",
        )
        reasons = [e.get("Reason") for e in h.sim_events("OriginateResponse")]
        assert reasons == ["3", "3"]
        assert not h.daemon.registry  # the customer never answered: no call leg
        await h.stop_daemon()
        assert scheduler.placed == 2  # max_attempts: no third dial

    assert h.rows("SELECT state, attempts FROM callbacks WHERE id = ?", (callback_id,)) == [
        ("failed", 2)
    ]

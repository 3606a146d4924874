"""What the daemon keeps of finished calls: bounded by time and count, untracked by the cyclic
garbage collector, read back as the records that went in."""

from __future__ import annotations

import dataclasses
import gc
from pathlib import Path

import pytest

from acd.daemon.call_state import CallState, fold
from acd.daemon.call_steps import (
    Answered,
    Arrival,
    Ended,
    LegEnded,
    Offered,
    Queued,
    RingMissed,
    Step,
)
from acd.daemon.calls import RECENT_WINDOW_S, Call, CallRegistry
from acd.daemon.closed_calls import closed_call, closed_calls, finished_facts
from acd.daemon.outputs import Outputs
from acd.http.context import WallboardSettings
from acd.kpi import CallFacts, summarize
from acd.sim.plan import CallerBehaviour
from tests.daemon.flow_daemon import FlowSetup, flow_daemon, flow_settings
from tests.daemon.harness import FAST_AGENT, floor_harness

ARRIVAL = Arrival("c1", "1795327343.852", "Local/5550100@caller-00000001;2", "5550100", None, 0.0)
STEPS: list[Step] = [
    Queued(1.0, "orders", 2),
    Offered(3.0, "1001", "PJSIP/1001"),
    RingMissed(9.0, "1001", "NOANSWER", caller_gone=False),
    Offered(10.0, "1002", "PJSIP/1002"),
    Answered(12.0, "1002", "PJSIP/1002-00000001"),
    LegEnded(70.0, "agent"),
    Ended(70.0, "agent"),
]


def test_a_closed_call_reads_back_as_what_went_in() -> None:
    state = fold(ARRIVAL, STEPS)
    kept = closed_calls(900.0, 10)
    kept.append(70.0, state)
    (call,) = kept
    assert call == closed_call(state)
    assert (call.call_id, call.queue, call.number, call.channel) == (
        "c1",
        "orders",
        "5550100",
        ARRIVAL.channel,
    )
    assert (call.outcome, call.agent_id, call.talked) == ("answered", "1002", ("1002",))


def _ended(n: int, at: float) -> CallState:
    arrival = dataclasses.replace(ARRIVAL, call_id=f"c{n}", arrived_at=at)
    return fold(arrival, [Ended(at, "caller")])


def test_rows_are_dropped_by_age_and_by_count() -> None:
    kept = closed_calls(60.0, 3)
    for n in range(5):
        kept.append(10.0 * n, _ended(n, 10.0 * n))
    assert [c.call_id for c in kept] == ["c2", "c3", "c4"]  # the count
    kept.append(100.0, _ended(5, 100.0))
    assert [c.call_id for c in kept] == ["c4", "c5"]  # older than 60 s before the newest
    assert [c.call_id for c in reversed(kept)] == ["c5", "c4"]
    kept.prune(161.0)  # no call ends: the clock alone empties it
    assert len(kept) == 0


def test_kept_rows_are_out_of_the_collectors_sight() -> None:
    registry = CallRegistry()
    call = Call(ARRIVAL)
    for step in STEPS:
        call.add_step(step)
    registry.open(call)
    registry.close(call.call_id)
    outputs = Outputs(publisher=None, writer=None)
    outputs.call_step(call, STEPS[-1])
    gc.collect()  # CPython untracks a tuple of atomics at the first collection that sees it
    closed, facts = registry.recent.last_row(), outputs.completed.last_row()
    assert closed is not None
    assert facts is not None
    assert not gc.is_tracked(closed)
    assert not gc.is_tracked(facts)


def test_kpi_facts_read_back_and_summarize_as_before() -> None:
    facts = [
        CallFacts(queued_at=1.0, answered_at=5.0, ring_started_at=3.0, ended_at=60.0, talk_s=55),
        CallFacts(queued_at=2.0, ended_at=30.0, abandoned_at=30.0, survey_rating=None),
    ]
    kept = finished_facts(900.0, 10)
    for f in facts:
        kept.append(f.ended_at or 0.0, f)
    assert list(kept) == facts
    assert summarize(kept) == summarize(facts)


def test_the_closed_calls_cover_the_wallboards_complaint_window() -> None:
    assert WallboardSettings().complaint_surge_window_s <= RECENT_WINDOW_S


@pytest.mark.asyncio
async def test_the_daemon_empties_its_caches_by_the_clock_when_no_call_ends(
    tmp_path: Path,
) -> None:
    settings = flow_settings(tmp_path, 1)
    harness = floor_harness(tmp_path, settings=settings, behaviour=FAST_AGENT, start=False)
    async with harness as h, flow_daemon(h, FlowSetup()) as daemon:
        await h.place(CallerBehaviour(number="5550500", hangup_after=None))
        await h.wait_for(lambda: any(c.outcome for c in daemon.registry.recent), "the call to end")
        (call,) = daemon.registry.recent
        daemon.prune_caches()  # now: the call is kept for the wallboard and the gauge
        assert (len(daemon.registry.recent), len(daemon.outputs.completed)) == (1, 1)
        assert call.ended_at is not None
        daemon.prune_caches(call.ended_at + 901.0)  # its 15 minutes are over
        assert (len(daemon.registry.recent), len(daemon.outputs.completed)) == (0, 0)
        assert daemon.outputs.totals.finished == 1  # the counters never go back

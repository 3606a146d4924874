"""The wallboard's pure numbers and the spy command's pure parts."""

from __future__ import annotations

import pytest

from acd.daemon.call_state import CallState, fold
from acd.daemon.call_steps import Answered, Arrival, Ended, LegEnded, Offered, Queued, Step
from acd.daemon.calls import Call
from acd.daemon.supervisor import NotOnCall, SpyMode, agent_call, chanspy_data
from acd.http.wallboard import alerts, complaint_count, service_levels
from acd.kpi import KpiSettings

NOW = 100_000.0


def steps(
    queue: str, queued: float, wait_s: float | None, agent: str, *, ended: bool
) -> list[Step]:
    found: list[Step] = [Queued(queued, queue, 1)]
    if wait_s is not None:
        found += [
            Offered(queued + wait_s - 1, agent, f"PJSIP/{agent}"),
            Answered(queued + wait_s, agent, f"PJSIP/{agent}-1"),
        ]
    end = queued + (wait_s or 30.0) + 60.0
    if ended:
        if wait_s is not None:
            found.append(LegEnded(end, "agent"))
        found.append(Ended(end, "caller"))
    return found


def call(
    queue: str, queued_ago: float, wait_s: float | None, *, ended: bool = True, agent: str = "1001"
) -> CallState:
    """Queued ``queued_ago`` seconds before NOW; answered after ``wait_s`` (None: abandoned)."""
    queued = NOW - queued_ago
    arrival = Arrival(f"c{queued_ago}", f"u{queued_ago}", "PJSIP/t", "555", None, queued)
    return fold(arrival, steps(queue, queued, wait_s, agent, ended=ended))


def live(queue: str, queued_ago: float, wait_s: float | None, agent: str) -> Call:
    queued = NOW - queued_ago
    found = Call(Arrival(f"l{queued_ago}", f"u{queued_ago}", "PJSIP/t", "555", None, queued))
    for step in steps(queue, queued, wait_s, agent, ended=False):
        found.add_step(step)
    return found


def test_service_level_per_window_counts_calls_offered_in_the_window() -> None:
    finished = [
        call("orders", 5 * 60, 3.0),  # in every window, within 15 s
        call("orders", 20 * 60, 40.0),  # in 30 min and today only, too slow
        call("orders", 50 * 60, 40.0),  # today only, too slow
        call("complaints", 5 * 60, None),  # abandoned after 30 s: not a short abandon
    ]
    levels = service_levels(
        finished,
        ["orders", "complaints", "general"],
        now=NOW,
        day_start=NOW - 3600,
        kpi=KpiSettings(),
    )
    assert levels["orders"] == {"today": 1 / 3, "last_15m": 1.0, "last_30m": 0.5}
    assert levels["complaints"]["last_15m"] == 0.0
    assert levels["general"] == {"today": None, "last_15m": None, "last_30m": None}


def test_alerts_name_the_ami_link_the_breach_and_a_complaint_surge() -> None:
    queues = {"orders": {"breach_predicted": True}, "general": {"breach_predicted": False}}
    quiet = alerts(queues, complaints=4, complaint_threshold=5, complaint_window_s=600, ami_up=True)
    assert [a["kind"] for a in quiet] == ["service_level"]
    loud = alerts(queues, complaints=5, complaint_threshold=5, complaint_window_s=600, ami_up=False)
    assert [a["kind"] for a in loud] == ["ami_down", "service_level", "complaint_surge"]
    assert loud[2]["text"] == "complaint surge: 5 complaint calls in 10 min"


def test_complaint_count_looks_only_at_the_window_and_the_queue() -> None:
    calls = [call("complaints", 60, 3.0), call("complaints", 900, 3.0), call("orders", 60, 3.0)]
    assert complaint_count(calls, "complaints", NOW - 600) == 1


def test_chanspy_data_per_mode_lets_the_supervisor_switch_with_dtmf() -> None:
    channel = "Local/agent2@agents-00000012;1"
    assert chanspy_data(channel, SpyMode.LISTEN) == f"{channel},qdE"
    assert chanspy_data(channel, SpyMode.WHISPER) == f"{channel},qwdE"
    assert chanspy_data(channel, SpyMode.BARGE) == f"{channel},qBdE"


def test_agent_call_needs_an_answered_live_call_with_a_channel() -> None:
    ringing = live("orders", 10, None, "1001")
    ringing.add_step(Offered(NOW, "1001", "PJSIP/1001"))
    over = live("orders", 10, 2.0, "1001")
    over.add_step(LegEnded(NOW, "agent"))
    other = live("orders", 10, 2.0, "1002")
    with pytest.raises(NotOnCall, match="agent 1001 is not on a call"):
        agent_call([ringing, over, other], "1001")
    talking = live("orders", 10, 2.0, "1001")
    assert agent_call([ringing, over, talking], "1001") is talking

"""The wallboard's pure numbers and the spy command's pure parts."""

from __future__ import annotations

import pytest

from acd.daemon.calls import CallRecord
from acd.daemon.supervisor import NotOnCall, SpyMode, agent_call, chanspy_data
from acd.http.wallboard import alerts, complaint_count, service_levels
from acd.kpi import KpiSettings

NOW = 100_000.0


def call(queue: str, queued_ago: float, wait_s: float | None, *, ended: bool = True) -> CallRecord:
    """Queued ``queued_ago`` seconds before NOW; answered after ``wait_s`` (None: abandoned)."""
    queued = NOW - queued_ago
    record = CallRecord(f"c{queued_ago}", f"u{queued_ago}", "PJSIP/t", "555", None, queued)
    record.queue, record.queued_at = queue, queued
    if wait_s is not None:
        record.answered_at = queued + wait_s
        record.outcome = "answered"
    else:
        record.outcome = "abandoned"
    record.ended_at = queued + (wait_s or 30.0) + 60.0 if ended else None
    return record


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
    ringing = call("orders", 10, None, ended=False)
    ringing.agent_id, ringing.outcome = "1001", None
    over = call("orders", 10, 2.0)
    over.agent_id, over.agent_channel = "1001", "PJSIP/1001-1"
    with pytest.raises(NotOnCall, match="agent 1001 is not on a call"):
        agent_call([ringing, over], "1001")
    live = call("orders", 10, 2.0, ended=False)
    live.agent_id, live.agent_channel = "1001", "PJSIP/1001-2"
    assert agent_call([ringing, over, live], "1001") is live

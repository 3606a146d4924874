"""The wallboard's pure numbers (figures from reports, colours, the centre's clock, calls in
the IVR) and the spy command's pure parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from acd.daemon.call_state import CallState, fold
from acd.daemon.call_steps import Answered, Arrival, Ended, LegEnded, Offered, Queued, Step
from acd.daemon.calls import Call
from acd.daemon.supervisor import NotOnCall, SpyMode, agent_call, chanspy_data
from acd.http.live import mask_number
from acd.http.wallboard import (
    alerts,
    calls_in_ivr,
    complaint_count,
    handled_by_agent,
    local_clock,
    local_time,
    periods,
    queue_figures,
    sl_colour,
)
from acd.kpi import CallFacts, KpiSettings
from acd.reports.build import Report, assemble
from acd.reports.facts import ReportCall
from acd.reports.queries import CallRow

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


def test_today_starts_at_the_centres_midnight_and_windows_end_now() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 11, 18, 16, 10, tzinfo=UTC)  # 00:10 on the 19th in Shanghai
    found = periods(now, tz)
    assert found["today"] == (datetime(2026, 11, 19, tzinfo=tz), now)
    assert found["last_15m"] == (now - timedelta(minutes=15), now)
    assert found["last_30m"][0] == datetime(2026, 11, 18, 15, 40, tzinfo=UTC)  # yesterday there


def test_service_level_colour_against_the_queues_target() -> None:
    assert sl_colour(0.95, 0.90, 0.05) == "good"
    assert sl_colour(0.90, 0.90, 0.05) == "good"
    assert sl_colour(0.86, 0.90, 0.05) == "warn"
    assert sl_colour(0.84, 0.90, 0.05) == "bad"
    assert sl_colour(None, 0.90, 0.05) == "none"


def _report_call(queue: str, queued: float, wait_s: float | None, agent: str) -> ReportCall:
    at = datetime.fromtimestamp(queued, UTC)
    answered = None if wait_s is None else datetime.fromtimestamp(queued + wait_s, UTC)
    row = CallRow(
        f"c{queued}", None, "555", at, queue, at, answered, agent if wait_s else None,
        at + timedelta(seconds=90), "caller", "answered" if wait_s else "abandoned",
        None, None, None, None, None, None,
    )  # fmt: skip
    facts = CallFacts(
        queued_at=queued,
        answered_at=None if wait_s is None else queued + wait_s,
        ended_at=queued + 90,
        abandoned_at=queued + 90 if wait_s is None else None,
        talk_s=60.0 if wait_s else 0.0,
    )
    return ReportCall(row, facts)


def test_queue_figures_are_the_reports_summary_per_queue_and_period() -> None:
    calls = [
        _report_call("orders", NOW - 300, 3.0, "1001"),
        _report_call("orders", NOW - 200, 40.0, "1002"),
        _report_call("orders", NOW - 100, None, "1001"),
    ]
    start, end = datetime.fromtimestamp(NOW - 900, UTC), datetime.fromtimestamp(NOW, UTC)

    def report(by: str) -> Report:
        return assemble(
            calls, [], start=start, end=end, interval=None, by=by, settings=KpiSettings(),
            tz=ZoneInfo("UTC"), as_of=end,
        )  # fmt: skip

    found = queue_figures({"today": report("queue")}, {"orders": 0.9, "general": 0.8}, 0.05)
    orders = found["orders"]["today"]
    assert (orders["offered"], orders["answered"], orders["abandoned"]) == (3, 2, 1)
    assert orders["abandon_rate"] == round(1 / 3, 4)
    assert orders["asa_s"] == 21.5
    assert orders["aht_s"] == 60.0
    assert orders["service_level"] == round(1 / 3, 4)
    assert orders["sl_colour"] == "bad"
    assert found["orders"]["last_15m"]["offered"] == 0  # no report for it: an empty period
    assert found["general"]["today"] == {
        "offered": 0, "answered": 0, "abandoned": 0, "abandon_rate": None, "asa_s": None,
        "aht_s": None, "service_level": None, "sl_colour": "none",
    }  # fmt: skip
    assert handled_by_agent(report("agent")) == {"1001": 1, "1002": 1}


def test_clock_and_times_are_the_centres_whatever_the_machine() -> None:
    at = datetime(2026, 11, 18, 16, 10, 5, tzinfo=UTC).timestamp()
    shown = local_clock(at, ZoneInfo("Asia/Shanghai"))
    assert shown == {
        "clock": "00:10:05", "date": "2026-11-19", "timezone": "Asia/Shanghai",
        "utc_offset": "+08:00",
    }  # fmt: skip
    assert local_clock(at, ZoneInfo("America/New_York"))["utc_offset"] == "-05:00"
    assert local_time(None, ZoneInfo("UTC")) is None


def test_calls_in_the_ivr_are_live_calls_not_yet_queued() -> None:
    arrival = Arrival("i1", "u1", "PJSIP/t", "555", None, NOW)
    in_ivr = CallState(arrival)
    queued = call("orders", 10, None, ended=False)
    over = call("orders", 10, 3.0)
    assert calls_in_ivr([in_ivr, queued, over]) == 1


def test_a_wall_screen_shows_the_last_four_digits_of_a_caller() -> None:
    assert mask_number("13812345678") == "•••5678"
    assert mask_number("123") == "•••"
    assert mask_number("") is None


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

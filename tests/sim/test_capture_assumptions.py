"""Four simulator behaviours first written as assumptions, then recorded on the dev Asterisk
22.10.1 (q7_assumptions.txt, q7_cdr_master_csv_sample.txt): Dial of an unregistered endpoint,
a dialplan that runs out, the CDR of a caller that moves to [hotline-fallback], and an AMI
Redirect of a caller bridged by Queue()."""

from __future__ import annotations

import csv
import dataclasses
import io

from acd.asterisk.ami.message import Message
from acd.sim.outputs import LogLine, OriginateRequest
from acd.sim.plan import DialplanPlan, QueueMember, QueuePlan
from tests.dev_captures import ami_events, capture_text, note_time
from tests.sim.capture_support import dev_plan, dialplan_channel, originate, trail
from tests.sim.pbx_driver import Driver
from tests.sim.recorded_dialplan import as_recorded
from tests.sim.test_capture_queue import _normalise_cdr

Q7 = "q7_assumptions.txt"
RUNOUT = "[t-runout]\nexten => s,1,NoOp(runout)\nexten => s,2,Wait(0.5)\n"


def _recorded(start_note: str, end_note: str | None) -> list[Message]:
    start = note_time(Q7, start_note)
    end = note_time(Q7, end_note) if end_note else float("inf")
    return [i.message for i in ami_events(Q7) if start <= i.t < end and i.message]


def _cdr(start_note: str, end_note: str | None) -> list[tuple[str, ...]]:
    """The recorded CDR rows of the calls between two notes (by their Linkedid), comparable."""
    rows = list(csv.reader(io.StringIO(capture_text("q7_cdr_master_csv_sample.txt"))))
    linked = {m.get("Linkedid") for m in _recorded(start_note, end_note) if m.name == "Newchannel"}
    return _comparable([r for r in rows if r[19] in linked])


def _comparable(rows: list[list[str]]) -> list[tuple[str, ...]]:
    # the agent phones' ;2 halves are modelled: their last application is not compared
    return [
        (*row[:7], "", "", *row[9:]) if row[3] == "agent-phones" else row
        for row in _normalise_cdr(rows)
    ]


def _epoch() -> float:
    """The recording's wall clock at its t=0: CDR durations are whole wall-clock seconds."""
    first = next(i for i in ami_events(Q7) if i.message and "Timestamp" in i.message)
    assert first.message is not None
    return float(first.message["Timestamp"]) - first.t


def _sim_cdr(driver: Driver) -> list[list[str]]:
    return [
        next(csv.reader([o.line]))
        for o in driver.run.other
        if isinstance(o, LogLine) and o.file.endswith("Master.csv")
    ]


def test_dial_of_an_unregistered_endpoint_is_chanunavail_at_once() -> None:
    plan = dataclasses.replace(dev_plan(), devices={"PJSIP/1001": "UNAVAILABLE"})
    driver = Driver(
        plan, script=lambda _sid, _open: ["EXEC Dial PJSIP/1001,5", "GET VARIABLE DIALSTATUS"]
    )
    originate(driver, "t-agi", data="20", caller_id="q7 <5550007>",
              variables=[("TSCRIPT", "q7-a"), ("TCASE", "q7a"), ("AFTERWAIT", "1")])  # fmt: skip
    run = driver.run_until(30.0)
    assert run.replies(1)[:2] == ["200 result=0\n", "200 result=1 (CHANUNAVAIL)\n"]
    real = _recorded("===== A", "===== B")
    ours = trail(run.messages, dialplan_channel(run.messages, "t-agi"))
    assert ours == trail(real, dialplan_channel(real, "t-agi"))
    assert not [m for m in run.messages if m.name == "DialBegin" and "Channel" in m]


def test_a_dialplan_that_runs_out_hangs_up_with_h_and_cause_0() -> None:
    for start, end, text in (
        ("===== B", "B2:", RUNOUT),
        ("B2:", "===== C", RUNOUT + "exten => h,1,NoOp(h-ran)\n"),
    ):
        plan = dataclasses.replace(dev_plan(), dialplan=DialplanPlan(text=text, source="cli"))
        driver = Driver(plan)
        driver.originate(
            OriginateRequest(channel="Local/s@t-runout/n", application="Wait", data="5",
                             caller_id="q7 <5550007>")
        )  # fmt: skip
        run = driver.run_until(10.0)
        real = _recorded(start, end)
        ours_channel = dialplan_channel(run.messages, "t-runout")
        real_channel = dialplan_channel(real, "t-runout")
        assert trail(run.messages, ours_channel) == trail(real, real_channel)

        def shape(messages: list[Message], channel: str) -> list[tuple[str, str, str]]:
            kinds = ("SoftHangupRequest", "Hangup")
            return [
                (m.name, m["Priority"], m["Cause"])
                for m in messages
                if m.get("Channel") == channel and m.name in kinds
            ]

        # the SoftHangupRequest still shows the last step; the Hangup the next, cause 0
        assert shape(run.messages, ours_channel) == shape(real, real_channel)
        (response,) = [m for m in run.messages if m.name == "OriginateResponse"]
        (recorded,) = [m for m in real if m.name == "OriginateResponse"]
        assert (response["Response"], response["Reason"], response["Channel"]) == (
            recorded["Response"],
            recorded["Reason"],
            recorded["Channel"],
        )


def test_cdr_of_a_caller_that_moves_to_the_fallback_follows_it() -> None:
    member = QueueMember("PJSIP/1001", "Li Na", "PJSIP/1001")  # not registered on the dev box
    base = dev_plan()
    assert base.dialplan.text is not None
    # q7 was recorded with [hotline] as it was then
    plan = dataclasses.replace(
        base,
        queues=(QueuePlan("enquiries", "rrmemory", 15.0, 1.0, (member,)),),
        devices={"PJSIP/1001": "UNAVAILABLE"},
        dialplan=dataclasses.replace(base.dialplan, text=as_recorded(base.dialplan.text)),
    )
    driver = Driver(plan, script=lambda _sid, _open: None)  # nothing on 127.0.0.1:4573
    driver.originate(
        OriginateRequest(channel="Local/5550107@hotline/n", context="customer", exten="silent",
                         caller_id="Q7 <5550107>")
    )  # fmt: skip
    driver.run_until(2.0)
    ((joined, join),) = [(t, m) for t, m in driver.run.events if m.name == "QueueCallerJoin"]
    # the recorded harness hung the caller up 2 s after it joined
    driver.at(joined + 2.0, lambda now: driver.pbx.hangup(now, join["Channel"], 0))
    driver.run_until(joined + 10.0)
    ours = _comparable(_sim_cdr(driver))
    assert ours == _cdr("===== C", "===== D")
    assert ("enquiries", "hotline-fallback") in {(row[2], row[3]) for row in ours}


def test_redirect_of_a_caller_bridged_by_queue_skips_the_target_s_first_step() -> None:
    start = note_time(Q7, "===== D")
    events = [(i.t, i.message) for i in ami_events(Q7) if i.t >= start and i.message]
    redirect_at = next(
        t for t, m in events if m.name == "Newexten" and m.get("Context") == "t-redirect"
    )
    driver = Driver(dev_plan(), epoch=_epoch())
    driver.at(start, lambda _now: originate(
        driver, "t-queue", data="30", caller_id="q7-redirect <5550117>",
        variables=[("TQUEUE", "test-local"), ("TCASE", "q7d")],
    ))  # fmt: skip
    channel = ""

    def redirect(now: float) -> None:
        nonlocal channel
        channel = dialplan_channel(driver.run.messages, "t-queue")
        driver.pbx.redirect(now, channel, "t-redirect", "target", 1)

    driver.at(redirect_at, redirect)
    run = driver.run_until(start + 40.0)
    real_channel = dialplan_channel([m for _, m in events], "t-queue")
    ours = trail((m for t, m in run.events if t >= redirect_at), channel)
    real = trail((m for t, m in events if t >= redirect_at), real_channel)
    assert ours == real
    # a Newexten at the target naming Queue, then the steps from priority 2; DIALEDTIME and
    # ANSWEREDTIME=0 (app_queue's end-of-bridge callback does not run)
    assert ours[0][:5] == ("Newexten", "t-redirect", "target", "1", "Queue")
    assert ours[2] == ("VarSet", "ANSWEREDTIME", "0")
    assert _comparable(_sim_cdr(driver)) == _cdr("===== D", None)

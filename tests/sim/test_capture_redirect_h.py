"""AMI Redirect of a channel inside FastAGI, and AGI() in the ``h`` extension: the simulator
against the captures q4_q5_q4.txt and q4_q5_q5.txt of Asterisk 22.10.1.

Replayed with the recorded set-up and timing; compared: every line Asterisk wrote to the FastAGI
server after the environment (the pending command's answer, HANGUP lines, the dead-channel
probes, the closing HANGUP) and the channel's dialplan trail after the Redirect / hang-up.
"""

from __future__ import annotations

import re

import pytest

from tests.dev_captures import ami_events, capture_json, items, note_time
from tests.sim.capture_support import dev_plan, dialplan_channel, originate, trail
from tests.sim.pbx_driver import Driver

Q4 = "q4_q5_q4.txt"
Q5 = "q4_q5_q5.txt"
_ENDPOS = re.compile(r"endpos=(\d+)")


def _sent_by_asterisk(capture: str, conn: str) -> list[str]:
    return [
        i.line
        for i in items(capture)
        if i.conn == conn and i.direction == "<<<" and not i.line.startswith("agi_")
        and i.line != "\n"
    ]  # fmt: skip


def _sent_by_server(capture: str, conn: str) -> list[str]:
    return [i.line.rstrip("\n") for i in items(capture) if i.conn == conn and i.direction == ">>>"]


def _masked(lines: list[str]) -> list[str]:
    return [_ENDPOS.sub("endpos=N", line) for line in lines]


def _case_start(case: str) -> float:
    return note_time(Q4, f"===== {case}")


@pytest.mark.parametrize(
    ("case", "session"),
    [("q4a_wait", 1), ("q4b_idle", 2), ("q4c_stream", 3), ("q4d_dial_bridged", 4)],
)
def test_redirect_inside_fastagi_matches_the_capture(case: str, session: int) -> None:
    conn = f"agi#{session}"
    start = _case_start(case)
    redirect_at = note_time(Q4, f"AMI Redirect Local/s@t-agi-0000000{'abcd'[session - 1]};2")
    sent = _sent_by_server(Q4, conn)
    before = sent[: 2 if case != "q4b_idle" else 1]  # SET VARIABLE [+ the pending command]
    probes = sent[len(before) :]
    probe_at = next(i.t for i in items(Q4) if i.conn == conn and i.line.startswith("GET VAR"))
    closed_at = note_time(Q4, f"{conn}: server half-closed")

    driver = Driver(dev_plan(), script=lambda _sid, _open: list(before))
    driver.keep_open = {1}
    originate(
        driver,
        "t-agi",
        data="120",
        caller_id="q45 <5550004>",
        variables=[("TSCRIPT", f"q4-{case}"), ("TCASE", case), ("AFTERWAIT", "1")],
    )
    channel = dialplan_channel(driver.run.messages, "t-agi")
    driver.at(
        redirect_at - start,
        lambda now: driver.pbx.redirect(now, channel, "t-redirect", "target", 1),
    )
    driver.at(probe_at - start, lambda _now: driver.send(1, probes))
    driver.at(closed_at - start, lambda now: driver.pbx.agi_closed(now, 1))
    run = driver.run_until(60.0)

    recorded_lines = _sent_by_asterisk(Q4, conn)
    assert _masked(run.replies(1)) == _masked(recorded_lines)
    ours_endpos = [int(m.group(1)) for ln in run.replies(1) if (m := _ENDPOS.search(ln))]
    real_endpos = [int(m.group(1)) for ln in recorded_lines if (m := _ENDPOS.search(ln))]
    assert ours_endpos == pytest.approx(real_endpos, abs=400)  # 50 ms of 8 kHz frames

    recorded_channel = capture_json("q4_q5_q4_results.json")[session - 1]["channel"]
    real = [i.message for i in ami_events(Q4) if i.t >= redirect_at and i.message]
    ours = [m for t, m in run.events if t >= redirect_at - start]
    assert trail(ours, channel) == trail(real, recorded_channel)


def test_redirect_to_a_new_agi_runs_it_after_the_first_session_ends() -> None:
    case, start = "q4e_wait_new_agi", _case_start("q4e_wait_new_agi")
    redirect_at = note_time(Q4, "AMI Redirect Local/s@t-agi-0000000f;2")
    sent = _sent_by_server(Q4, "agi#5")
    probe_at = next(i.t for i in items(Q4) if i.conn == "agi#5" and i.line.startswith("GET VAR"))
    closed_at = note_time(Q4, "agi#5: server half-closed")
    scripts = {1: sent[:2], 2: _sent_by_server(Q4, "agi#6")}

    driver = Driver(dev_plan(), script=lambda sid, _open: list(scripts[sid]))
    driver.keep_open = {1}
    originate(
        driver,
        "t-agi",
        data="120",
        caller_id="q45 <5550004>",
        variables=[("TSCRIPT", f"q4-{case}"), ("TCASE", case), ("AFTERWAIT", "1")],
    )
    channel = dialplan_channel(driver.run.messages, "t-agi")
    driver.at(
        redirect_at - start, lambda now: driver.pbx.redirect(now, channel, "t-redirect", "agi", 1)
    )
    driver.at(probe_at - start, lambda _now: driver.send(1, sent[2:]))
    driver.at(closed_at - start, lambda now: driver.pbx.agi_closed(now, 1))
    run = driver.run_until(60.0)

    (_, second) = run.agi_opened
    env = dict(second.env)
    recorded_env = capture_json("q4_q5_q4_results.json")[4]["new_session_env"]
    assert {k: env[k] for k in recorded_env if k != "agi_channel"} == {
        k: v for k, v in recorded_env.items() if k != "agi_channel"
    }
    assert run.replies(2)[0] == "200 result=1 (set-before-redirect)\n"
    real = [i.message for i in ami_events(Q4) if i.t >= redirect_at and i.message]
    real_channel = capture_json("q4_q5_q4_results.json")[4]["channel"]
    ours = [m for t, m in run.events if t >= redirect_at - start]
    # the recording ends before the second session does: compare up to its last event
    recorded = trail(real, real_channel)
    assert trail(ours, channel)[: len(recorded)] == recorded


def test_agi_in_the_h_extension_is_a_dead_session_from_the_start() -> None:
    start = note_time(Q5, "===== q5")
    hangup_at = note_time(Q5, "AMI Hangup of the caller's phone leg")
    main = _sent_by_server(Q5, "agi#1")
    scripts = {1: main[:2], 2: _sent_by_server(Q5, "agi#2")}

    driver = Driver(dev_plan(), script=lambda sid, _open: list(scripts[sid]))
    driver.keep_open = {1}
    originate(
        driver,
        "t-agi",
        data="120",
        caller_id="q45 <5550004>",
        variables=[("TSCRIPT", "q5-main"), ("TCASE", "q5_h_agi"), ("AFTERWAIT", "1"),
                   ("HAGI", "1")],
    )  # fmt: skip
    channel = dialplan_channel(driver.run.messages, "t-agi")
    phone = channel[:-1] + "1"

    def after_wait(_now: float, sid: int, text: str) -> None:
        # the recorded server sends its probes once WAIT FOR DIGIT answered, then closes
        if sid == 1 and text == "200 result=-1\n":
            driver.queue_commands(1, main[2:], close_after=True)

    driver.on_reply = after_wait
    driver.at(hangup_at - start, lambda now: driver.pbx.hangup(now, phone, 0))
    run = driver.run_until(60.0)

    assert run.replies(1) == _sent_by_asterisk(Q5, "agi#1")
    assert run.replies(2) == _sent_by_asterisk(Q5, "agi#2")  # no leading HANGUP line
    (_, h_open) = run.agi_opened
    recorded_env = capture_json("q4_q5_q5_results.json")[0]["h_env"]
    env = dict(h_open.env)
    for key in ("agi_network_script", "agi_context", "agi_extension", "agi_priority", "agi_arg_1"):
        assert env[key] == recorded_env[key]
    real = [i.message for i in ami_events(Q5) if i.t >= hangup_at and i.message]
    real_channel = capture_json("q4_q5_q5_results.json")[0]["main_env"]["agi_channel"]
    ours = [m for t, m in run.events if t >= hangup_at - start]
    assert trail(ours, channel) == trail(real, real_channel)

"""The FastAGI server dies (SIGKILL) in the middle of a session: the simulator against the
captures q2_agi_dies_ami*.txt of Asterisk 22.10.1 (issue 12).

Each case is replayed with the recorded set-up ([t-agi] with its AGI script's commands, the
recorded kill and hang-up times) and the caller channel's events from the kill on are compared
step by step: AGIExecEnd of the pending command, AGISTATUS, the dialplan steps that follow
(Newexten, UserEvent with the variables the dialplan saw), ``h`` and the final Hangup.
"""

from __future__ import annotations

import ast

import pytest

from tests.dev_captures import ami_events, items, note_time
from tests.sim.capture_support import dev_plan, dialplan_channel, originate, trail
from tests.sim.pbx_driver import Driver, Run


def _commands(capture: str, case: str) -> list[str]:
    note = next(
        i.line for i in items(capture) if i.conn == "note" and f"case {case}: orig" in i.line
    )
    listed: list[str] = ast.literal_eval(note[note.index("[") :])
    return [c for c in listed if c != "-"]


def _recorded(capture: str, case: str, from_t: float) -> list[tuple[str, ...]]:
    events = [i for i in ami_events(capture) if i.t >= note_time(capture, f"case {case}: orig")]
    assert events[0].message is not None
    channel = dialplan_channel((i.message for i in events if i.message), "t-agi")
    return trail((i.message for i in events if i.t >= from_t and i.message), channel)


def _simulated(
    capture: str, case: str, *, hangup: tuple[float, str] | None = None
) -> tuple[Run, list[tuple[str, ...]]]:
    start = note_time(capture, f"case {case}: orig")
    kill = note_time(capture, f"case {case}: SIGKILL") - start
    driver = Driver(dev_plan(), script=lambda _sid, _open: _commands(capture, case))
    driver.keep_open = {1}  # the server is killed, it never closes by itself
    originate(
        driver,
        "t-agi",
        data="120",
        caller_id="q2 <5550002>",
        variables=[("TSCRIPT", f"q2-{case}"), ("TCASE", case), ("TAGIPORT", "4598"),
                   ("AFTERWAIT", "1")],
    )  # fmt: skip
    driver.at(kill, lambda now: driver.pbx.agi_closed(now, 1))
    if hangup is not None:
        at, name_part = hangup
        driver.at(
            at - start,
            lambda now: driver.pbx.hangup(
                now,
                next(
                    c.name
                    for c in driver.pbx.channels()
                    if name_part in c.name and c.name.endswith(";1")
                ),
                0,
            ),
        )
    run = driver.run_until(60.0)
    channel = dialplan_channel(run.messages, "t-agi")
    after_kill = (m for t, m in run.events if t >= kill)
    return run, trail(after_kill, channel)


@pytest.mark.parametrize("case", ["a_wait_for_digit", "b_stream_file", "c_dial_ringing", "e_idle"])
def test_pending_command_and_what_follows_match_the_capture(case: str) -> None:
    # a/b: the pending WAIT FOR DIGIT / STREAM FILE ends at once with 200 Success; c: the EXEC
    # Dial rings on to its own 15 s timeout (DIALSTATUS=NOANSWER) and only then AGI() returns;
    # e: no command ran. Every time AGISTATUS=SUCCESS and T_VAR (set before) is kept.
    capture = "q2_agi_dies_ami.txt"
    _, ours = _simulated(capture, case)
    assert ours == _recorded(capture, case, note_time(capture, f"case {case}: SIGKILL"))
    assert ("VarSet", "AGISTATUS", "SUCCESS") in ours


def test_a_bridged_dial_survives_and_the_caller_continues_when_the_agent_hangs_up() -> None:
    capture = "q2_agi_dies_ami_d_dial_bridged.txt"
    case = "d_dial_bridged"
    hangup_at = note_time(capture, "AMI Hangup of the agent leg")
    run, ours = _simulated(capture, case, hangup=(hangup_at, "1003@agent-phones"))
    assert ours == _recorded(capture, case, note_time(capture, f"case {case}: SIGKILL"))
    # the bridge stayed up from the kill until the agent's hang-up
    kill = note_time(capture, f"case {case}: SIGKILL") - note_time(capture, f"case {case}: orig")
    leaves = [t for t, m in run.events if m.name == "BridgeLeave"]
    assert leaves
    assert min(leaves) == pytest.approx(hangup_at - note_time(capture, "orig"))
    assert min(leaves) > kill


def test_the_caller_hanging_up_in_the_bridge_gives_hangup_and_runs_h() -> None:
    # run 1's "d" is really d2: the harness hung up the caller's own phone leg (;1)
    capture = "q2_agi_dies_ami.txt"
    case = "d_dial_bridged"
    hangup_at = note_time(capture, "AMI Hangup of the agent leg")
    _, ours = _simulated(capture, case, hangup=(hangup_at, "@t-agi-"))
    recorded = _recorded(capture, case, note_time(capture, f"case {case}: SIGKILL"))
    assert ours == recorded
    assert ("VarSet", "AGISTATUS", "HANGUP") in ours
    assert ours[-1][:3] == ("Hangup", "t-agi", "h")


def test_ringing_dial_answered_after_the_kill_bridges_and_continues() -> None:
    capture = "q2_agi_dies_ami_c2_dial_ringing_then_answered.txt"
    case = "c2_dial_ringing_then_answered"
    hangup_at = note_time(capture, "AMI Hangup of the agent leg")
    _, ours = _simulated(capture, case, hangup=(hangup_at, "1106@agent-phones"))
    assert ours == _recorded(capture, case, note_time(capture, f"case {case}: SIGKILL"))

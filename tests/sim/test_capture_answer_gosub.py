"""Dial's ``U()`` Gosub on the answered channel, as the daemon starts its recordings
(acd/daemon/recording.py), against Asterisk 22.10.1 (q11_dial_answer_gosub*.txt, recorded
2026-12-06): from an ``EXEC Dial`` over FastAGI, the Gosub runs on the callee once it answers,
MixMonitor inside it, its return copied to the caller, then DialEnd and the bridge; a missing
context only costs the Gosub."""

from __future__ import annotations

import pytest

from acd.asterisk.ami.message import Message
from tests.dev_captures import ami_events
from tests.sim.pbx_driver import scratch_rig_call

FILE = "/opt/ast-notes/captures/rec-U.wav"
RUNS = {
    "q11_dial_answer_gosub.txt": (
        "Local/200@scratch-callee/n",
        f'EXEC Dial "Local/200@scratch-callee/n,20,U(scratch-answer^{FILE}^b)"',
    ),
    "q11_dial_answer_gosub_missing.txt": (
        "Local/201@scratch-callee/n",
        f'EXEC Dial "Local/201@scratch-callee/n,20,U(scratch-nosuch^{FILE}x^b)"',
    ),
}
#: the caller's variables compared (Dial's answer, the Gosub's return)
CALLERS = ("DIALSTATUS", "DIALEDPEERNAME", "DIALEDPEERNUMBER", "GOSUB_RETVAL")
RESULT = 'GET FULL VARIABLE "${DIALSTATUS}|${GOSUB_RETVAL}|${MIXMONITOR_FILENAME}"'
# the recorded dialplan's context the simulator runs beside [scratch-agi] (the phones are
# modelled in Python)
SCRATCH = """\
[scratch-answer]
exten => s,1,NoOp(scratch-answer on ${CHANNEL} args=${ARG1},${ARG2})
 same => n,MixMonitor(${ARG1},${ARG2})
 same => n,Set(GOSUB_RESULT=RECORDING)
 same => n,Return(${MIXMONITOR_FILENAME})
"""


def _steps(messages: list[Message]) -> list[tuple[str, ...]]:
    """From the callee's answer (its ``;1`` Up) to the bridge: the callee's steps, variables
    and MixMonitorStart, the caller's answer variables, GOSUB_RETVAL and DialEnd, in order."""
    begin = next(
        m for m in messages if m.name == "DialBegin" and "scratch-callee" in m["DestChannel"]
    )
    caller, callee = begin["Channel"], begin["DestChannel"]
    out: list[tuple[str, ...]] = []
    started = False
    for m in messages:
        channel = m.get("Channel")
        if m.name == "Newstate" and channel == callee and m.get("ChannelStateDesc") == "Up":
            started = True
            continue
        if not started:
            continue
        if m.name == "BridgeEnter":
            break

        def plain(text: str) -> str:
            return text.replace(callee, "<callee>").replace(caller, "<caller>")

        who = "callee" if channel == callee else "caller" if channel == caller else ""
        variable = m.get("Variable") or ""
        if m.name == "VarSet" and (who == "callee" or (who and variable in CALLERS)):
            out.append((who, m.name, variable, plain(m.get("Value") or "")))
        elif m.name == "Newexten" and who == "callee":
            app = (m.get("Application") or "", plain(m.get("AppData") or ""))
            out.append((who, m.name, m.get("Context") or "", m.get("Priority") or "", *app))
        elif m.name in ("MixMonitorStart", "DialEnd") and who:
            out.append((who, m.name, m.get("DialStatus") or ""))
    return out


@pytest.mark.parametrize("capture", list(RUNS))
def test_the_gosub_at_the_answer_runs_as_recorded(capture: str) -> None:
    endpoint, dial = RUNS[capture]
    run = scratch_rig_call(SCRATCH, endpoint, [dial, RESULT])
    recorded = _steps([i.message for i in ami_events(capture) if i.message is not None])
    assert ("caller", "DialEnd", "ANSWER") in recorded  # the capture is read
    assert _steps(run.messages) == recorded
    retval = FILE if capture == "q11_dial_answer_gosub.txt" else ""
    # the Dial's result as the recorded FastAGI side saw it: the file on the caller, and no
    # MIXMONITOR_FILENAME there (it is the callee's)
    assert f"200 result=1 (ANSWER|{retval}|)\n" in run.replies(1)

"""Dial's ``B()`` pre-dial handler, as the daemon starts its recordings (acd/daemon/recording.py),
against Asterisk 22.10.1 (q10_dial_predial_caller.txt, recorded 2026-12-05 on the live rig): the
Gosub on the caller from an ``EXEC Dial`` over FastAGI, MixMonitor inside it, then the ring."""

from __future__ import annotations

from acd.asterisk.ami.message import Message
from tests.dev_captures import ami_events
from tests.sim.pbx_driver import scratch_rig_call

Q10 = "q10_dial_predial_caller.txt"
FILE = "/opt/ast-notes/captures/rec-B.wav"
DIAL = f'EXEC Dial "Local/200@scratch-callee/n,20,B(scratch-predial^rec^1({FILE}^b))"'
# the recorded dialplan's context the simulator runs beside [scratch-agi] (the phones are
# modelled in Python)
SCRATCH = """\
[scratch-predial]
exten => rec,1,NoOp(scratch-predial rec on ${CHANNEL} args=${ARG1},${ARG2})
 same => n,MixMonitor(${ARG1},${ARG2})
 same => n,Set(SCRATCH_PREDIAL=${CHANNEL})
 same => n,Return()
"""
#: what is compared of the caller's events from the Dial's start to the agent's ringing
COMPARED = ("VarSet", "Newexten", "MixMonitorStart", "DialBegin", "DialState")


def _steps(messages: list[Message], caller: str) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    started = False
    for m in messages:
        if m.get("Channel") != caller:
            continue
        if m.name == "AGIExecStart" and (m.get("Command") or "").startswith("EXEC Dial"):
            started = True
        if not started or m.name not in COMPARED:
            continue
        where = (m.get("Context") or "", m.get("Exten") or "", m.get("Priority") or "")
        if m.name == "VarSet":
            variable = m.get("Variable") or ""
            if variable.startswith(("DIAL", "ANSWERED", "RINGTIME", "PROGRESS")):
                continue  # Dial's own blanks: compared in test_pbx_dial / the q2 captures
            out.append((m.name, *where, variable, _plain(m.get("Value") or "", caller)))
        elif m.name == "Newexten":
            data = _plain(m.get("AppData") or "", caller)
            out.append((m.name, *where, m.get("Application") or "", data))
        else:
            out.append((m.name, *where))
        if m.name == "DialState":
            break
    return out


def _plain(text: str, caller: str) -> str:
    return text.replace(caller, "<caller>")


def _recorded() -> list[tuple[str, ...]]:
    messages = [i.message for i in ami_events(Q10) if i.message is not None]
    caller = next(
        m["Channel"]
        for m in messages
        if m.name == "Newexten" and m.get("Context") == "scratch-agi" and m.get("Priority") == "2"
    )
    return _steps(messages, caller)


def test_the_pre_dial_gosub_on_the_caller_runs_as_recorded() -> None:
    run = scratch_rig_call(SCRATCH, "Local/200@scratch-callee/n", [DIAL])
    caller = next(m["Channel"] for m in run.messages if m.name == "AGIExecStart")
    recorded = _recorded()
    assert recorded[0][4] == "LOCAL(ARG1)"  # the capture is read
    assert _steps(run.messages, caller) == recorded

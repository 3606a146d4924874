"""The daemon's own routing path: EXEC Dial to an agent endpoint over FastAGI."""

from __future__ import annotations

from acd.settings.names import VAR_DONE
from acd.sim.outputs import OriginateRequest
from acd.sim.plan import AgentBehaviour, CallerBehaviour, SimPlan
from tests.sim.pbx_driver import SHIPPED_AGI_KEY, Driver, Run, shipped_dialplan


def _plan(**agents: AgentBehaviour) -> SimPlan:
    # the daemon's calls run the shipped dialplan: HOTLINE_DONE=1 means no fallback Queue()
    return SimPlan(
        agents={f"PJSIP/{ep}": b for ep, b in agents.items()}, dialplan=shipped_dialplan()
    )


def _daemon_call(plan: SimPlan, dial: str, *, caller_hangs_up: float | None = 300.0) -> Run:
    commands = [
        "ANSWER",
        f'SET VARIABLE {VAR_DONE} "1"',
        "EXEC StartMusicOnHold default",
        "WAIT FOR DIGIT 500",
        'EXEC StopMusicOnHold ""',
        f"EXEC Dial {dial}",
        "GET VARIABLE DIALSTATUS",
        "GET VARIABLE ANSWEREDTIME",
    ]
    driver = Driver(plan, script=lambda _sid, _open: commands)
    driver.originate(
        OriginateRequest(
            channel="Local/5550500@caller-sim/n",
            context="hotline",
            exten="s",
            caller=CallerBehaviour(number="5550500", hangup_after=caller_hangs_up),
        )
    )
    return driver.run_until(400.0)


def _names(run: Run) -> list[str]:
    return [m.name for m in run.messages]


def test_answered_dial_bridges_until_the_agent_hangs_up() -> None:
    run = _daemon_call(
        _plan(a1001=AgentBehaviour(answer_after=2.0, talk_time=30.0)), "PJSIP/a1001,20,tT"
    )
    replies = run.replies(1)
    # Dial returns -1 once the bridged agent hung up (no g option): the recorded AGIExecEnd says
    # "Unknown Result" (ami_daemon_after_sales_call.raw). ANSWEREDTIME is the caller channel's up
    # time (app_dial.c end_bridge_callback; q2_agi_dies_ami_d_dial_bridged.txt), not the talk
    # time: the caller was answered at 0, the Dial began at 0.5 s, rang 2 s, talked 30 s.
    assert replies[5:8] == ["200 result=-1\n", "200 result=1 (ANSWER)\n", "200 result=1 (32)\n"]
    dial_end = [m for m in run.messages if m.name == "AGIExecEnd" and "Dial" in m["Command"]]
    assert [(m["ResultCode"], m["Result"]) for m in dial_end] == [("200", "Unknown Result")]
    names = _names(run)
    for earlier, later in [
        ("DialBegin", "DialState"),
        ("DialState", "BridgeCreate"),
        ("BridgeEnter", "BridgeLeave"),
        ("BridgeLeave", "BridgeDestroy"),
    ]:
        assert names.index(earlier) < names.index(later)
    agent = [m for m in run.messages if m.name == "Newchannel"][2]
    assert agent["Channel"].startswith("PJSIP/a1001-")
    assert len(agent["Channel"]) == 20
    assert not [m for m in run.messages if m.name == "QueueCallerJoin"]  # handled: no fallback
    assert not [m for m in run.messages if m.name.startswith("Agent")]  # Dial, not app_queue


def test_ring_timeout_gives_noanswer() -> None:
    run = _daemon_call(_plan(a1002=AgentBehaviour(answer_after=None)), "PJSIP/a1002,3,tT")
    assert run.replies(1)[5:7] == ["200 result=0\n", "200 result=1 (NOANSWER)\n"]
    ends = [m["DialStatus"] for m in run.messages if m.name == "DialEnd" and "Channel" in m]
    assert ends == ["NOANSWER"]


def test_unreachable_endpoint_is_chanunavail() -> None:
    plan = _plan(a1003=AgentBehaviour())
    plan = SimPlan(
        agents=plan.agents, devices={"PJSIP/a1003": "UNAVAILABLE"}, dialplan=shipped_dialplan()
    )
    run = _daemon_call(plan, "PJSIP/a1003,10")
    assert run.replies(1)[5:7] == ["200 result=0\n", "200 result=1 (CHANUNAVAIL)\n"]


def test_caller_hanging_up_in_the_bridge_ends_dial_with_minus_one() -> None:
    behaviour = AgentBehaviour(answer_after=1.0, talk_time=60.0)
    run = _daemon_call(_plan(a1004=behaviour), "PJSIP/a1004,20", caller_hangs_up=10.0)
    replies = run.replies(1)
    assert replies[5:7] == ["200 result=-1\n", "HANGUP\n"]
    assert replies[7] == "200 result=1 (ANSWER)\n"  # GET VARIABLE works on a dead channel
    assert replies[-1] == "HANGUP\n"
    leaves = [m["Channel"] for m in run.messages if m.name == "BridgeLeave"]
    assert leaves[0].startswith("Local/5550500@caller-sim-")
    created = sorted(m["Channel"] for m in run.messages if m.name == "Newchannel")
    assert sorted(m["Channel"] for m in run.messages if m.name == "Hangup") == created


def test_agent_declining_by_probability_never_answers() -> None:
    run = _daemon_call(
        _plan(a1005=AgentBehaviour(answer_after=1.0, answer_probability=0.0)), "PJSIP/a1005,4"
    )
    assert run.replies(1)[6] == "200 result=1 (NOANSWER)\n"


def test_call_back_leg_runs_the_shipped_callback_context() -> None:
    # acd/daemon/callbacks.py: Originate Context=hotline-callback Exten=s, HOTLINE_CALLBACK_ID
    plan = SimPlan(
        agents={"PJSIP/a1006": AgentBehaviour(answer_after=1.0, talk_time=5.0)},
        dialplan=shipped_dialplan(),
    )
    driver = Driver(plan, script=lambda _sid, _open: ["ANSWER", "WAIT FOR DIGIT 10000"])
    driver.originate(
        OriginateRequest(
            channel="PJSIP/a1006",
            context="hotline-callback",
            exten="s",
            variables=(("HOTLINE_CALLBACK_ID", "42"), ("HOTLINE_QUEUE", "orders")),
            caller_id='"Back" <5550700>',
        )
    )
    run = driver.run_until(60.0)
    (opened,) = run.agi_opened
    env = dict(opened.env)
    assert (env["agi_network_script"], env["agi_arg_1"], env["agi_context"]) == (
        f"callback?answered=1&key={SHIPPED_AGI_KEY}",
        "42",
        "hotline-callback",
    )
    assert env["agi_channel"].startswith("PJSIP/a1006-")
    # the agent hangs up after 5 s of talk: the AGI command is aborted and the session ends
    assert run.replies(1) == ["200 result=0\n", "200 result=-1\n", "HANGUP\n", "HANGUP\n"]
    assert driver.pbx.channels() == []


RECORD = "U(hotline-answer^/rec/c1.wav^br(/rec/c1-out.wav)t(/rec/c1-in.wav))"


def test_the_dials_gosub_at_the_answer_starts_the_recording_on_the_agents_leg() -> None:
    """Option U runs the shipped [hotline-answer] on the answered channel before DialEnd and
    the bridge (app_dial.c OPT_CALLEE_GOSUB): MixMonitor with the daemon's file and options;
    its file comes back to the caller as GOSUB_RETVAL."""
    run = _daemon_call(
        _plan(a1001=AgentBehaviour(answer_after=2.0, talk_time=30.0)),
        f'"PJSIP/a1001,20,{RECORD}"',
    )
    begin = next(
        m for m in run.messages if m.name == "DialBegin" and "PJSIP/a1001-" in m["DestChannel"]
    )
    caller, agent = begin["Channel"], begin["DestChannel"]
    order = [
        (m.name, m.get("Channel"))
        for m in run.messages
        if m.name in ("DialBegin", "MixMonitorStart", "DialEnd")
        and agent in (m.get("Channel"), m.get("DestChannel"))
    ]
    assert order == [
        ("DialBegin", caller), ("MixMonitorStart", agent), ("DialEnd", caller)
    ]  # fmt: skip
    assert not [m for m in run.messages if m.name == "MixMonitorStart" and m["Channel"] == caller]
    theirs = [m for m in run.messages if m.get("Channel") == agent]
    steps = [(m["Context"], m["Application"], m["AppData"]) for m in theirs if m.name == "Newexten"]
    mixmonitor = ("MixMonitor", "/rec/c1.wav,br(/rec/c1-out.wav)t(/rec/c1-in.wav)")
    assert ("hotline-answer", *mixmonitor) in steps
    assert ("hotline-answer", "Return", "/rec/c1.wav") in steps
    local = {m["Variable"]: m["Value"] for m in theirs if m.name == "VarSet"}
    assert local["LOCAL(ARG1)"] == "/rec/c1.wav"
    assert local["LOCAL(ARGC)"] == "2"
    assert local["GOSUB_RESULT"] == "RECORDING"
    mine = {m["Variable"]: m["Value"] for m in run.messages if m.get("Channel") == caller
            and m.name == "VarSet"}  # fmt: skip
    assert mine["GOSUB_RETVAL"] == "/rec/c1.wav"
    assert "MIXMONITOR_FILENAME" not in mine
    # the Dial goes on as without the option: answered, bridged, the talk recorded (option b)
    assert run.replies(1)[5:6] == ["200 result=-1\n"]
    files = {w.path: w.seconds for w in run.wavs}
    assert set(files) == {"/rec/c1.wav", "/rec/c1-in.wav", "/rec/c1-out.wav"}
    assert files["/rec/c1.wav"] == 30.0


def test_a_gosub_at_the_answer_that_is_not_in_the_dialplan_only_costs_the_recording() -> None:
    """A dialplan installed without [hotline-answer]: Gosub finds nothing, the call is bridged
    all the same, and no GOSUB_RETVAL says the recording did not start."""
    run = _daemon_call(
        _plan(a1001=AgentBehaviour(answer_after=2.0, talk_time=30.0)),
        '"PJSIP/a1001,20,U(no-such-context^/rec/c1.wav^b)"',
    )
    assert not [m for m in run.messages if m.name == "MixMonitorStart"]
    ends = [m["DialStatus"] for m in run.messages if m.name == "DialEnd" and "Channel" in m]
    assert ends == ["ANSWER"]
    assert not [m for m in run.messages if m.get("Variable") == "GOSUB_RETVAL"]
    assert run.replies(1)[5:6] == ["200 result=-1\n"]
    assert not run.wavs

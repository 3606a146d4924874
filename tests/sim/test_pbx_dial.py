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


RECORD = "B(hotline-predial^record^1(/rec/c1.wav^br(/rec/c1-in.wav)t(/rec/c1-out.wav)))"


def test_the_dials_pre_dial_handler_starts_the_recording_before_the_agent_rings() -> None:
    """Option B runs the shipped [hotline-predial] on the caller first (app_dial.c
    OPT_PREDIAL_CALLER): MixMonitor with the daemon's file and options, then the ring."""
    run = _daemon_call(
        _plan(a1001=AgentBehaviour(answer_after=2.0, talk_time=30.0)),
        f'"PJSIP/a1001,20,{RECORD}"',
    )
    caller = next(m for m in run.messages if m.name == "Newchannel")["Channel"]
    mine = [m for m in run.messages if m.get("Channel") == caller]
    names = [m.name for m in mine]
    assert names.index("MixMonitorStart") < names.index("DialBegin")
    steps = [(m["Context"], m["Application"], m["AppData"]) for m in mine if m.name == "Newexten"]
    mixmonitor = ("MixMonitor", "/rec/c1.wav,br(/rec/c1-in.wav)t(/rec/c1-out.wav)")
    assert ("hotline-predial", *mixmonitor) in steps
    assert ("hotline-predial", "Return", "") in steps
    local = {m["Variable"]: m["Value"] for m in mine if m.name == "VarSet"}
    assert local["LOCAL(ARG1)"] == "/rec/c1.wav"
    assert local["LOCAL(ARG2)"] == "br(/rec/c1-in.wav)t(/rec/c1-out.wav)"
    assert local["LOCAL(ARGC)"] == "2"
    assert local["MIXMONITOR_FILENAME"] == "/rec/c1.wav"
    # the Dial goes on as without the option: answered, bridged, the talk recorded (option b)
    assert run.replies(1)[5:6] == ["200 result=-1\n"]
    files = {w.path: w.seconds for w in run.wavs}
    assert set(files) == {"/rec/c1.wav", "/rec/c1-in.wav", "/rec/c1-out.wav"}
    assert files["/rec/c1.wav"] == 30.0


def test_a_pre_dial_handler_that_is_not_in_the_dialplan_only_costs_the_recording() -> None:
    """A dialplan installed without [hotline-predial]: Gosub finds nothing, the Dial rings and
    is answered all the same, and no MIXMONITOR_FILENAME says the recording did not start."""
    run = _daemon_call(
        _plan(a1001=AgentBehaviour(answer_after=2.0, talk_time=30.0)),
        '"PJSIP/a1001,20,B(no-such-context^s^1(/rec/c1.wav^b))"',
    )
    assert not [m for m in run.messages if m.name == "MixMonitorStart"]
    ends = [m["DialStatus"] for m in run.messages if m.name == "DialEnd" and "Channel" in m]
    assert ends == ["ANSWER"]
    assert not [m for m in run.messages if m.get("Variable") == "MIXMONITOR_FILENAME"]
    assert not run.wavs

"""app_queue in the core: recorded scenarios B (queue timeout) and C (abandon), the hotline
fallback decisions (HOTLINE_HANDLED, empty AGI session), strategies and member administration."""

from __future__ import annotations

import pytest

from acd.asterisk.ami.message import Message
from acd.settings.names import VAR_DONE
from acd.sim.outputs import OriginateRequest
from acd.sim.plan import (
    AgentBehaviour,
    CallerBehaviour,
    QueueMember,
    QueuePlan,
    SimPlan,
    Strategy,
)
from tests.sim.pbx_driver import (
    Driver,
    Run,
    event_types,
    normalise,
    recorded_agi_commands,
    recorded_events,
    shipped_dialplan,
)


def _var(run: Run, name: str) -> list[str]:
    return [m["Value"] for m in run.messages if m.name == "VarSet" and m["Variable"] == name]


def _named(run: Run, name: str) -> list[Message]:
    return [m for m in run.messages if m.name == name]


@pytest.mark.parametrize(
    ("scenario", "number", "hold", "status"),
    [("B", "5550201", "120", "TIMEOUT"), ("C", "5550202", "8", "ABANDON")],
)
def test_recorded_queue_endings(scenario: str, number: str, hold: str, status: str) -> None:
    driver = Driver(script=lambda _sid, _open: recorded_agi_commands(scenario))
    driver.originate(
        OriginateRequest(
            channel=f"Local/{number}@caller-sim/n",
            context="hotline",
            exten="s",
            variables=(("IVR_DIGIT", "2"), ("DTMF_DELAY", "3"), ("CALLER_HOLD", hold)),
        )
    )
    run = driver.run_until(300.0)
    real = recorded_events(scenario)
    assert normalise(event_types(run.messages)) == normalise(event_types(real))
    real_status = [
        m["Value"] for m in real if m.name == "VarSet" and m["Variable"] == "QUEUESTATUS"
    ]
    assert _var(run, "QUEUESTATUS") == real_status == ([status] if status == "TIMEOUT" else [])
    (abandon,) = _named(run, "QueueCallerAbandon")
    (real_abandon,) = [m for m in real if m.name == "QueueCallerAbandon"]
    assert abandon["HoldTime"] == real_abandon["HoldTime"]
    assert [k for k, _ in abandon.headers] == [k for k, _ in real_abandon.headers]
    names = [m.name for m in run.messages]
    assert names.index("QueueCallerAbandon") < names.index("QueueCallerLeave")


def _call(
    plan: SimPlan, commands: list[str], caller: CallerBehaviour | None = None, until: float = 200.0
) -> Run:
    driver = Driver(plan, script=lambda _sid, _open: commands)
    driver.originate(
        OriginateRequest(
            channel="Local/5550400@caller-sim/n",
            context="hotline",
            exten="s",
            caller=caller or CallerBehaviour(number="5550400", hangup_after=100.0),
        )
    )
    return driver.run_until(until)


def _shipped() -> SimPlan:
    """The shipped dialplan with its default fallback queue (enquiries) answered by agent2."""
    member = QueueMember("Local/agent2@agents/n", "Agent Two", "Local/agent2@agents")
    return SimPlan(
        queues=(QueuePlan("enquiries", "rrmemory", 15.0, 1.0, (member,)),),
        dialplan=shipped_dialplan(),
    )


def test_a_call_the_daemon_finished_skips_the_fallback_queue() -> None:
    run = _call(_shipped(), [f'SET VARIABLE {VAR_DONE} "1"'])
    assert _var(run, "AGISTATUS") == ["SUCCESS"]
    assert not _named(run, "QueueCallerJoin")
    assert sorted(m["Channel"] for m in _named(run, "Hangup")) == sorted(
        m["Channel"] for m in _named(run, "Newchannel")
    )


@pytest.mark.parametrize("value", ["", "0", "yes"])
def test_anything_but_done_1_falls_back_like_the_rendered_dialplan(value: str) -> None:
    # dialplan/extensions.conf [hotline-resume]: GotoIf($["${HOTLINE_DONE}"="1"]?done); no
    # daemon answers the resume attempts here, so the plain Queue() takes the caller
    run = _call(_shipped(), [f'SET VARIABLE {VAR_DONE} "{value}"'])
    assert _var(run, "HOTLINE_RESUMES") == ["0", "1", "2", "3"]
    (join,) = _named(run, "QueueCallerJoin")
    assert join["Queue"] == "enquiries"
    assert join["Context"] == "hotline-fallback"


def test_empty_agi_session_falls_back_to_the_queue() -> None:
    # the backlog gotcha: connection accepted and closed at once -> SUCCESS but nothing set
    run = _call(_shipped(), [])
    assert _var(run, "AGISTATUS") == ["SUCCESS"] * 4  # the IVR AGI, then 3 resume attempts
    (join,) = _named(run, "QueueCallerJoin")
    assert join["Queue"] == "enquiries"
    assert _named(run, "AgentConnect")


def _plan(strategy: Strategy, answers: dict[str, float | None]) -> SimPlan:
    members = tuple(QueueMember(f"PJSIP/{ep}", f"Agent {ep}") for ep in answers)
    agents = {
        f"PJSIP/{ep}": AgentBehaviour(answer_after=a, talk_time=3.0) for ep, a in answers.items()
    }
    queue = QueuePlan(
        "sales",
        strategy,
        member_timeout=5.0,
        retry=1.0,
        members=members,
    )
    return SimPlan(queues=(queue,), agents=agents)


def test_ringall_rings_every_free_member_and_cancels_the_rest() -> None:
    run = _call(_plan("ringall", {"1001": None, "1002": 2.0, "1003": None}), [])
    called = [m["Interface"] for m in _named(run, "AgentCalled")]
    assert called == ["PJSIP/1001", "PJSIP/1002", "PJSIP/1003"]
    (connect,) = _named(run, "AgentConnect")
    assert connect["Interface"] == "PJSIP/1002"
    statuses = sorted(m["DialStatus"] for m in _named(run, "DialEnd") if "Channel" in m)
    assert statuses == ["ANSWER", "CANCEL", "CANCEL"]
    assert connect["DestChannel"].startswith("PJSIP/1002-")


def test_rrmemory_skips_to_the_next_member_after_no_answer() -> None:
    run = _call(_plan("rrmemory", {"1001": None, "1002": 1.0}), [])
    assert [m["Interface"] for m in _named(run, "AgentCalled")] == ["PJSIP/1001", "PJSIP/1002"]
    (no_answer,) = _named(run, "AgentRingNoAnswer")
    assert no_answer["RingTime"] == "5000"


def test_unavailable_member_is_not_rung() -> None:
    plan = _plan("linear", {"1001": 1.0, "1002": 1.0})
    driver = Driver(plan, script=lambda _sid, _open: [])
    driver.pbx.set_device_state(0.0, "PJSIP/1001", "UNAVAILABLE")
    driver.originate(
        OriginateRequest(
            channel="Local/5550401@caller-sim/n",
            context="hotline",
            exten="s",
            caller=CallerBehaviour(number="5550401"),
        )
    )
    run = driver.run_until(100.0)
    assert [m["Interface"] for m in _named(run, "AgentCalled")] == ["PJSIP/1002"]
    statuses = [m for m in _named(run, "QueueMemberStatus") if m["Interface"] == "PJSIP/1001"]
    assert statuses[0]["Status"] == "5"


def test_member_administration_outcomes() -> None:
    driver = Driver()
    pbx = driver.pbx
    assert pbx.queue_add(0.0, "sales", "Local/agent4@agents/n", "Agent Four") == "ok"
    assert pbx.queue_add(0.0, "sales", "Local/agent4@agents/n") == "exists"
    assert pbx.queue_add(0.0, "nope", "Local/agent4@agents/n") == "no-queue"
    assert pbx.queue_pause(0.0, "Local/agent4@agents/n", True, "sales", "lunch")
    assert not pbx.queue_pause(0.0, "Local/nobody@agents/n", True, "sales")
    assert pbx.queue_remove(0.0, "sales", "Local/agent4@agents/n") == "ok"
    assert pbx.queue_remove(0.0, "sales", "Local/agent4@agents/n") == "missing"
    driver.pump()
    names = [m.name for m in driver.run.messages]
    assert names == [
        "QueueMemberAdded",
        "DeviceStateChange",
        "QueueMemberPause",
        "QueueMemberRemoved",
    ]
    added = driver.run.messages[0]
    assert [k for k, _ in added.headers][2:] == [
        "Queue",
        "MemberName",
        "Interface",
        "StateInterface",
        "Membership",
        "Penalty",
        "CallsTaken",
        "LastCall",
        "LastPause",
        "LoginTime",
        "InCall",
        "Status",
        "Paused",
        "PausedReason",
        "Ringinuse",
        "Wrapuptime",
    ]
    assert added["Membership"] == "dynamic"
    assert driver.run.messages[1]["Device"] == "Queue:sales_pause_Local/agent4@agents/n"

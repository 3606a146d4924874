"""Device states of Local and PJSIP endpoints: the simulator against q3_devstate_local_results.json
and q3_pjsip_1099_results.json / q3_pjsip_results.json of Asterisk 22.10.1."""

from __future__ import annotations

from acd.asterisk.ami.message import Message
from acd.sim.outputs import OriginateRequest
from acd.sim.plan import AgentBehaviour, SimPlan
from tests.dev_captures import capture_json
from tests.sim.capture_support import dev_plan
from tests.sim.pbx_driver import Driver

LOCAL = capture_json("q3_devstate_local_results.json")


def _device_events(messages: list[Message], device: str) -> list[str]:
    return [m["State"] for m in messages if m.name == "DeviceStateChange" and m["Device"] == device]


def _recorded_states(case: str, device: str) -> list[str]:
    return [
        e["State"]
        for e in LOCAL[case]
        if e["Event"] == "DeviceStateChange" and e["Device"] == device
    ]


def _originate_phone(driver: Driver, endpoint: str, timeout_ms: int = 30000) -> None:
    # the recorded set-up: Originate Channel=Local/<ext>@agent-phones/n Application=Wait Data=4
    driver.originate(
        OriginateRequest(channel=endpoint, application="Wait", data="4", timeout_ms=timeout_ms)
    )


def test_local_device_is_inuse_while_ringing_twice_on_answer_and_never_ringing() -> None:
    driver = Driver(dev_plan())
    _originate_phone(driver, "Local/1103@agent-phones/n")
    run = driver.run_until(30.0)
    device = "Local/1103@agent-phones"
    ours = _device_events(run.messages, device)
    assert ours == _recorded_states("s1_local_1103_ring2s_answer_4s", device)
    assert ours == ["INUSE", "INUSE", "INUSE", "NOT_INUSE", "NOT_INUSE"]


def test_unanswered_local_member_and_its_queue_member_status() -> None:
    driver = Driver(dev_plan())
    _originate_phone(driver, "Local/2001@agent-phones/n", timeout_ms=5000)
    run = driver.run_until(30.0)
    device = "Local/2001@agent-phones"
    case = "s2_local_2001_noanswer"
    assert _device_events(run.messages, device) == _recorded_states(case, device)
    ours = [(m["Queue"], m["Status"]) for m in run.messages if m.name == "QueueMemberStatus"]
    real = [(e["Queue"], e["Status"]) for e in LOCAL[case] if e["Event"] == "QueueMemberStatus"]
    assert sorted(ours) == sorted(real)  # 2 (in use) while ringing, 1 after, in both queues


def test_local_devices_are_not_listed_by_device_state_list() -> None:
    assert LOCAL["DeviceStateList_local"] == []
    driver = Driver(dev_plan())
    _originate_phone(driver, "Local/1103@agent-phones/n")
    driver.run_until(3.0)  # answered and in use
    assert driver.pbx.device_states(None) == []


def test_pjsip_device_rings_is_in_use_and_unavailable_when_unregistered() -> None:
    answered = capture_json("q3_pjsip_1099_results.json")["2_call_answered"]
    recorded = [e["State"] for e in answered if e["Event"] == "DeviceStateChange"]
    plan = SimPlan(agents={"PJSIP/1099": AgentBehaviour(answer_after=0.01, talk_time=3.0)})
    driver = Driver(plan)
    _originate_phone(driver, "PJSIP/1099")
    run = driver.run_until(10.0)
    assert _device_events(run.messages, "PJSIP/1099") == recorded
    unregistered = capture_json("q3_pjsip_results.json")["7_graceful_unregister"]
    last = [e["State"] for e in unregistered if e["Event"] == "DeviceStateChange"][-1]
    driver.pbx.set_device_state(driver.now, "PJSIP/1099", "UNAVAILABLE")
    driver.pump()
    assert _device_events(driver.run.messages, "PJSIP/1099")[-1] == last == "UNAVAILABLE"
    listed = [(m["Device"], m["State"]) for m in driver.pbx.device_states(None)]
    assert listed == [("PJSIP/1099", "UNAVAILABLE")]

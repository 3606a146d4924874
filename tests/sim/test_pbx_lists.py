"""AMI list actions and variables at the core level: item layouts against the recordings."""

from __future__ import annotations

from acd.sim.outputs import OriginateRequest
from acd.sim.plan import AgentBehaviour, CallerBehaviour, SimPlan
from tests.sim.pbx_driver import Driver, layout, recorded_layouts, talking_call


def test_variables_through_ami() -> None:
    driver = talking_call()
    caller = next(
        c.name for c in driver.pbx.channels() if "caller-sim" in c.name and c.name.endswith(";1")
    )
    assert driver.pbx.set_var(driver.now, caller, "AMI_SET", "x")
    assert driver.pbx.get_var(caller, "AMI_SET") == "x"
    assert driver.pbx.get_var(caller, "UNSET_ONE") == ""
    assert driver.pbx.get_var("Local/nope-00000000;1", "X") is None
    assert not driver.pbx.set_var(driver.now, "Local/nope-00000000;1", "X", "1")


def test_list_items_have_the_recorded_layouts() -> None:
    driver = talking_call()
    driver.originate(
        OriginateRequest(  # a second caller waits in support
            channel="Local/5550301@caller-sim/n",
            context="hotline",
            exten="s",
            variables=(("IVR_DIGIT", "2"),),
            caller=CallerBehaviour(number="5550301"),
        )
    )
    layouts = recorded_layouts("ami_login_and_actions.txt")
    pbx, now = driver.pbx, driver.now
    items = [
        *pbx.core_show_channels(now, "a1"),
        *(pbx.status(now, "a2") or []),
        *pbx.queue_status(now, "a3"),
        *pbx.queue_summary(now, "a4"),
    ]
    kinds = {m.name for m in items}
    assert {"CoreShowChannel", "Status", "QueueParams", "QueueMember", "QueueSummary"} <= kinds
    for message in items:
        assert layout(message) in layouts[message.name], message.name
    assert pbx.status(now, "a5", "Local/nope-00000000;1") is None
    assert len(pbx.channels()) == len(pbx.core_show_channels(now, None))


def test_queue_entry_layout_while_waiting() -> None:
    plan = SimPlan(agents={"Local/agent1@agents/n": AgentBehaviour(answer_after=None)})
    driver = Driver(plan, script=lambda _sid, _open: ['SET VARIABLE IVR_QUEUE "support"'])
    driver.originate(
        OriginateRequest(
            channel="Local/5550102@caller-sim/n",
            context="hotline",
            exten="s",
            caller=CallerBehaviour(number="5550102"),
        )
    )
    driver.run_until(2.0)
    entries = [m for m in driver.pbx.queue_status(2.0, "x", "support") if m.name == "QueueEntry"]
    assert len(entries) == 1
    layouts = recorded_layouts("ami_login_and_actions.txt")
    assert layout(entries[0]) in layouts["QueueEntry"]


def test_device_state_list_reports_changes() -> None:
    driver = Driver(SimPlan(devices={"PJSIP/1001": "NOT_INUSE"}))
    driver.pbx.set_device_state(0.0, "PJSIP/1001", "UNAVAILABLE")
    driver.pump()
    (change,) = driver.run.messages
    assert (change.name, change["Device"], change["State"]) == (
        "DeviceStateChange",
        "PJSIP/1001",
        "UNAVAILABLE",
    )
    (item,) = driver.pbx.device_states("dl-1")
    assert [k for k, _ in item.headers] == ["Event", "ActionID", "Device", "State"]
    assert item["State"] == "UNAVAILABLE"

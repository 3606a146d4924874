"""Phone fault modes over a real AMI socket, read the way the daemon will read them:
framed by the AMI client core, parsed by ``parse_contact_status``, judged by ``PhoneWatch``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import pytest_asyncio

from acd.asterisk.ami.contact_status import parse_contact_status
from acd.daemon.phone_quality import PhoneChange, PhoneTarget, PhoneVerdict, PhoneWatch
from acd.sim.faults import Faults
from acd.sim.plan import AgentBehaviour, SimPlan
from acd.sim.runtime import Simulator
from tests.sim.runtime_support import AmiProbe, is_event

REMOTE = "PJSIP/1004"
OFFICE = "PJSIP/1001"


@dataclass
class Rig:
    sim: Simulator
    probe: AmiProbe
    watch: PhoneWatch
    fed: set[int] = field(default_factory=set)  # id() of the events already given to the watch

    async def next_change(self) -> PhoneChange:
        """Feed ContactStatus events to the watch, in arrival order, until the verdict changes."""
        while True:
            message = await self.probe.wait_event(
                lambda m: m.name == "ContactStatus" and id(m) not in self.fed
            )
            self.fed.add(id(message))
            change = self.watch.observe(parse_contact_status(message))
            if change is not None:
                return change


@pytest_asyncio.fixture
async def rig() -> AsyncIterator[Rig]:
    agents = {phone: AgentBehaviour() for phone in (REMOTE, OFFICE)}
    sim = Simulator(SimPlan(queues=(), agents=agents), seed=5)
    await sim.start()
    probe = await AmiProbe.connect(sim.ami_port)
    assert (await probe.login_md5()).ok
    watch = PhoneWatch({"1004": PhoneTarget("1004", 400), "1001": PhoneTarget("1001", None)})
    try:
        yield Rig(sim, probe, watch)
    finally:
        await probe.close()
        await sim.close()


@pytest.mark.asyncio
async def test_slow_then_unreachable_then_back(rig: Rig) -> None:
    rig.sim.faults.phone_slow(REMOTE, 650.0)
    slow = await rig.next_change()
    assert (slow.agent_id, slow.verdict, slow.rtt_ms) == ("1004", PhoneVerdict.RTT_OVER_LIMIT, 650)
    assert slow.pause_reason == "phone-slow"

    rig.sim.faults.phone_unreachable(REMOTE)
    lost = await rig.next_change()
    assert (lost.verdict, lost.previous) == (
        PhoneVerdict.UNREACHABLE,
        PhoneVerdict.RTT_OVER_LIMIT,
    )
    await rig.probe.wait_event(is_event("DeviceStateChange", Device=REMOTE, State="UNAVAILABLE"))
    await rig.probe.wait_event(is_event("PeerStatus", Peer=REMOTE, PeerStatus="Unreachable"))

    rig.sim.faults.phone_reachable(REMOTE)
    back = await rig.next_change()
    assert (back.verdict, back.rtt_ms) == (PhoneVerdict.REACHABLE, 20.0)
    await rig.probe.wait_event(is_event("DeviceStateChange", Device=REMOTE, State="NOT_INUSE"))


@pytest.mark.asyncio
async def test_an_office_phone_without_limit_is_never_too_slow(rig: Rig) -> None:
    rig.sim.faults.phone_slow(OFFICE, 2_000.0)
    change = await rig.next_change()
    assert (change.agent_id, change.verdict) == ("1001", PhoneVerdict.REACHABLE)
    assert not change.pauses


@pytest.mark.asyncio
async def test_device_state_list_agrees_after_a_fault(rig: Rig) -> None:
    rig.sim.faults.phone_unreachable(REMOTE)
    done = await rig.probe.action("DeviceStateList")
    states = {m["Device"]: m["State"] for m in done.events}
    assert states[REMOTE] == "UNAVAILABLE"


@pytest.mark.asyncio
async def test_bad_phone_faults_are_refused(rig: Rig) -> None:
    with pytest.raises(ValueError, match="expected a PJSIP/<endpoint> device"):
        rig.sim.faults.phone_unreachable("Local/1004@agent-phones")
    with pytest.raises(ValueError, match="positive round trip"):
        rig.sim.faults.phone_slow(REMOTE, 0)


def test_phone_faults_need_a_simulator() -> None:
    with pytest.raises(RuntimeError, match="need a running simulator"):
        Faults().phone_unreachable(REMOTE)

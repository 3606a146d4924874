"""``AgentBatch``: many agents' requests as one floor input (bulk log-in and log-out)."""

from __future__ import annotations

from acd.engine.agent import AgentChanged, AgentState
from acd.engine.floor import Floor
from acd.engine.floor_effects import Offer, Refused
from acd.engine.floor_inputs import AgentAction, AgentBatch, AgentRequest, CallerArrived
from acd.engine.journal import decode, encode, replay
from acd.engine.model import AgentSpec, QueueSpec, WaitingCall

A = AgentAction


def make_floor(agents: int) -> Floor:
    queues = [QueueSpec("orders", "orders", min_level=1)]
    specs = [AgentSpec(f"a{i}", f"PJSIP/{1000 + i}", {"orders": 3}) for i in range(agents)]
    return Floor(queues, specs)


def batch(ids: list[str], action: AgentAction) -> AgentBatch:
    return AgentBatch(tuple(AgentRequest(a, action) for a in ids))


def test_a_batch_logs_every_agent_in_with_one_change_each() -> None:
    floor = make_floor(500)
    ids = [f"a{i}" for i in range(500)]
    effects = floor.handle(batch(ids, A.LOGIN), 1.0)
    changes = [e for e in effects if isinstance(e, AgentChanged)]
    assert [c.agent_id for c in changes] == ids
    assert {c.new for c in changes} == {AgentState.READY}
    assert all(floor.agents[a].state is AgentState.READY for a in ids)


def test_refused_requests_come_back_and_the_rest_go_ahead() -> None:
    floor = make_floor(3)
    floor.handle(AgentRequest("a1", A.LOGIN), 0.0)
    effects = floor.handle(batch(["a0", "a1", "nobody", "a2"], A.LOGIN), 1.0)
    refused = [e for e in effects if isinstance(e, Refused)]
    assert [r.agent_id for r in refused] == ["a1", "nobody"]
    assert "not allowed in state ready" in refused[0].reason
    assert refused[1].reason == "unknown agent"
    changed = [e.agent_id for e in effects if isinstance(e, AgentChanged)]
    assert changed == ["a0", "a2"]


def test_a_waiting_caller_gets_one_offer_when_the_batch_logs_agents_in() -> None:
    floor = make_floor(50)
    floor.handle(CallerArrived(WaitingCall("c1", "orders", 0.0)), 0.0)
    effects = floor.handle(batch([f"a{i}" for i in range(50)], A.LOGIN), 1.0)
    (offer,) = [e for e in effects if isinstance(e, Offer)]
    assert floor.agents[offer.agent_id].state is AgentState.RESERVED
    # everybody out again: the reserved agent keeps ringing (it leaves after the call)
    effects = floor.handle(batch([f"a{i}" for i in range(50)], A.LOGOUT), 2.0)
    out = [e.agent_id for e in effects if isinstance(e, AgentChanged)]
    assert offer.agent_id not in out
    assert len(out) == 49
    assert not [e for e in effects if isinstance(e, Refused)]
    assert floor.agents[offer.agent_id].state is AgentState.RESERVED


def test_a_batch_journals_as_one_line_and_replays_to_the_same_floor() -> None:
    floor = make_floor(20)
    inp = batch([f"a{i}" for i in range(0, 20, 2)], A.LOGIN)
    line = encode(inp, 5.0)
    assert "\n" not in line
    assert decode(line) == (inp, 5.0)
    again = make_floor(20)
    assert replay(again, [line]) == floor.handle(inp, 5.0)
    assert {a: x.state for a, x in again.agents.items()} == {
        a: x.state for a, x in floor.agents.items()
    }

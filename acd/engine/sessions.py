"""Agent sessions that outlive the daemon: what is stored of each agent, and how a new daemon
takes it back.

``session_of`` reads one agent's session off the floor (the owner task stores it with every
change, on the interval the change opens: ``acd.storage.agent_sessions``). ``restore_inputs``
is the start-up decision, from the stored sessions and what Asterisk says now (which agents'
phones still have a channel): one
``RestoreAgent`` per agent who was logged in. Pure: times are parameters, in one time base
(the caller's; the daemon passes wall-clock seconds).

The rules:
- logged out, or nothing stored: stays logged out (a login is the agent's, not ours);
- ready or paused (with its reason): as stored; the device rules still apply (an unavailable
  phone pauses, ``Floor``);
- ringing, talking or talking-then-logging-out with a channel still on the phone: talking, with
  that channel as the outside call, until the phone is free again. Without a channel the call
  ended while no daemon was there: ready (or logged out, for a pending logout), since nobody
  knows when its wrap-up would have ended. (A ring is not stored as its own interval: the
  daemon stores a ringing agent as ready, and a ready agent whose phone is busy is not offered
  until it is free, ``DeviceState.free``);
- in wrap-up: what is left of it, or ready when it is over.

Since the agents' conversations and wrap-ups are on the calls rows (``calls.agent_legs``, issue
13) and no longer stored as their own intervals, ``with_calls`` lays the agent's latest leg over
its latest stored session first: a leg answered since a stored ready is the agent's session
(talking while the leg is open, then in wrap-up until its deadline), exactly as the on-call and
wrap-up intervals said before. A stored change after the leg's answer (a pause, a ready pressed
early, a logout) is later than the leg and wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from acd.engine.agent import AgentState
from acd.engine.floor import Floor
from acd.engine.floor_inputs import RestoreAgent

_TALKING = (AgentState.RESERVED, AgentState.ON_CALL, AgentState.PENDING_LOGOUT)
_IDLE = (AgentState.READY, AgentState.RESERVED)


@dataclass(frozen=True, slots=True)
class AgentSession:
    """One agent's session as stored (its latest ``agent_state_log`` interval); times in the
    caller's time base."""

    agent_id: str
    state: AgentState
    reason: str | None = None  # the pause reason
    since: float | None = None
    wrap_up_due: float | None = None
    call_id: str | None = None  # the call offered or in conversation (or the outside call)
    queue: str | None = None  # that call's queue (its wrap-up length)


def session_of(floor: Floor, agent_id: str) -> AgentSession:
    """The agent's session as the floor has it now (floor times: the steady clock)."""
    agent = floor.agents[agent_id]
    call_id, queue = agent.outside_call, agent.last_queue
    for engaged_id, caller in floor.router.engaged.items():
        if caller.agent_id == agent_id:
            call_id, queue = engaged_id, caller.call.queue
            break
    return AgentSession(
        agent_id,
        agent.state,
        agent.pause_reason if agent.state is AgentState.PAUSED else None,
        agent.since,
        agent.wrap_up_due,
        call_id,
        queue,
    )


@dataclass(frozen=True, slots=True)
class StoredLeg:
    """An answered leg as the calls row has it (``calls.agent_legs``); times in the caller's
    time base."""

    agent_id: str
    call_id: str
    queue: str | None
    answered_at: float
    ended_at: float | None  # None: still talking when the row was written
    wrap_up_due: float | None


def with_calls(
    stored: Mapping[str, AgentSession], legs: Iterable[StoredLeg]
) -> dict[str, AgentSession]:
    """The stored sessions with each agent's latest leg laid over a ready one it is newer
    than: talking (an open leg), in wrap-up until the leg's deadline, or as stored (the
    wrap-up is over, or had no time)."""
    latest: dict[str, StoredLeg] = {}
    for leg in legs:
        known = latest.get(leg.agent_id)
        if known is None or leg.answered_at >= known.answered_at:
            latest[leg.agent_id] = leg
    sessions = dict(stored)
    for agent_id, leg in latest.items():
        session = sessions.get(agent_id)
        if session is None or session.state not in _IDLE:
            continue
        if session.since is not None and leg.answered_at < session.since:
            continue  # a change stored after the answer says what the agent did next
        if leg.ended_at is None:
            sessions[agent_id] = AgentSession(
                agent_id, AgentState.ON_CALL, None, leg.answered_at, None, leg.call_id, leg.queue
            )
        elif leg.wrap_up_due is not None and leg.wrap_up_due > leg.ended_at:
            sessions[agent_id] = AgentSession(
                agent_id,
                AgentState.WRAP_UP,
                None,
                leg.ended_at,
                leg.wrap_up_due,
                leg.call_id,
                leg.queue,
            )
    return sessions


def restore_inputs(
    stored: Mapping[str, AgentSession],
    busy: Mapping[str, str] | None,
    now: float,
) -> list[RestoreAgent]:
    """The inputs that take the stored sessions back. ``busy``: agent -> a channel Asterisk has
    on the agent's phone now; None when Asterisk could not be asked (then a stored call is
    taken to go on: the AMI resync ends it once it finds the phone free)."""
    inputs: list[RestoreAgent] = []
    for agent_id, session in sorted(stored.items()):
        state = session.state
        if state is AgentState.LOGGED_OUT:
            continue
        if state in _TALKING:
            channel = (session.call_id or "unknown") if busy is None else busy.get(agent_id)
            if channel is not None:
                talking = (
                    AgentState.PENDING_LOGOUT
                    if state is AgentState.PENDING_LOGOUT
                    else AgentState.ON_CALL
                )
                inputs.append(
                    RestoreAgent(agent_id, talking, queue=session.queue, outside_call=channel)
                )
            elif state is not AgentState.PENDING_LOGOUT:
                inputs.append(RestoreAgent(agent_id, AgentState.READY, queue=session.queue))
            continue
        if state is AgentState.WRAP_UP:
            due = session.wrap_up_due
            if due is not None and due > now:
                inputs.append(
                    RestoreAgent(agent_id, state, wrap_up_left_s=due - now, queue=session.queue)
                )
            else:
                inputs.append(RestoreAgent(agent_id, AgentState.READY, queue=session.queue))
            continue
        channel = busy.get(agent_id) if busy is not None else None
        if state is AgentState.READY and channel is not None:
            # stored ready, yet a call is on the phone: the answer's write was lost with the
            # daemon (killed just after it; seen on a real Asterisk), or a ring became a
            # conversation after it died. Busy until that call ends: never offered meanwhile
            # (a Local phone's device state is not listed by Asterisk, so it cannot say so).
            talking = AgentState.ON_CALL
            inputs.append(
                RestoreAgent(agent_id, talking, queue=session.queue, outside_call=channel)
            )
            continue
        inputs.append(RestoreAgent(agent_id, state, reason=session.reason, queue=session.queue))
    return inputs

"""What the floor tells its owner to do (``Offer``, ``AgentChanged``), and its record of a call
engaged with an agent.

Effects are plain values: the owner task turns an ``Offer`` into a ringing phone (the waiting
caller's session dials the agent) and an ``AgentChanged`` into an MQTT message and a row of the
append-only agent state log. Keeping them apart from ``Floor`` lets the daemon, the HTTP views
and the tests name them without the floor's machinery.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd.engine.agent_fsm import AgentState


@dataclass(frozen=True, slots=True)
class Offer:
    """Ring this agent for this caller, for at most ``ring_timeout_s``."""

    call_id: str
    agent_id: str
    endpoint: str
    queue: str
    ring_timeout_s: float
    at: float


@dataclass(frozen=True, slots=True)
class AgentChanged:
    agent_id: str
    old: AgentState
    new: AgentState
    reason: str | None
    at: float
    auto_paused: bool = False


FloorEffect = Offer | AgentChanged


@dataclass(slots=True)
class Engaged:
    """A call that has been offered to or is talking with an agent."""

    agent_id: str
    queue: str
    answered_at: float | None = None
    talk_s: float = 0.0

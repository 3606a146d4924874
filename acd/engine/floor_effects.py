"""What the floor tells its owner to do: ``Offer`` and ``AgentChanged``.

Effects are plain values: the owner task turns an ``Offer`` into a ringing phone (the waiting
caller's session dials the agent) and an ``AgentChanged`` (made by the agent state machine) into
an MQTT message and a row of the append-only agent state log. Keeping them apart from ``Floor``
lets the daemon, the HTTP views and the tests name them without the floor's machinery.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd.engine.agent import AgentChanged

__all__ = ["AgentChanged", "FloorEffect", "Offer", "Refused"]


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
class Refused:
    """One request of an ``AgentBatch`` the floor refused (it changed nothing): the agent and
    why, for the asker's answer; nothing to carry out."""

    agent_id: str
    reason: str


FloorEffect = Offer | AgentChanged | Refused

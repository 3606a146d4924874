"""Who is asking, and what their role lets them do (pure).

Roles rank viewer < agent < supervisor < qa = admin for the floor. A viewer sees the wallboard
and metrics only. An agent acts only as their own agent (state, their calls' recording pause,
transfer and disposition); supervisors and above act on anyone and may force state changes.
Listening in rings only the phones of the principal's supervisor entry in agents.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Role = Literal["viewer", "agent", "supervisor", "qa", "admin"]
RANK: Final[dict[str, int]] = {"viewer": 0, "agent": 1, "supervisor": 2, "qa": 3, "admin": 3}
RECORDING_ROLES: Final = frozenset({"supervisor", "qa", "admin"})
HOLD_ROLES: Final = frozenset({"admin"})  # legal hold on and off


@dataclass(frozen=True, slots=True)
class Principal:
    name: str  # the person's user id, or the service token's name: what the audit log shows
    role: str
    kind: Literal["person", "service"] = "service"
    agent_id: str | None = None  # the agent an agent-role principal acts as
    phones: tuple[str, ...] = ()  # where listen/whisper/barge may ring
    stamp: str = ""  # the credential's key id / fingerprint: sessions end when it changes

    def at_least(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]

    def may_act_on(self, agent_id: str | None) -> bool:
        """An agent only on themselves (and calls nobody answered yet: ``None`` is not theirs)."""
        if self.at_least("supervisor"):
            return True
        return self.role == "agent" and agent_id is not None and agent_id == self.agent_id

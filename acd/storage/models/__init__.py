"""All tables; importing this package registers every model on ``Base.metadata``."""

from __future__ import annotations

from acd.storage.models.agents import Agent, AgentStateLog, DaemonHeartbeat
from acd.storage.models.base import Base, UtcDateTime
from acd.storage.models.calls import (
    EVENT_KINDS,
    HANDLED_BY,
    HUNG_UP_BY,
    OUTCOMES,
    Call,
    CallEvent,
)
from acd.storage.models.qa import QaSample, QaScore, RecordingPause, ScorecardForm
from acd.storage.models.records import (
    CALLBACK_STATES,
    AppliedWrite,
    AuditLog,
    Callback,
    Customer,
    ImportPosition,
    Order,
    Recording,
)
from acd.storage.models.users import LEGS, USER_KINDS, USER_ROLES, RecordingLeg, User

__all__ = [
    "CALLBACK_STATES",
    "EVENT_KINDS",
    "HANDLED_BY",
    "HUNG_UP_BY",
    "LEGS",
    "OUTCOMES",
    "USER_KINDS",
    "USER_ROLES",
    "Agent",
    "AgentStateLog",
    "AppliedWrite",
    "AuditLog",
    "Base",
    "Call",
    "CallEvent",
    "Callback",
    "Customer",
    "DaemonHeartbeat",
    "ImportPosition",
    "Order",
    "QaSample",
    "QaScore",
    "Recording",
    "RecordingLeg",
    "RecordingPause",
    "ScorecardForm",
    "User",
    "UtcDateTime",
]

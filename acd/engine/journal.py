"""The floor's journal: each input with its time as one JSON line, and replay.

A line is ``{"at": now, "input": {"type": "RingFailed", "call_id": "c1", "status": "BUSY"}}``;
nested values (the waiting call, an overflow step and its skills) carry their own ``type``.
Floats go through JSON exactly, so replaying a day on a fresh floor built from the same specs
gives the same effects and the same final state.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from dataclasses import fields, is_dataclass
from enum import StrEnum
from typing import Any, get_type_hints

from acd.engine.agent import AgentInput, AgentState, DeviceState
from acd.engine.floor import Floor
from acd.engine.floor_effects import FloorEffect
from acd.engine.floor_inputs import (
    AgentAction,
    AgentBatch,
    AgentRequest,
    Assign,
    CallEnded,
    CallerArrived,
    CallerLeft,
    Designate,
    DeviceStateChanged,
    DeviceStatesUnknown,
    FloorInput,
    OutsideCallEnded,
    Overflow,
    PhoneFitness,
    RestoreAgent,
    RingAnswered,
    RingFailed,
    Tick,
)
from acd.engine.model import OverflowToQueue, SkillRequirement, WaitingCall, WidenSkills

_INPUTS: tuple[type[FloorInput], ...] = (
    AgentRequest,
    AgentBatch,
    DeviceStateChanged,
    DeviceStatesUnknown,
    PhoneFitness,
    CallerArrived,
    CallerLeft,
    RingAnswered,
    RingFailed,
    CallEnded,
    Assign,
    Designate,
    Overflow,
    RestoreAgent,
    OutsideCallEnded,
    Tick,
)
_TYPES: dict[str, type[Any]] = {
    t.__name__: t for t in (*_INPUTS, WaitingCall, WidenSkills, OverflowToQueue, SkillRequirement)
}
_ENUMS: tuple[type[StrEnum], ...] = (AgentAction, DeviceState, AgentInput, AgentState)


class JournalError(ValueError):
    """A line that is not a journalled floor input; ``line_no`` counts from 1."""

    def __init__(self, line_no: int, why: str) -> None:
        super().__init__(f"journal line {line_no}: {why}")
        self.line_no = line_no


def encode(inp: FloorInput, now: float) -> str:
    return json.dumps({"at": now, "input": _plain(inp)}, separators=(",", ":"))


def decode(line: str, line_no: int = 1) -> tuple[FloorInput, float]:
    try:
        record = json.loads(line)
        inp = _value(record["input"])
        now = float(record["at"])
    except (ValueError, KeyError, TypeError) as exc:
        raise JournalError(line_no, f"{type(exc).__name__}: {exc}") from None
    if not isinstance(inp, _INPUTS):
        raise JournalError(line_no, f"{type(inp).__name__} is not a floor input")
    return inp, now


def replay(floor: Floor, lines: Iterable[str]) -> list[FloorEffect]:
    """Apply every journalled input in order; an input the floor refused when it was journalled
    is refused again (and changes nothing), as the owner task did."""
    effects: list[FloorEffect] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        inp, now = decode(line, n)
        with contextlib.suppress(Exception):  # the owner task answered the error and went on
            effects += floor.handle(inp, now)
    return effects


def _plain(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        out: dict[str, object] = {"type": type(value).__name__}
        for f in fields(value):
            out[f.name] = _plain(getattr(value, f.name))
        return out
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _value(data: object) -> object:
    if isinstance(data, list):
        return tuple(_value(v) for v in data)
    if not isinstance(data, dict):
        return data
    kind = _TYPES.get(str(data.get("type")))
    if kind is None:
        raise ValueError(f"unknown type {data.get('type')!r}")
    hints = get_type_hints(kind)
    args: dict[str, object] = {}
    for name, raw in data.items():
        if name == "type":
            continue
        value = _value(raw)
        enum = next((e for e in _ENUMS if e in _union(hints.get(name))), None)
        args[name] = enum(value) if enum is not None and isinstance(value, str) else value
    return kind(**args)


def _union(hint: object) -> tuple[object, ...]:
    return getattr(hint, "__args__", None) or (hint,)

"""A live call (its facts, its timeline, its signal channel) and the registry that finds it.

``Call`` is the daemon's one record of a customer call. Its state is the fold of its steps
(``acd.daemon.call_state``) and only the call's own task, the call flow, adds steps
(``tests/daemon/test_call_model.py`` checks that no other module calls ``add_step``). Everything
else reaches a call through ``CallSignals``, its channel of values:

- ``offers``: the ACD owner task's offers for this caller (``AcdService.enqueue``);
- ``expect_answer()`` / ``answer_seen()``: a future per ring, resolved by the AMI watcher when
  Asterisk reports the Dial answered (``DialEnd`` ``ANSWER``);
- ``requests``: a transfer asked for over HTTP, a note from recording control, the AMI watcher's
  "channel gone" after a resynchronisation. The flow decides what each one means for the call.

The registry maps the call id and Asterisk's Uniqueid of the caller's channel to the live call;
``recent`` keeps what is needed of closed calls for a window (``acd.daemon.closed_calls``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from acd.daemon.call_state import CallState, advance
from acd.daemon.call_steps import Arrival, Step
from acd.daemon.closed_calls import closed_calls
from acd.engine.floor_effects import Offer

# Closed calls kept for the wallboard: its complaint window (600 s,
# ``acd.http.context.WallboardSettings``) with a margin, and at most this many (memory).
RECENT_WINDOW_S = 900.0
RECENT_KEPT = 50_000


@dataclass(frozen=True, slots=True)
class AnswerSeen:
    """AMI ``DialEnd`` with ``DialStatus: ANSWER`` on the caller's channel."""

    at: float
    agent_channel: str | None


@dataclass(frozen=True, slots=True)
class ChannelGone:
    """After an AMI resynchronisation, Asterisk no longer has the caller's channel."""

    at: float


@dataclass(frozen=True, slots=True)
class TransferAccepted:
    from_agent: str | None
    target: str


@dataclass(frozen=True, slots=True)
class TransferAsk:
    """A transfer asked for (``POST /calls/{id}/transfer``), already checked against the queue's
    rules; the call flow decides and answers on ``reply``."""

    kind: str  # "queue" | "agent"
    name: str
    reason: str | None
    by: str
    reply: asyncio.Future[TransferAccepted] = field(compare=False)

    @property
    def target(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True, slots=True)
class RecordingNote:
    """Recording control paused or resumed this call's recording (a ``recording_pauses`` row
    was or will be written by it); the flow adds the timeline step."""

    at: float
    paused: bool
    reason: str | None = None
    by: str | None = None
    resume_at: float | None = None
    auto: bool = False
    paused_s: float = 0.0


CallRequest = TransferAsk | RecordingNote | ChannelGone
T = TypeVar("T")


class _WakingQueue(asyncio.Queue[T]):
    """A queue that sets ``wake`` on every put (``put`` ends in ``put_nowait``), so a waiting
    caller's long blocking AGI command can be interrupted when an offer or request arrives."""

    def __init__(self, wake: asyncio.Event) -> None:
        super().__init__()
        self._wake = wake

    def put_nowait(self, item: T) -> None:
        super().put_nowait(item)
        self._wake.set()


class CallSignals:
    """The one channel into a live call from the rest of the daemon: values, never mutations."""

    def __init__(self) -> None:
        #: set when an offer or a request arrives; the waiter clears it before it looks
        self.wake = asyncio.Event()
        self.offers: asyncio.Queue[Offer] = _WakingQueue(self.wake)
        self.requests: asyncio.Queue[CallRequest] = _WakingQueue(self.wake)
        self._answer: asyncio.Future[AnswerSeen] | None = None

    def expect_answer(self) -> asyncio.Future[AnswerSeen]:
        """A fresh future for this ring's answer (an answer of an earlier ring is not this one)."""
        self._answer = asyncio.get_running_loop().create_future()
        return self._answer

    def stop_expecting_answer(self) -> None:
        self._answer = None

    def answer_seen(self, seen: AnswerSeen) -> bool:
        """Called by the AMI watcher; False when no ring of this call awaits an answer."""
        answer = self._answer
        if answer is None or answer.done():
            return False
        answer.set_result(seen)
        return True


class Call:
    """A live call: ``facts`` (frozen), ``steps`` (frozen, in order), ``state`` (their fold)."""

    __slots__ = ("_state", "_steps", "facts", "resumed", "signals", "transfer_marked")

    def __init__(self, facts: Arrival, *, first_seq: int = 0, leg_base: int = 0) -> None:
        """``first_seq``: where the timeline's numbering starts (a call resumed after its daemon
        died continues the same call's rows and events after the ones already written);
        ``leg_base``: where its answered legs' numbering starts (their recordings' files)."""
        self.facts = facts
        self.resumed = first_seq > 0  # another daemon had it first (route ``resume``)
        self.signals = CallSignals()
        # a transfer was tried: its mark (HOTLINE_TRANSFERRED) may be on the caller's channel,
        # so the flow ends the session with HOTLINE_DONE (acd.daemon.transfers.AgentLeg)
        self.transfer_marked = False
        self._steps: list[Step] = []
        self._state = CallState(facts, name=facts.name, steps=first_seq, leg_base=leg_base)

    @property
    def call_id(self) -> str:
        return self.facts.call_id

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(self._steps)

    @property
    def state(self) -> CallState:
        return self._state

    def add_step(self, step: Step) -> CallState:
        """Append one step to the timeline. ONLY the call flow (the call's own task) calls this."""
        self._steps.append(step)
        self._state = advance(self._state, step)
        return self._state


class CallRegistry:
    """Live calls by call id and by the caller channel's Uniqueid; ``recent`` holds closed
    calls of the last ``RECENT_WINDOW_S``, oldest first (the wallboard's complaint window)."""

    def __init__(self) -> None:
        self.recent = closed_calls(RECENT_WINDOW_S, RECENT_KEPT)
        self._by_id: dict[str, Call] = {}
        self._by_uniqueid: dict[str, Call] = {}

    def open(self, call: Call) -> None:
        self._by_id[call.call_id] = call
        self._by_uniqueid[call.facts.uniqueid] = call

    def close(self, call_id: str) -> CallState | None:
        call = self._by_id.pop(call_id, None)
        if call is None:
            return None
        self._by_uniqueid.pop(call.facts.uniqueid, None)
        state = call.state
        self.recent.append(state.ended_at or state.facts.arrived_at, state)
        return call.state

    def get(self, call_id: str) -> Call | None:
        return self._by_id.get(call_id)

    def by_uniqueid(self, uniqueid: str) -> Call | None:
        return self._by_uniqueid.get(uniqueid)

    def __iter__(self) -> Iterator[Call]:
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)

    def answer_seen(self, uniqueid: str, at: float, agent_channel: str | None) -> bool:
        """AMI saw the caller's Dial answered: resolve that call's answer future, if it rings."""
        call = self._by_uniqueid.get(uniqueid)
        return call is not None and call.signals.answer_seen(AnswerSeen(at, agent_channel))

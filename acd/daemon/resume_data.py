"""What the dialplan passes to the ``resume`` route, checked: pure, time is a parameter.

A caller whose daemon session ended before the daemon finished with them (the daemon died,
stopped or gave up; ``[hotline-resume]`` in the rendered dialplan) is offered to a daemon again
with what the first daemon stored on the channel when it queued them: ``AGI(.../resume,
<call id>,<queue>,<priority>,<place since>,<arrived>,<attempt>)``. Nothing here may hang a
caller up: data that is missing, malformed, unknown or out of date is replaced by what a new
caller of that queue would get, and listed in ``problems`` for the log.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# A place older than this is not believed (a clock set wrong, a stale channel): the caller
# queues from now. Longer than any wait the queues allow.
MAX_AGE_S = 12 * 3600.0
FUTURE_SLACK_S = 60.0  # two hosts' clocks may differ a little
# Step numbers per attempt: a resumed call's timeline continues after the earlier daemons'
# (call_events are unique by call and number), far above the steps a call has.
SEQ_PER_ATTEMPT = 1000
# Answered legs' numbers per attempt, likewise: a resumed call's recordings never reuse (and so
# truncate) a file of a leg an earlier daemon had answered (a transfer before the daemon died).
LEGS_PER_ATTEMPT = 100


@dataclass(frozen=True, slots=True)
class Resume:
    call_id: str
    queue: str | None  # None: never queued (the daemon died in the IVR): the IVR again
    priority: int
    since: float  # the caller's place in the queue dates from then (epoch seconds)
    arrived: float
    attempt: int  # 1 for the first resume
    problems: tuple[str, ...] = ()

    @property
    def leg_base(self) -> int:
        return self.attempt * LEGS_PER_ATTEMPT

    @property
    def first_seq(self) -> int:
        return self.attempt * SEQ_PER_ATTEMPT


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_resume(
    args: Sequence[str],
    *,
    uniqueid: str,
    now: float,
    default_queue: str,
    queue_priority: Mapping[str, int],
) -> Resume:
    """``args``: the AGI arguments (agi_arg_1...); ``queue_priority``: the configured queues."""
    values = [*args, "", "", "", "", "", ""][:6]
    call_id, queue_text, prio_text, since_text, arrived_text, attempt_text = (
        v.strip() for v in values
    )
    problems: list[str] = []
    if call_id != uniqueid:
        if call_id:
            problems.append(f"call id {call_id!r} is not the channel's {uniqueid!r}")
        call_id = uniqueid  # the natural key: the caller channel's Uniqueid
    queue: str | None = queue_text or None
    if queue is not None and queue not in queue_priority:
        problems.append(f"unknown queue {queue!r}: {default_queue}")
        queue = default_queue
    base = queue_priority.get(queue or default_queue, 0)
    priority = base
    if prio_text:
        try:
            priority = int(prio_text)
        except ValueError:
            problems.append(f"priority {prio_text!r} is not a number: {base}")
    elif queue is not None:
        problems.append(f"no priority: {base}")
    since = _number(since_text)
    if since is None or not now - MAX_AGE_S <= since <= now + FUTURE_SLACK_S:
        if queue is not None:
            problems.append(f"place since {since_text!r} unusable: queued from now")
        since = now
    since = min(since, now)
    arrived = _number(arrived_text)
    if arrived is None or not now - MAX_AGE_S <= arrived <= now + FUTURE_SLACK_S:
        arrived = since
    arrived = min(arrived, since, now)
    try:
        attempt = max(1, int(attempt_text))
    except ValueError:
        problems.append(f"attempt {attempt_text!r} is not a number: 1")
        attempt = 1
    return Resume(call_id, queue, priority, since, arrived, attempt, tuple(problems))

"""The caller's pre-dial handler: what the Dial's ``B()`` option does on the caller's channel
before the agent's phone rings, so that it costs no FastAGI command of its own.

SOURCE apps/app_dial.c ``dial_exec_full`` (OPT_PREDIAL_CALLER; ``^`` stands for ``,``) and
apps/app_stack.c ``gosub_exec``; RECORDED on Asterisk 22.10.1 from an ``EXEC Dial`` over FastAGI
(tests/fixtures/asterisk-dev/q10_dial_predial_caller.txt.gz). The rendered ``[hotline-predial]``
has one extension per job:

- ``place``: ``MSet`` of the caller's place (``HOTLINE_QUEUE``, ``HOTLINE_PRIORITY``,
  ``HOTLINE_SINCE``), when the Dial follows the queue entry at once (an agent was free): the
  ``EXEC MSet`` round trip before the Dial is saved;
- ``record``: ``MixMonitor(<file>,<options>)``, the call's recording (its first Dial);
- ``place_record``: both (no ``-``: Asterisk drops it from extension names).

Every command before the Dial is time the caller waits for the ring; on a machine where the
daemon and Asterisk share a core, each also costs the daemon a context switch
(docs/offer-delivery.md). A value that cannot travel as a Gosub argument (``,``, ``^``,
parentheses, a quote, a backslash, ``|``; for the place also what MSet cannot carry) is not
put there: the caller falls back to the commands.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd.asterisk.agi.commands import mset_safe
from acd.settings import names

# Characters a Gosub argument inside Dial's B() cannot carry: app_dial turns ``^`` into ``,``,
# Gosub splits its arguments on ``,`` and the option parser pairs parentheses.
_NOT_IN_ARGS = frozenset(',^()"\\|')


@dataclass(frozen=True, slots=True)
class Place:
    """The caller's place in the queue, as the channel carries it for a resuming daemon and the
    fallback ``Queue()`` (``acd.daemon.call_flow.flow``)."""

    queue: str
    priority: int
    since: float

    def values(self) -> tuple[str, str, str]:
        return self.queue, str(self.priority), f"{self.since:.3f}"

    def pairs(self) -> tuple[tuple[str, str], ...]:
        """The channel variables, for ``AgiSession.set_variables``."""
        variables = (names.VAR_QUEUE, names.VAR_PRIORITY, names.VAR_SINCE)
        return tuple(zip(variables, self.values(), strict=True))

    def travels(self) -> bool:
        return all(mset_safe(v) and travels(v) for v in self.values())


@dataclass(frozen=True, slots=True)
class RecordingOrder:
    """A recording the next Dial starts: the file, and MixMonitor's options."""

    path: str
    options: str


def travels(value: str) -> bool:
    """Whether ``value`` can be a Gosub argument inside Dial's ``B()``."""
    return not _NOT_IN_ARGS.intersection(value)


def predial_option(place: Place | None, recording: RecordingOrder | None) -> str:
    """The Dial option for what the pre-dial handler does; "" when it has nothing to do."""
    args: list[str] = []
    jobs: list[str] = []
    if place is not None:
        args += place.values()
        jobs.append("place")
    if recording is not None:
        args += (recording.path, recording.options)
        jobs.append("record")
    if not jobs:
        return ""
    exten = "_".join(jobs)
    return f"B({names.CONTEXT_PREDIAL}^{exten}^1({'^'.join(args)}))"

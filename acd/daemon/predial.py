"""What the daemon's Dial does inside Asterisk without a FastAGI command of its own: the
caller's place before the ring (option ``B()``), the recording at the answer (option ``U()``).

``B()``, the caller's pre-dial handler: SOURCE apps/app_dial.c ``dial_exec_full``
(OPT_PREDIAL_CALLER; ``^`` stands for ``,``) and apps/app_stack.c ``gosub_exec``; RECORDED on
Asterisk 22.10.1 from an ``EXEC Dial`` over FastAGI
(tests/fixtures/asterisk-dev/q10_dial_predial_caller.txt.gz). The rendered ``[hotline-predial]``
``place`` extension runs ``MSet`` of the caller's place (``HOTLINE_QUEUE``,
``HOTLINE_PRIORITY``, ``HOTLINE_SINCE``) when the Dial follows the queue entry at once (an agent
was free): the ``EXEC MSet`` round trip before the Dial is saved.

``U()``, the agent's leg once it answers: SOURCE apps/app_dial.c ``dial_exec_full``
(OPT_CALLEE_GOSUB: ``U(<context>^<arg>...)`` is ``Gosub(<context>,s,1(<args>))`` on the answered
channel, the caller waiting in autoservice, before ``DialEnd`` and the bridge). The rendered
``[hotline-answer]`` runs ``MixMonitor(<file>,<options>)`` there, sets ``GOSUB_RESULT`` to a
word app_dial acts on as on no other (it bridges), and returns ``MIXMONITOR_FILENAME``, which
app_dial copies to the caller as ``GOSUB_RETVAL``: the Dial's result tells whether the recording
started. So the recording starts at the answer, never before the ring: MixMonitor's start
(its files, audiohook and thread: 0.4-0.5 ms of Asterisk on the caller's way to the ring when it
ran in ``B()``, docs/offer-delivery.md) is spent while the agent says hello.

Every command before the Dial is time the caller waits for the ring; on a machine where the
daemon and Asterisk share a core, each also costs the daemon a context switch
(docs/offer-delivery.md). A value that cannot travel as a Gosub argument (``,``, ``^``,
parentheses, a quote, a backslash, ``|``; for the place also what MSet cannot carry) is not
put there: the caller falls back to the commands (the place), or goes unrecorded (a file name).
"""

from __future__ import annotations

from dataclasses import dataclass

from acd.asterisk.agi.commands import mset_safe
from acd.settings import names

# Characters a Gosub argument inside Dial's B() or U() cannot carry: app_dial turns ``^`` into
# ``,``, Gosub splits its arguments on ``,`` and the option parser pairs parentheses.
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
    """The recording a Dial starts when its agent answers: the file, and MixMonitor's options."""

    path: str
    options: str


def travels(value: str) -> bool:
    """Whether ``value`` can be a Gosub argument inside a Dial option."""
    return not _NOT_IN_ARGS.intersection(value)


def predial_option(place: Place | None) -> str:
    """The Dial's ``B()`` option storing the caller's place; "" without one."""
    if place is None:
        return ""
    return f"B({names.CONTEXT_PREDIAL}^place^1({'^'.join(place.values())}))"


def answer_option(recording: RecordingOrder | None) -> str:
    """The Dial's ``U()`` option starting the recording on the answered leg; "" without one."""
    if recording is None:
        return ""
    return f"U({names.CONTEXT_ANSWER}^{recording.path}^{recording.options})"

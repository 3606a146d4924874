"""AMI PlayDTMF into a channel: what the running AGI command sees, and when.

SOURCE apps/app_senddtmf.c ``manager_play_dtmf``: with ``Receive: yes`` one DTMF END frame
(len = Duration) is queued on the channel as if the caller pressed the key; otherwise
``ast_senddigit_external`` plays it out towards the far end (at least 100 ms, the manager
thread waits meanwhile). SOURCE main/channel.c ``__ast_read``: a bare END read outside a digit
wait is turned into a BEGIN and an END emulated 100 ms later.

RECORDED q1_playdtmf.txt / q1_playdtmf_results.json (Asterisk 22.10.1): AMI shows only
``DTMFEnd`` (Direction Received, DurationMs = the Duration header, 0 without it) at once. A
digit wait running (WAIT FOR DIGIT, STREAM FILE with the digit among its escape digits, SAY
likewise, GET DATA) gets it within about a millisecond (median 0.7-0.9 ms). A digit played
while no AGI command waits reaches a wait that starts within the emulation's 100 ms, at the
end of them (WAIT FOR DIGIT 0/50/90 ms later: delivered at +100 ms; 150 ms or later: lost).
Without Receive the far end (a Local channel's other half) gets DTMFBegin/DTMFEnd with
DurationMs 100 and the running command is not interrupted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from acd.sim import events as ev
from acd.sim.channels import Channel

if TYPE_CHECKING:
    from acd.sim.world import World

#: RECORDED q1: AMI PlayDTMF -> AGI reply median 0.7-0.9 ms while a digit wait runs
RECEIVE_LATENCY = 0.001
#: SOURCE channel.c AST_DEFAULT_EMULATE_DTMF_DURATION (100 ms): the emulated END of a digit
#: read while no digit wait runs
EMULATED_END = 0.1
#: SOURCE channel.c ``ast_senddigit_external``: the shortest digit played out
MIN_PLAYED_MS = 100


def receive(world: World, now: float, ch: Channel, digit: str, duration_ms: int) -> None:
    """``Receive: yes``: the digit arrives on ``ch`` as if its caller pressed it."""
    world.emit(ev.dtmf(ch, digit, end=True, duration_ms=duration_ms))
    if ch.on_digit is not None:
        world.timers.at(now + RECEIVE_LATENCY, lambda t: _deliver(world, t, ch, digit))
    else:
        world.timers.at(now + EMULATED_END, lambda t: _deliver(world, t, ch, digit, last=True))


def _deliver(world: World, now: float, ch: Channel, digit: str, *, last: bool = False) -> None:
    if not ch.alive or ch.dead:
        return
    if ch.on_digit is not None:
        ch.on_digit(now, digit)
    elif not last:
        # the wait it was meant for ended meanwhile (e.g. on the digit before it: RECORDED
        # two digits back to back reach two WAIT FOR DIGIT in order): read outside a digit
        # wait, it becomes the emulated END a wait starting within 100 ms still gets
        world.timers.at(now + EMULATED_END, lambda t: _deliver(world, t, ch, digit, last=True))
    # else lost: the AGI loop read and dropped it (RECORDED: 150 ms or later)


def play(world: World, now: float, ch: Channel, digit: str, duration_ms: int) -> None:
    """Without Receive: played out to the far end; ``ch``'s own command is not interrupted."""
    far = ch.peer
    if far is None or not far.alive:
        return
    played = max(duration_ms, MIN_PLAYED_MS)
    world.emit(ev.dtmf(far, digit, end=False))
    world.emit(ev.dtmf(far, digit, end=True, duration_ms=played))

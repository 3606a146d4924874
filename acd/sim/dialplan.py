"""Where a channel entering the dialplan goes, the reference test contexts modelled in Python,
and AMI Redirect.

Contexts of the loaded extensions.conf (the rendered ``dialplan/extensions.conf``, or the
reference ``[hotline]``) run in the interpreter (acd/sim/dialplan_run.py). The reference-config
contexts that stand for phones and test fixtures are modelled here: ``[supervisor]`` ``spy``
(Answer, ChanSpy(${SPYTARGET},${SPYOPTS}), Hangup) and any other context as ``[parking-lot]``:
MusicOnHold(default,30) until hung up or redirected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from acd.sim import events as ev
from acd.sim.channels import Channel
from acd.sim.chanspy import run_chanspy

if TYPE_CHECKING:
    from acd.sim.world import World


def run_context(
    world: World, now: float, ch: Channel, context: str, exten: str, *, priority: int = 1
) -> None:
    """Start ``ch`` at context/exten/priority."""
    if world.runner.handles(context):
        world.runner.start(now, ch, context, exten, priority)
        return
    if (context, exten) == ("supervisor", "spy"):
        ch.context, ch.exten, ch.priority = context, exten, 3
        world.answer(ch)
        data = f"{ch.variables.get('SPYTARGET', '')},{ch.variables.get('SPYOPTS', '')}"
        ch.application, ch.app_data = "ChanSpy", data
        run_chanspy(world, now, ch, data, lambda t: finish(world, t, ch))
        return
    ch.context, ch.exten, ch.priority = context, exten, 2
    hold(world, now, ch)


def finish(world: World, now: float, ch: Channel) -> None:
    """A modelled application returned: follow a pending Redirect, else the channel hangs up."""
    if not ch.alive:
        return
    target = ch.redirect_to
    if target is not None:
        ch.redirect_to = None
        ch.dead = False  # the application unwound for the Redirect, not for a hang-up
        context, exten, priority = target
        run_context(world, now, ch, context, exten, priority=priority)
        return
    world.end_from_dialplan(now, ch)


def hold(world: World, now: float, ch: Channel) -> None:
    """MusicOnHold(default) until hung up or redirected (the reference ``[parking-lot]``)."""
    ch.application, ch.app_data = "MusicOnHold", "default,30"
    world.emit(ev.chan("MusicOnHoldStart", ev.CALL, ch, ("Class", "default")))

    def stop(t: float) -> None:
        world.emit(ev.chan("MusicOnHoldStop", ev.CALL, ch))
        finish(world, t, ch)

    ch.on_hangup = stop


def redirect(
    world: World, now: float, name: str, *, context: str, exten: str, priority: int
) -> bool:
    """AMI Redirect (main/manager.c action_redirect -> ast_async_goto): the running
    application unwinds, then the channel continues at the target.

    RECORDED q4_q5_q4.txt (q4d, a Dial bridge inside AGI) and q7_assumptions.txt (D, a caller
    bridged by Queue()): a channel redirected out of a bridge resumes one priority after the
    target (the after-bridge goto sets the target itself and the dialplan loop then adds one),
    so the target's first step is skipped.
    """
    ch = world.find(name)
    if ch is None:
        return False
    if ch.bridge_id:
        # the after-bridge goto moves the channel at once: a Newexten at the target with the
        # application still running (RECORDED q4d: "Newexten target 1 Dial ...")
        ch.context, ch.exten, ch.priority = context, exten, priority
        world.emit(ev.newexten(ch, ch.application, ch.app_data))
        priority += 1
    ch.redirect_to = (context, exten, priority)
    handler = ch.on_hangup
    if handler is None:
        finish(world, now, ch)
        return True
    ch.on_hangup = None
    ch.on_digit = None
    handler(now)
    return True

"""The dialplan the simulator runs: the ``[hotline]`` context, hold contexts and Redirect.

``[hotline]`` (reference-config/extensions.conf, priorities as recorded): Answer (2), AGI (4) to
the daemon, then -- unless AGISTATUS=HANGUP or the daemon set HOTLINE_HANDLED -- Set
MONITOR_FILENAME (7) and ``Queue(<queue>,t,,,<timeout>)`` (8), then Hangup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from acd.settings.names import VAR_QUEUE
from acd.sim import events as ev
from acd.sim.channels import Channel
from acd.sim.chanspy import run_chanspy

if TYPE_CHECKING:
    from acd.sim.world import World


def run_context(world: World, now: float, ch: Channel, context: str, exten: str) -> None:
    """Start ``ch`` at context/exten: the hotline context or a music-on-hold parking place."""
    if context == world.plan.dialplan.context:
        run_hotline(world, now, ch, exten)
        return
    scripts = dict(world.plan.dialplan.agi_contexts)
    if context in scripts:
        dp = world.plan.dialplan
        ch.context, ch.exten, ch.priority = context, exten, 1
        world.answer(ch)
        ch.priority = 2
        world.agi.start(
            now,
            ch,
            host=dp.agi_host,
            port=dp.agi_port,
            script=dp.agi_request(scripts[context]),
            args=(context, ch.cid_num),
            done=lambda t, status: _agi_then_hangup(world, t, ch, status),
        )
        return
    if context == "hotline-direct":
        # reference [hotline-direct] (load test, chanspy setup): Answer, Queue(${QUEUE_NAME},,,,
        # ${QTIMEOUT|30}), Hangup
        ch.context, ch.exten, ch.priority = context, exten, 1
        world.answer(ch)
        ch.priority = 2
        world.queues.run(
            now,
            ch,
            ch.variables.get("QUEUE_NAME", ""),
            options="",
            timeout=float(ch.variables.get("QTIMEOUT") or 30),
            done=lambda t: finish(world, t, ch),
        )
        return
    if (context, exten) == ("supervisor", "spy"):
        # reference [supervisor] spy: Answer, ChanSpy(${SPYTARGET},${SPYOPTS}), Hangup
        ch.context, ch.exten, ch.priority = context, exten, 3
        world.answer(ch)
        data = f"{ch.variables.get('SPYTARGET', '')},{ch.variables.get('SPYOPTS', '')}"
        ch.application, ch.app_data = "ChanSpy", data
        run_chanspy(world, now, ch, data, lambda t: finish(world, t, ch))
        return
    ch.context, ch.exten, ch.priority = context, exten, 2
    hold(world, now, ch)


def run_hotline(world: World, now: float, ch: Channel, exten: str = "s") -> None:
    dp = world.plan.dialplan
    ch.context, ch.exten, ch.priority = dp.context, exten, 2
    world.answer(ch)
    ch.priority = 4
    # AGI_SCRIPT lets a test pick another script, as the reference dialplan does.
    script = ch.variables.get("AGI_SCRIPT") or dp.agi_script
    args = (*dp.agi_args, ch.cid_num)
    world.agi.start(
        now,
        ch,
        host=dp.agi_host,
        port=dp.agi_port,
        script=dp.agi_request(script),
        args=args,
        done=lambda t, status: _after_agi(world, t, ch, status),
    )


def _agi_then_hangup(world: World, now: float, ch: Channel, status: str) -> None:
    if ch.alive:
        world.setvar(ch, "AGISTATUS", status)
        finish(world, now, ch)


def _after_agi(world: World, now: float, ch: Channel, status: str) -> None:
    dp = world.plan.dialplan
    if not ch.alive:
        return
    world.setvar(ch, "AGISTATUS", status)
    if status == "HANGUP":
        finish(world, now, ch)
        return
    if ch.variables.get(dp.handled_var) == "1":
        # The daemon took the call (and bridged it itself): nothing left for the dialplan. As in
        # the rendered dialplan (GotoIf $["${HOTLINE_HANDLED}"!="1"]), only "1" counts.
        finish(world, now, ch)
        return
    queue = ch.variables.get(VAR_QUEUE) or ch.variables.get(dp.queue_var) or dp.fallback_queue
    ch.priority = 7
    world.setvar(ch, "MONITOR_FILENAME", f"call-{ch.uniqueid}")
    ch.priority = 8
    world.queues.run(
        now,
        ch,
        queue,
        options=dp.queue_options,
        timeout=dp.queue_timeout,
        done=lambda t: finish(world, t, ch),
    )


def finish(world: World, now: float, ch: Channel) -> None:
    """An application returned: follow a pending Redirect, else the dialplan hangs up."""
    if not ch.alive:
        return
    target = ch.redirect_to
    if target is not None:
        ch.redirect_to = None
        ch.dead = False  # the application unwound for the Redirect, not for a hang-up
        run_context(world, now, ch, target[0], target[1])
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
    """AMI Redirect: interrupt the running application, then continue at the target."""
    ch = world.find(name)
    if ch is None:
        return False
    ch.redirect_to = (context, exten, priority)
    handler = ch.on_hangup
    if handler is None:
        finish(world, now, ch)
        return True
    ch.on_hangup = None
    ch.on_digit = None
    handler(now)
    return True

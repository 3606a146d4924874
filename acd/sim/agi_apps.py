"""Dialplan applications run through AGI ``EXEC <app> <data>``.

res_agi.c handle_exec replies ``200 result=<app return>``, ``-2`` when the application does not
exist (recorded: ``EXEC NoSuchApplication foo`` -> ``200 result=-2``). Blocking applications
(Dial, Wait, Playback, MusicOnHold, Queue) reply when they return.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from acd.sim import events as ev
from acd.sim.agi_media import block
from acd.sim.agi_session import Reply, Session
from acd.sim.app_dial import run_dial
from acd.sim.channels import Channel

if TYPE_CHECKING:
    from acd.sim.world import World

App = Callable[["World", float, Session, str, Reply], None]


def exec_app(world: World, now: float, sess: Session, reply: Reply, *, app: str, data: str) -> None:
    handler = APPS.get(app.lower())
    if handler is None:
        reply(now, "200 result=-2\n")
        return
    ch = sess.channel
    if ch.dead and app.lower() not in {"noop", "set", "mset", "verbose", "log", "userevent"}:
        reply(now, "200 result=-1\n")
        return
    # the CDR's lastapp follows an EXEC'd application (RECORDED q7_cdr_master_csv_sample.txt:
    # "Dial","PJSIP/1001,5" after EXEC Dial)
    world.cdr.app_started(now, ch, app, data)
    handler(world, now, sess, data, reply)


def _return(result: int) -> App:
    def app(world: World, now: float, sess: Session, data: str, reply: Reply) -> None:
        reply(now, f"200 result={result}\n")

    return app


def _set(world: World, now: float, sess: Session, data: str, reply: Reply) -> None:
    name, _, value = data.partition("=")
    if name and not name.upper().startswith("CDR("):
        world.setvar(sess.channel, name, value)
    reply(now, "200 result=0\n")


def _mset(world: World, now: float, sess: Session, data: str, reply: Reply) -> None:
    """main/pbx_variables.c ``pbx_builtin_setvar_multiple``: ``a=1,b=2``, split on ',' then on
    the first '='; a pair with no '=' is skipped (a warning). From the source, not captured; the
    live suite's resume scenario ran it on Asterisk 22.10.1 (docs/simulator.md). The daemon sends
    only values with neither (acd/asterisk/agi/commands.py ``set_variables``)."""
    set_multiple(world, sess.channel, data)
    reply(now, "200 result=0\n")


def set_multiple(world: World, ch: Channel, data: str) -> None:
    """``MSet``'s pairs (also the dialplan application, acd/sim/dialplan_apps.py)."""
    for pair in data.split(","):
        name, sep, value = pair.partition("=")
        if sep and name and not name.upper().startswith("CDR("):
            world.setvar(ch, name, value)


def _answer(world: World, now: float, sess: Session, data: str, reply: Reply) -> None:
    world.answer(sess.channel)
    reply(now, "200 result=0\n")


def _moh_start(world: World, now: float, sess: Session, data: str, reply: Reply) -> None:
    ch = sess.channel
    world.emit(ev.chan("MusicOnHoldStart", ev.CALL, ch, ("Class", data or "default")))
    ch.variables["__moh"] = "1"
    reply(now, "200 result=0\n")


def _moh_stop(world: World, now: float, sess: Session, data: str, reply: Reply) -> None:
    stop_moh(world, sess.channel)
    reply(now, "200 result=0\n")


def stop_moh(world: World, ch: Channel) -> None:
    if ch.variables.pop("__moh", None) is not None:
        world.emit(ev.chan("MusicOnHoldStop", ev.CALL, ch))


def _blocking(seconds_of: Callable[[World, str], float | None]) -> App:
    """Wait / Playback / MusicOnHold: block for a while, -1 if the caller hangs up."""

    def app(world: World, now: float, sess: Session, data: str, reply: Reply) -> None:
        seconds = seconds_of(world, data)
        block(
            world,
            now,
            sess,
            seconds,
            escape="",
            finish=lambda t, _d, _p: reply(t, "200 result=0\n"),
            abort=lambda t, _p: reply(t, "200 result=-1\n"),
            interruptible=False,  # an EXEC'd application runs to its end (pbx_exec)
        )

    return app


def _wait_seconds(world: World, data: str) -> float | None:
    try:
        return float(data.split(",", maxsplit=1)[0] or 0)
    except ValueError:
        return 0.0


def _playback_seconds(world: World, data: str) -> float | None:
    return sum(world.plan.sounds.get(f, 0.0) for f in data.split(",", maxsplit=1)[0].split("&"))


def _moh_seconds(world: World, data: str) -> float | None:
    parts = data.split(",")
    return float(parts[1]) if len(parts) > 1 and parts[1] else None


def _dial(world: World, now: float, sess: Session, data: str, reply: Reply) -> None:
    ch = sess.channel
    stop_moh(world, ch)
    agi_handler = ch.on_hangup

    def done(t: float, result: int) -> None:
        if ch.alive and not ch.dead:
            ch.on_hangup = agi_handler
        reply(t, f"200 result={result}\n")

    run_dial(world, now, ch, data, done)


def _queue(world: World, now: float, sess: Session, data: str, reply: Reply) -> None:
    ch = sess.channel
    parts = data.split(",")
    timeout = float(parts[4]) if len(parts) > 4 and parts[4] else None
    agi_handler = ch.on_hangup

    def done(t: float, result: int) -> None:
        if ch.alive and not ch.dead:
            ch.on_hangup = agi_handler
        reply(t, f"200 result={result}\n")

    world.queues.run(
        now, ch, parts[0], options=parts[1] if len(parts) > 1 else "", timeout=timeout, done=done
    )


def _mixmonitor(world: World, now: float, sess: Session, data: str, reply: Reply) -> None:
    parts = data.split(",")
    world.recorder.start(
        now, sess.channel.name, parts[0], parts[1] if len(parts) > 1 else "", via_app=True
    )
    reply(now, "200 result=0\n")


def _stop_mixmonitor(world: World, now: float, sess: Session, data: str, reply: Reply) -> None:
    world.recorder.stop(now, sess.channel.name, data)
    reply(now, "200 result=0\n")


def _hangup(world: World, now: float, sess: Session, data: str, reply: Reply) -> None:
    ch = sess.channel
    world.emit(ev.hangup_request(ch, 16, soft=True))
    ch.dead = True
    reply(now, "200 result=-1\n")


APPS: dict[str, App] = {
    "noop": _return(0),
    "verbose": _return(0),
    "log": _return(0),
    "userevent": _return(0),
    "ringing": _return(0),
    "progress": _return(0),
    "set": _set,
    "mset": _mset,
    "answer": _answer,
    "startmusiconhold": _moh_start,
    "stopmusiconhold": _moh_stop,
    "wait": _blocking(_wait_seconds),
    "playback": _blocking(_playback_seconds),
    "musiconhold": _blocking(_moh_seconds),
    "dial": _dial,
    "queue": _queue,
    "mixmonitor": _mixmonitor,
    "stopmixmonitor": _stop_mixmonitor,
    "hangup": _hangup,
}

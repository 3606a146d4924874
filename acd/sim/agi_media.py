"""Blocking AGI media commands: playback, digit collection, SAY, RECORD FILE.

Durations come from the plan's sound lengths (8 kHz: ``endpos`` = seconds x 8000, e.g. beep
0.4255 s -> endpos=3404 as recorded). Reply forms per fastagi_session.txt scenarios A, D, E, F;
GET DATA's timeout counts after the prompt and between digits (res_agi.c handle_getdata ->
ast_app_getdata_terminator), 5000 ms when not given (the pbx's dtimeoutms default).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from acd.sim.agi_session import Reply, Session
from acd.sim.originate import prompt_started
from acd.sim.outputs import WavFile
from acd.sim.timers import Timer

if TYPE_CHECKING:
    from acd.sim.world import World

RATE = 8000
SAY_SECONDS_PER_DIGIT = 0.83  # recorded: SAY DIGITS 123 took 2.49 s, SAY NUMBER 42 1.69 s
DEFAULT_DIGIT_TIMEOUT = 5.0

Finish = Callable[[float, str | None, float], None]


def block(
    world: World,
    now: float,
    sess: Session,
    seconds: float | None,
    *,
    escape: str,
    finish: Finish,
    abort: Callable[[float, float], None],
    interruptible: bool = True,
) -> None:
    """Block until ``seconds`` pass (None = forever) or an escape digit arrives.

    ``interruptible``: the command watches the FastAGI socket too (res_agi.c passes
    ``agi->ctrl``), so the server going away ends it at once as if the time was up."""
    ch = sess.channel
    start = now
    timer: Timer | None = None

    def end(t: float, digit: str | None) -> None:
        if timer is not None:
            timer.cancel()
        ch.on_digit = None
        sess.abort = sess.interrupt = None
        finish(t, digit, t - start)

    def on_digit(t: float, digit: str) -> None:
        if digit in escape:
            end(t, digit)

    def on_abort(t: float) -> None:
        if timer is not None:
            timer.cancel()
        ch.on_digit = None
        abort(t, t - start)

    if seconds is not None:
        timer = world.timers.at(now + max(seconds, 0.0), lambda t: end(t, None))
    ch.on_digit = on_digit if escape else None
    sess.abort = on_abort
    if interruptible:
        sess.interrupt = lambda t: end(t, None)


def _code(digit: str | None) -> int:
    return ord(digit) if digit else 0


def stream_file(world: World, now: float, sess: Session, args: list[str], reply: Reply) -> None:
    name, escape = args[0], args[1]
    offset = int(args[2]) / RATE if len(args) > 2 and args[2].isdigit() else 0.0
    length = world.plan.sounds.get(name)
    if length is None:
        world.setvar(sess.channel, "PLAYBACKSTATUS", "FAILED")
        reply(now, "200 result=-1 endpos=0\n", failure=True)
        return

    def done(t: float, digit: str | None, played: float) -> None:
        world.setvar(sess.channel, "PLAYBACKSTATUS", "SUCCESS")
        reply(t, f"200 result={_code(digit)} endpos={round((offset + played) * RATE)}\n")

    def aborted(t: float, played: float) -> None:
        world.setvar(sess.channel, "PLAYBACKSTATUS", "FAILED")
        reply(t, f"200 result=-1 endpos={round((offset + played) * RATE)}\n", failure=True)

    block(world, now, sess, max(length - offset, 0.0), escape=escape, finish=done, abort=aborted)


def get_option(world: World, now: float, sess: Session, args: list[str], reply: Reply) -> None:
    name, escape = args[0], args[1]
    timeout = int(args[2]) / 1000 if len(args) > 2 else DEFAULT_DIGIT_TIMEOUT
    length = world.plan.sounds.get(name)
    if length is None:
        reply(now, "200 result=-1 endpos=0\n", failure=True)
        return
    endpos = round(length * RATE)

    def after_prompt(t: float, digit: str | None, played: float) -> None:
        if digit is not None:
            reply(t, f"200 result={_code(digit)} endpos={round(played * RATE)}\n")
            return
        block(
            world,
            t,
            sess,
            timeout,
            escape=escape,
            finish=lambda t2, d, _p: reply(t2, f"200 result={_code(d)} endpos={endpos}\n"),
            abort=lambda t2, _p: reply(t2, f"200 result=-1 endpos={endpos}\n", failure=True),
        )

    block(
        world,
        now,
        sess,
        length,
        escape=escape,
        finish=after_prompt,
        abort=lambda t, p: reply(t, f"200 result=-1 endpos={round(p * RATE)}\n", failure=True),
    )


def get_data(world: World, now: float, sess: Session, args: list[str], reply: Reply) -> None:
    ch = sess.channel
    timeout = int(args[1]) / 1000 if len(args) > 1 and int(args[1]) > 0 else DEFAULT_DIGIT_TIMEOUT
    maxdigits = int(args[2]) if len(args) > 2 else 1024
    prompt = world.plan.sounds.get(args[0], 0.0)
    digits: list[str] = []
    timer: list[Timer] = []

    def finish(t: float, timed_out: bool) -> None:
        for tm in timer:
            tm.cancel()
        ch.on_digit = None
        sess.abort = sess.interrupt = None
        text = "".join(digits)
        reply(t, f"200 result={text} (timeout)\n" if timed_out else f"200 result={text}\n")

    def arm(t: float) -> None:
        for tm in timer:
            tm.cancel()
        timer[:] = [world.timers.at(t + timeout, lambda t2: finish(t2, True))]

    def on_digit(t: float, digit: str) -> None:
        if digit == "#":
            finish(t, False)
            return
        digits.append(digit)
        if len(digits) >= maxdigits:
            finish(t, False)
        else:
            arm(t)

    def on_abort(t: float) -> None:
        for tm in timer:
            tm.cancel()
        ch.on_digit = None
        reply(t, "200 result=-1\n")

    timer.append(world.timers.at(now + prompt, arm))
    ch.on_digit = on_digit
    sess.abort = on_abort
    sess.interrupt = lambda t: finish(t, False)
    prompt_started(world, now, ch)


def wait_for_digit(world: World, now: float, sess: Session, args: list[str], reply: Reply) -> None:
    ms = int(args[0])
    block(
        world,
        now,
        sess,
        None if ms < 0 else ms / 1000,
        escape="0123456789*#ABCD",
        finish=lambda t, d, _p: reply(t, f"200 result={_code(d)}\n"),
        abort=lambda t, _p: reply(t, "200 result=-1\n", failure=True),
    )


def say(world: World, now: float, sess: Session, args: list[str], reply: Reply) -> None:
    seconds = SAY_SECONDS_PER_DIGIT * max(len(args[0].lstrip("-")), 1)
    block(
        world,
        now,
        sess,
        seconds,
        escape=args[1],
        finish=lambda t, d, _p: reply(t, f"200 result={_code(d)}\n"),
        abort=lambda t, _p: reply(t, "200 result=-1\n", failure=True),
    )


def record_file(world: World, now: float, sess: Session, args: list[str], reply: Reply) -> None:
    path, fmt, escape, ms = args[0], args[1], args[2], int(args[3])

    def done(t: float, digit: str | None, took: float) -> None:
        world.output(WavFile(f"{path}.{fmt}", took, 1))
        how = "(dtmf)" if digit else "(timeout)"
        reply(t, f"200 result={_code(digit)} {how} endpos={round(took * RATE)}\n")

    def aborted(t: float, took: float) -> None:
        world.output(WavFile(f"{path}.{fmt}", took, 1))
        reply(t, f"200 result=-1 (hangup) endpos={round(took * RATE)}\n", failure=True)

    block(
        world,
        now,
        sess,
        None if ms < 0 else ms / 1000,
        escape=escape,
        finish=done,
        abort=aborted,
        interruptible=False,  # res_agi.c handle_recordfile waits on the channel only
    )


MEDIA = {
    "STREAM FILE": stream_file,
    "CONTROL STREAM FILE": stream_file,
    "GET OPTION": get_option,
    "GET DATA": get_data,
    "WAIT FOR DIGIT": wait_for_digit,
    "SAY DIGITS": say,
    "SAY NUMBER": say,
    "SAY ALPHA": say,
    "RECORD FILE": record_file,
}

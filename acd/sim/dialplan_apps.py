"""The applications the dialplan interpreter runs (acd/sim/dialplan_run.py).

Each one ends by calling ``call.resume(now, result)``: 0 = next priority, -1 = the channel
hangs up. Blocking ones register ``ch.on_hangup`` so a hang-up or an AMI Redirect ends them
(SOURCE: they return -1 when ``ast_check_hangup`` / ``ast_waitfor`` says so). Sources per
application are named next to each; app_queue and app_dial live in queue_app.py / dial_app.py.
"""

from __future__ import annotations

from collections.abc import Callable

from acd.sim import events as ev
from acd.sim.agi_apps import set_multiple
from acd.sim.app_dial import run_dial
from acd.sim.channels import STATE_RING, STATE_RINGING
from acd.sim.dialplan_expr import split_args
from acd.sim.dialplan_funcs import check_condition, split_condition
from acd.sim.dialplan_run import App, AppCall
from acd.sim.timers import Timer

#: main/channel.c ``__ast_answer``: a channel answered from Ring/Ringing waits up to 500 ms for
#: a first media frame; RECORDED smoke_hotline_no_daemon.txt (Answer -> next step 0.505 s on a
#: Local channel, which sends no media). A channel already Up returns at once (scenario A).
ANSWER_MEDIA_WAIT = 0.5


def _no_op(now: float, call: AppCall) -> None:
    call.resume(now, 0)


def _block(
    now: float,
    call: AppCall,
    seconds: float | None,
    *,
    on_end: Callable[[float], None] | None = None,
) -> None:
    """Wait ``seconds`` (None = until hung up): 0 when the time is up, -1 on a hang-up."""
    ch, world = call.ch, call.world
    if ch.dead:
        call.resume(now, -1)
        return
    timer: list[Timer] = []

    def done(t: float, result: int) -> None:
        for tm in timer:
            tm.cancel()
        if ch.on_hangup is hung_up:
            ch.on_hangup = None
        if on_end is not None:
            on_end(t)
        call.resume(t, result)

    def hung_up(t: float) -> None:
        done(t, -1)

    ch.on_hangup = hung_up
    if seconds is not None:
        timer.append(world.timers.at(now + max(seconds, 0.0), lambda t: done(t, 0)))


def _answer(now: float, call: AppCall) -> None:
    ch = call.ch
    if ch.dead:
        call.resume(now, -1)
        return
    if ch.state not in (STATE_RING, STATE_RINGING):
        call.world.answer(ch)
        call.resume(now, 0)
        return
    call.world.answer(ch)
    _block(now, call, ANSWER_MEDIA_WAIT)


def _seconds(call: AppCall, text: str) -> float:
    try:
        return float(text) if text.strip() else 0.0
    except ValueError:
        raise call.error(f"not a number of seconds: {text!r}") from None


def _wait(now: float, call: AppCall) -> None:
    """app Wait (main/pbx_builtins.c ``pbx_builtin_wait``)."""
    _block(now, call, _seconds(call, split_args(call.data)[0]))


def _music_on_hold(now: float, call: AppCall) -> None:
    """res/res_musiconhold.c ``play_moh_exec``: MusicOnHold(class[,duration])."""
    args = split_args(call.data)
    klass = args[0] or "default"
    duration = _seconds(call, args[1]) if len(args) > 1 and args[1] else None
    ch, world = call.ch, call.world
    world.emit(ev.chan("MusicOnHoldStart", ev.CALL, ch, ("Class", klass)))
    _block(
        now,
        call,
        duration,
        on_end=lambda _t: world.emit(ev.chan("MusicOnHoldStop", ev.CALL, ch)),
    )


def _set(now: float, call: AppCall) -> None:
    """main/pbx_variables.c ``pbx_builtin_setvar``: ``name=value``; a function name writes it."""
    name, sep, value = call.data.partition("=")
    if not sep or not name:
        raise call.error("Set needs name=value")
    ch, world = call.ch, call.world
    upper = name.upper()
    if upper == "CHANNEL(LANGUAGE)":
        ch.language = value  # func_channel.c: a write, no VarSet
    elif upper == "CDR(USERFIELD)":
        world.cdr.set_userfield(ch, value)
    elif "(" in name:
        raise call.error(f"writing {name} is not supported by the simulator")
    else:
        world.setvar(ch, name, value)
    call.resume(now, 0)


def _goto(now: float, call: AppCall) -> None:
    call.runner.goto(call.ch, call.step, call.data)
    call.resume(now, 0)


def _goto_if(now: float, call: AppCall) -> None:
    """pbx_builtins.c ``pbx_builtin_gotoif``: ``cond?dest[:dest]``, an empty dest goes on."""
    cond, yes, no = split_condition(call.data)
    dest = yes if check_condition(cond) else no
    if dest:
        call.runner.goto(call.ch, call.step, dest)
    call.resume(now, 0)


def _hangup(now: float, call: AppCall) -> None:
    """pbx_builtins.c ``pbx_builtin_hangup``: soft hang-up (RECORDED: SoftHangupRequest, Cause
    16) and -1; the loop then runs ``h`` if the context has one."""
    ch = call.ch
    cause = int(call.data) if call.data.strip().isdigit() else 16
    if ch.hangup_cause is None:
        ch.hangup_cause = cause
    if not ch.soft_hangup_sent:
        ch.soft_hangup_sent = True
        call.world.emit(ev.hangup_request(ch, cause, soft=True))
    ch.dead = True
    call.resume(now, -1)


def _exec_if(now: float, call: AppCall) -> None:
    """apps/app_exec.c ``execif_exec``: ``cond?App(args)[:App(args)]``, no Newexten of its own."""
    cond, yes, no = split_condition(call.data)
    chosen = yes if check_condition(cond) else no
    if not chosen:
        call.resume(now, 0)
        return
    name, _, rest = chosen.partition("(")
    app = APPS.get(next((k for k in APPS if k.lower() == name.strip().lower()), ""))
    if app is None or not rest.endswith(")"):
        raise call.error(f"ExecIf cannot run {chosen!r} in the simulator")
    app(now, AppCall(call.world, call.runner, call.ch, call.step, rest[:-1], call.resume))


def _user_event(now: float, call: AppCall) -> None:
    """apps/app_userevent.c: ``UserEvent(name[,Header: value...])`` on AMI with the channel
    snapshot (RECORDED q2_agi_dies_ami.txt: snapshot, ``UserEvent``, then the headers)."""
    name, *rest = split_args(call.data)
    headers = [("UserEvent", name)]
    for item in rest:
        key, _, value = item.partition(":")
        headers.append((key.strip(), value.strip()))
    call.world.emit(ev.chan("UserEvent", "user,all", call.ch, *headers))
    call.resume(now, 0)


def _agi(now: float, call: AppCall) -> None:
    """res/res_agi.c ``agi_exec_full``: AGISTATUS set when the session ends; HANGUP gives -1."""
    args = split_args(call.data)
    url = args[0]
    if not url.startswith("agi://"):
        raise call.error("only agi:// (FastAGI) URLs are simulated")
    where, _, script = url[len("agi://") :].partition("/")
    host, _, port = where.partition(":")
    ch, world = call.ch, call.world

    def done(t: float, status: str) -> None:
        if ch.alive:
            world.setvar(ch, "AGISTATUS", status)
        call.resume(t, -1 if status == "HANGUP" else 0)

    world.agi.start(
        now,
        ch,
        host=host,
        port=int(port or 4573),
        script=script,
        args=tuple(args[1:]),
        done=done,
        dead=ch.dead,
    )


def _queue(now: float, call: AppCall) -> None:
    """apps/app_queue.c ``queue_exec``: Queue(name[,options[,URL[,announce[,timeout]]]])."""
    args = split_args(call.data)
    timeout = _seconds(call, args[4]) if len(args) > 4 and args[4] else None
    options = args[1] if len(args) > 1 else ""
    if call.ch.dead:
        call.resume(now, -1)
        return
    call.world.queues.run(now, call.ch, args[0], options=options, timeout=timeout, done=call.resume)


def _mset(now: float, call: AppCall) -> None:
    """main/pbx_variables.c ``pbx_builtin_setvar_multiple`` (the daemon's ``[hotline-predial]``
    stores the caller's place with it); as over FastAGI (acd/sim/agi_apps.py)."""
    set_multiple(call.world, call.ch, call.data)
    call.resume(now, 0)


def _mixmonitor(now: float, call: AppCall) -> None:
    """apps/app_mixmonitor.c ``mixmonitor_exec``: MixMonitor(file[,options]) starts the
    recording and returns at once (acd/sim/mixmonitor.py)."""
    args = split_args(call.data)
    options = args[1] if len(args) > 1 else ""
    call.world.recorder.start(now, call.ch.name, args[0], options, via_app=True)
    call.resume(now, 0)


def _return(now: float, call: AppCall) -> None:
    """``Return()`` outside a subroutine: app_stack.c ``return_exec`` warns "Return without
    Gosub: stack is empty" and returns -1 (the channel hangs up)."""
    call.resume(now, -1)


def _dial(now: float, call: AppCall) -> None:
    if call.ch.dead:
        call.resume(now, -1)
        return
    run_dial(call.world, now, call.ch, call.data, call.resume)


APPS: dict[str, App] = {
    "AGI": _agi,
    "Answer": _answer,
    "Dial": _dial,
    "ExecIf": _exec_if,
    "Goto": _goto,
    "GotoIf": _goto_if,
    "Hangup": _hangup,
    "MixMonitor": _mixmonitor,
    "MSet": _mset,
    "MusicOnHold": _music_on_hold,
    "NoOp": _no_op,
    "Queue": _queue,
    "Return": _return,
    "Set": _set,
    "UserEvent": _user_event,
    "Wait": _wait,
}

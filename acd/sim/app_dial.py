"""app_dial's ``Dial()``: ring the endpoints, bridge the first to answer, set the DIAL variables.

The legs themselves (ringing, answering, bridging, teardown) are ``acd.sim.dial_app.Leg``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from acd.sim import events as ev
from acd.sim.channels import Channel
from acd.sim.dial_app import Leg
from acd.sim.dialplan_expr import split_args
from acd.sim.timers import Timer

if TYPE_CHECKING:
    from acd.sim.world import World

#: app_dial.c dial_exec_full blanks these on the caller before dialling (RECORDED
#: q2_agi_dies_ami_d_dial_bridged.txt: one VarSet each, in this order)
DIAL_VARIABLES = (
    "DIALSTATUS",
    "DIALEDPEERNUMBER",
    "DIALEDPEERNAME",
    "ANSWEREDTIME",
    "ANSWEREDTIME_MS",
    "DIALEDTIME",
    "DIALEDTIME_MS",
    "RINGTIME",
    "RINGTIME_MS",
    "PROGRESSTIME",
    "PROGRESSTIME_MS",
)


def dial_options(text: str) -> dict[str, str | None]:
    """Dial's option letters and their arguments: main/app.c ``parse_options``: a letter, and
    when ``(`` follows, everything up to the matching ``)`` (parentheses nest)."""
    found: dict[str, str | None] = {}
    i = 0
    while i < len(text):
        letter = text[i]
        i += 1
        if i < len(text) and text[i] == "(":
            depth, start = 1, i + 1
            i = start
            while i < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[i], 0)
                i += 1
            found[letter] = text[start : i - 1 if depth == 0 else i]
        else:
            found[letter] = None
    return found


def _duration(world: World, caller: Channel, name: str, ms: float) -> None:
    """app_dial.c ``set_duration_var``: whole seconds, then the _MS variable."""
    world.setvar(caller, name, str(int(ms // 1000)))
    world.setvar(caller, f"{name}_MS", str(int(ms)))


def run_dial(
    world: World, now: float, caller: Channel, data: str, done: Callable[[float, int], None]
) -> None:
    """app_dial ``Dial(<ep>[&<ep>...],<timeout s>,<options>)`` (the daemon's EXEC Dial, and
    ``Dial()`` in the dialplan). Options modelled: ``g`` (go on after the agent hangs up),
    ``B(<gosub>)``, the caller's pre-dial handler (the daemon's place), and ``U(<context>^<args>)``,
    the Gosub on the answered channel (the daemon's recording).

    SOURCE apps/app_dial.c ``dial_exec_full`` / ``end_bridge_callback``, RECORDED
    q2_agi_dies_ami_d_dial_bridged.txt: the DIAL variables are blanked first; when a bridged
    call ends ANSWEREDTIME is the *caller channel's* up time (since it was answered - for a
    hotline caller, since the IVR answered) and DIALEDTIME its age, both with _MS twins; a call
    that was not answered leaves them empty. DIALSTATUS is ANSWER/NOANSWER/CANCEL/CHANUNAVAIL.
    ``done`` gets -1 when the caller hung up or a bridged call ended (no ``g`` option: the
    caller's dialplan would hang up; RECORDED "Unknown Result" AGIExecEnd after the agent hung
    up), 0 when nobody answered, or when a Redirect took the caller out of the bridge (q4d).
    """
    _Dial(world, now, caller, data, done).start()


class _Dial:
    def __init__(
        self,
        world: World,
        now: float,
        caller: Channel,
        data: str,
        done: Callable[[float, int], None],
    ) -> None:
        self.world, self.started, self.caller, self.data, self.done = world, now, caller, data, done
        args = split_args(data)
        self.endpoints = [e for e in args[0].split("&") if e]
        self.timeout = float(args[1]) if len(args) > 1 and args[1].strip() else None
        self.options = dial_options(args[2]) if len(args) > 2 else {}
        self.go_on = "g" in self.options
        self.legs: list[Leg] = []
        self.answered = False
        self.outcome = 0
        self.timer: Timer | None = None
        self.finished = False
        self.previous_app = (caller.application, caller.app_data)

    def start(self) -> None:
        world, caller, now = self.world, self.caller, self.started
        caller.application, caller.app_data = "Dial", self.data
        for name in DIAL_VARIABLES:
            world.setvar(caller, name, "")
        predial = self.options.get("B")
        back: Callable[[], None] | None = None
        if predial:
            # SOURCE app_dial.c dial_exec_full (OPT_PREDIAL_CALLER): ``^`` stands for ``,``; a
            # missing place only costs the Gosub (its result is not looked at). RECORDED (the
            # live rig, Asterisk 22.10.1): it runs on the caller before the callee's
            # Newchannel, and the caller is back at the Dial's place only after DialBegin.
            back = world.runner.run_sub(now, caller, predial.replace("^", ","))
        for endpoint in self.endpoints:
            # an unregistered (UNAVAILABLE) or INVALID endpoint is not rung: no DialBegin, and
            # with nothing else to ring Dial ends CHANUNAVAIL at once, returning 0 (RECORDED
            # q7_assumptions.txt A: EXEC Dial PJSIP/1001,5 with 1001 not registered)
            if world.device_state(endpoint) not in ("UNAVAILABLE", "INVALID"):
                self.legs.append(Leg(world, now, caller, endpoint, caller.linkedid))
        if not self.legs:
            if back is not None:
                back()
            self.finish(now, "CHANUNAVAIL")
            return
        caller.on_hangup = self.caller_gone
        if self.timeout is not None:
            self.timer = world.timers.at(now + self.timeout, self.ring_timeout)
        at_answer = self.answer_gosub if self.options.get("U") else None
        for leg in self.legs:
            leg.begin(now, self.on_answer, after_dial_begin=back, before_dial_end=at_answer)
            back = None
        # RINGTIME: from the callee channel's creation to its ringing (here the same instant)
        world.setvar(caller, "RINGTIME", "0")
        world.setvar(caller, "RINGTIME_MS", "0")

    def finish(self, t: float, status: str) -> None:
        if self.finished:
            return
        self.finished = True
        world, caller = self.world, self.caller
        if self.timer is not None:
            self.timer.cancel()
        caller.on_hangup = None
        caller.application, caller.app_data = self.previous_app
        if self.answered and caller.alive and caller.redirect_to is None:
            # (a Redirect out of the bridge sets none: RECORDED q4_q5_q4.txt q4d)
            up_since = caller.answered_at if caller.answered_at is not None else t
            _duration(world, caller, "ANSWEREDTIME", (t - up_since) * 1000)
            _duration(world, caller, "DIALEDTIME", (t - caller.created_at) * 1000)
        if caller.alive:
            world.setvar(caller, "DIALSTATUS", status)
        self.done(t, self.outcome)

    def caller_left(self, _t: float) -> None:
        self.outcome = 0 if self.caller.redirect_to is not None else -1

    def bridge_over(self, t: float) -> None:
        caller = self.caller
        if caller.redirect_to is None and not (self.go_on and not caller.dead):
            self.outcome = -1
        self.finish(t, "ANSWER")

    def on_answer(self, t: float, leg: Leg) -> None:
        caller = self.caller
        self.answered = True
        if self.timer is not None:
            self.timer.cancel()
        for other in self.legs:
            if other is not leg:
                other.cancel(t)
        if not self.options.get("U"):  # (with U() they came before its Gosub)
            self.answered_variables(leg)
        leg.bridge(t, caller, lambda _t: None, self.caller_left, self.bridge_over)

    def answered_variables(self, leg: Leg) -> None:
        world, caller = self.world, self.caller
        world.setvar(caller, "DIALSTATUS", "ANSWER")
        world.setvar(caller, "DIALEDPEERNAME", leg.one.name)
        world.setvar(caller, "DIALEDPEERNUMBER", leg.endpoint.split("/", 1)[-1])

    def answer_gosub(self, t: float, leg: Leg) -> Callable[[], None]:
        """Dial's ``U(<context>^<args>)``: ``Gosub(<context>,s,1(<args>))`` on the answered
        channel before DialEnd ANSWER and the bridge; a GOSUB_RESULT app_dial does not act on
        bridges the call as usual, and the Gosub's GOSUB_RETVAL is copied to the caller, just
        before DialEnd; the caller's DIALSTATUS, DIALEDPEERNAME and DIALEDPEERNUMBER come
        before the Gosub. Returns what follows the DialEnd: a Newexten of the answered channel at
        its own place again (also when the context is missing, which only costs the Gosub).

        RECORDED q11_dial_answer_gosub.txt (Asterisk 22.10.1, tests/sim/test_capture_answer_
        gosub.py) and SOURCE apps/app_dial.c ``dial_exec_full`` (OPT_CALLEE_GOSUB: ``^`` stands
        for ``,``, the context is all before the first ``,``, the extension always ``s``). The
        GOSUB_RESULT words ABORT, BUSY, CONGESTION, CHANUNAVAIL, CONTINUE and GOTO: are not
        modelled: the daemon's ``[hotline-answer]`` uses none."""
        self.answered_variables(leg)  # RECORDED: on the caller before the Gosub starts
        world, callee = self.world, leg.one
        # what app_dial gives each channel it dials (dial_exec_full: ast_channel_appl_set
        # "AppDial", data "(Outgoing Line)"), where the channel is again after the Gosub
        callee.application, callee.app_data = "AppDial", "(Outgoing Line)"
        place = (callee.application, callee.app_data)
        text = (self.options.get("U") or "").replace("^", ",")
        context, comma, args = text.partition(",")
        location = f"{context},s,1({args})" if comma else f"{context},s,1"
        back = world.runner.run_sub(t, callee, location)
        retval = callee.variables.get("GOSUB_RETVAL")
        if back is not None and callee.variables.get("GOSUB_RESULT") and retval is not None:
            world.setvar(self.caller, "GOSUB_RETVAL", retval)  # (app_dial copies only a value)
        if back is not None:
            return back
        return lambda: world.emit(ev.newexten(callee, *place))

    def caller_gone(self, t: float) -> None:
        self.outcome = 0 if self.caller.redirect_to is not None else -1
        for leg in self.legs:
            leg.cancel(t)
        self.finish(t, "CANCEL")

    def ring_timeout(self, t: float) -> None:
        for leg in self.legs:
            leg.cancel(t, ("NOANSWER",))
        self.finish(t, "NOANSWER")

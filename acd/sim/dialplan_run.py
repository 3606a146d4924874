"""The dialplan interpreter: runs channels through a parsed extensions.conf, step by step.

SOURCE main/pbx.c ``__ast_pbx_run``: each priority publishes ``Newexten`` (snapshot at that
priority, ``Extension``, ``Application`` and the substituted ``AppData``) and runs its
application; 0 goes on at the next priority, non-zero or a hung-up channel leaves the loop. A
``Goto`` sets the priority one below its target and the loop adds one. When the loop ends the
``h`` extension of the current context runs if there is one (``ast_pbx_h_exten_run``), then
the channel hangs up; its ``Hangup`` event carries the priority the loop stopped at (RECORDED
q2_agi_dies_ami.txt: ``h`` priority 5 after 4 steps). An AMI Redirect (async goto) wins over
the hang-up: the channel continues at the target, ``h`` does not run (RECORDED q4_q5_q4.txt).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from acd.sim import events as ev
from acd.sim.channels import Channel
from acd.sim.dialplan_conf import Dialplan, DialplanError, Step
from acd.sim.dialplan_expr import ExprError, split_args, substitute
from acd.sim.dialplan_funcs import ChannelResolver

if TYPE_CHECKING:
    from acd.sim.world import World

#: what an application hands back: 0 = next priority, -1 = the channel is hanging up
Resume = Callable[[float, int], None]


@dataclass(eq=False)
class Frame:
    """One run of a channel through the dialplan; a new run (Redirect) makes old resumes stale."""

    in_h: bool = False
    #: set by an application that needs the loop to start over at a new place (Goto)
    jumped: bool = False
    pending: list[tuple[float, int]] = field(default_factory=list)


@dataclass(eq=False)
class AppCall:
    """Everything one application run needs."""

    world: World
    runner: DialplanRunner
    ch: Channel
    step: Step
    data: str
    resume: Resume

    def error(self, message: str) -> DialplanError:
        return self.runner.error(self.step, message)


App = Callable[[float, AppCall], None]


class DialplanRunner:
    def __init__(self, world: World, plan: Dialplan, apps: dict[str, App]) -> None:
        self.world = world
        self.plan = plan
        self._apps = apps

    def handles(self, context: str) -> bool:
        return context in self.plan.contexts

    def error(self, step: Step, message: str) -> DialplanError:
        return DialplanError(
            f"{step.app}({step.data}): {message}", source=self.plan.source, line=step.line
        )

    def resolver(self, ch: Channel) -> ChannelResolver:
        world = self.world
        return ChannelResolver(
            ch, self.plan, world.globals, lambda: world.naming.wall(world.timers.now)
        )

    def expand(self, step: Step, ch: Channel, text: str) -> str:
        try:
            return substitute(text, self.resolver(ch))
        except ExprError as exc:
            raise self.error(step, str(exc)) from None

    # -- entering and leaving ---------------------------------------------------------------
    def start(self, now: float, ch: Channel, context: str, exten: str, priority: int = 1) -> None:
        """The channel starts (or, after a Redirect, continues) at context/exten/priority."""
        ch.context, ch.exten, ch.priority = context, exten, priority
        frame = Frame()
        ch.frame = frame
        self._execute(now, ch, frame)

    def goto(self, ch: Channel, step: Step, target: str) -> None:
        """``[[context,]exten,]priority`` (a label or a number); pbx.c ``ast_parseable_goto``."""
        parts = [p.strip() for p in target.split(",")]
        if len(parts) > 3 or not parts[-1]:
            raise self.error(step, f"cannot go to {target!r}")
        context = parts[0] if len(parts) == 3 else ch.context
        exten = parts[-2] if len(parts) >= 2 else ch.exten
        label = parts[-1]
        if label.isdigit():
            priority = int(label)
        else:
            found = self.plan.priority_of(context, exten, label)
            if found is None:
                raise self.error(step, f"no priority labelled {label!r} in {context},{exten}")
            priority = found
        ch.context, ch.exten, ch.priority = context, exten, priority - 1

    # -- a subroutine run by an application (Dial's pre-dial handler) ------------------------
    def run_sub(self, now: float, ch: Channel, location: str) -> Callable[[], None] | None:
        """Run ``context,exten,priority[(arg1,...)]`` on ``ch`` until its ``Return()``, at once;
        None when there is no such place (the caller's application goes on without it), else
        what puts the channel back where it was, for the caller to run when Asterisk does.

        RECORDED (Asterisk 22.10.1, Dial's B() from an ``EXEC Dial`` over FastAGI, the live
        rig's capture of 2026-12-05, tests/sim/test_pbx_dial.py) and SOURCE apps/app_stack.c
        ``gosub_exec`` / ``gosub_run``: a VarSet ``LOCAL(ARG1)``.. ``LOCAL(ARGC)`` each, still
        at the caller's own place; a Newexten per priority of the subroutine; at ``Return()``
        a VarSet each emptying ``ARGC``, ``ARGn``.. ``ARG1``, then ``GOSUB_RETVAL``. The
        channel stays at the ``Return()`` priority until the caller's application moves on
        (Dial: its DialBegin still shows it; the Newexten back at the Dial's own place comes
        after). ASSUMED (all ``[hotline-predial]`` and ``[hotline-answer]`` need): only
        applications that finish at once run here; one that would wait is a DialplanError.
        """
        label, paren, rest = location.partition("(")
        args = split_args(rest[: rest.rfind(")")]) if paren else []
        parts = [p.strip() for p in label.split(",")]
        context = parts[0] if len(parts) == 3 else ch.context
        exten = parts[-2] if len(parts) >= 2 else ch.exten
        priority = self.plan.priority_of(context, exten, parts[-1]) if parts[-1] else None
        if len(parts) > 3 or priority is None:
            return None
        saved = (ch.context, ch.exten, ch.priority, ch.application, ch.app_data)
        names = (*_arg_names(len(args)), "ARGC")
        before = {name: ch.variables.get(name) for name in names}
        for name, value in zip(names, (*args, str(len(args))), strict=True):
            ch.variables[name] = value
            self.world.emit(ev.varset(ch, f"LOCAL({name})", value))
        ch.context, ch.exten, ch.priority = context, exten, priority
        while ch.alive:
            found = self.plan.find(ch.context, ch.exten)
            step = None if found is None else found.steps.get(ch.priority)
            if step is None:
                break  # ran off the end: app_stack.c gosub_run stops with the frame still there
            data = self.expand(step, ch, step.data)
            ch.application, ch.app_data = step.app, data
            self.world.emit(ev.newexten(ch, step.app, data))
            if step.app == "Return":
                for name in reversed(names):  # the frame's locals go, the last set first
                    old = before[name]
                    ch.variables.pop(name, None) if old is None else ch.variables.update(
                        {name: old}
                    )
                    self.world.emit(ev.varset(ch, name, ""))
                self.world.setvar(ch, "GOSUB_RETVAL", data)
                break
            results: list[int] = []
            app = self._apps[step.app]
            app(now, AppCall(self.world, self, ch, step, data, _collect(results)))
            if not results:
                raise self.error(step, "a pre-dial subroutine's application must not wait")
            if results[0] != 0:
                break
            ch.priority += 1

        def back() -> None:
            ch.context, ch.exten, ch.priority, ch.application, ch.app_data = saved
            self.world.emit(ev.newexten(ch, saved[3], saved[4]))

        return back

    # -- the loop ----------------------------------------------------------------------------
    def _execute(self, now: float, ch: Channel, frame: Frame) -> None:
        while ch.alive and ch.frame is frame:
            found = self.plan.find(ch.context, ch.exten)
            step = None if found is None else found.steps.get(ch.priority)
            if step is None:
                self._ran_out(now, ch, frame)
                return
            app = self._apps[step.app]
            data = self.expand(step, ch, step.data)
            ch.application, ch.app_data = step.app, data
            self.world.emit(ev.newexten(ch, step.app, data))
            self.world.cdr.app_started(now, ch, step.app, data)
            running = [True]

            def resume(t: float, result: int, running: list[bool] = running) -> None:
                if ch.frame is not frame:
                    return  # a Redirect started a new run meanwhile
                if running[0]:
                    frame.pending.append((t, result))
                elif self._after(t, ch, frame, result):
                    self._execute(t, ch, frame)

            app(now, AppCall(self.world, self, ch, step, data, resume))
            running[0] = False
            if not frame.pending:
                return  # the application blocks; resume() continues later
            now, result = frame.pending.pop(0)
            frame.pending.clear()
            if not self._after(now, ch, frame, result):
                return

    def _after(self, now: float, ch: Channel, frame: Frame, result: int) -> bool:
        """Where the loop goes once an application returned; False = the run is over."""
        if not ch.alive:
            return False
        target = ch.redirect_to
        if target is not None and not frame.in_h:
            ch.redirect_to = None
            ch.dead = False
            ch.soft_hangup_sent = False
            self.world.run_context(now, ch, target[0], target[1], target[2])
            return False
        if result == 0 and (not ch.dead or frame.in_h):
            ch.priority += 1
            return True
        if frame.in_h:
            self._teardown(now, ch)
            return False
        return self._hang_up(now, ch, frame)

    def _hang_up(self, now: float, ch: Channel, frame: Frame) -> bool:
        """The run ends in a hang-up; True = the ``h`` extension runs first."""
        if not ch.soft_hangup_sent:
            ch.soft_hangup_sent = True
            self.world.emit(ev.hangup_request(ch, 16, soft=True))
        ch.dead = True
        if self.plan.find(ch.context, "h") is not None:
            frame.in_h = True
            ch.exten, ch.priority = "h", 1
            return True
        self._teardown(now, ch)
        return False

    def _ran_out(self, now: float, ch: Channel, frame: Frame) -> None:
        """No step at this priority: the dialplan ran out (autofallthrough hangs up).

        RECORDED q7_assumptions.txt B/B2: a SoftHangupRequest (Cause 16) whose snapshot still
        shows the last step's priority, then ``h`` if the context has one, then the Hangup at
        the priority after the last step with cause 0."""
        if frame.in_h:
            self._teardown(now, ch)
            return
        if ch.hangup_cause is None:
            ch.hangup_cause = 0
        if not ch.soft_hangup_sent:
            ch.soft_hangup_sent = True
            ch.priority -= 1
            self.world.emit(ev.hangup_request(ch, 16, soft=True))
            ch.priority += 1
        if self._hang_up(now, ch, frame):
            self._execute(now, ch, frame)

    def _teardown(self, now: float, ch: Channel) -> None:
        ch.frame = None
        cause = 16 if ch.hangup_cause is None else ch.hangup_cause
        self.world.end_from_dialplan(now, ch, cause, soft_request=False)


def _arg_names(count: int) -> tuple[str, ...]:
    return tuple(f"ARG{i}" for i in range(1, count + 1))


def _collect(results: list[int]) -> Resume:
    return lambda _t, result: results.append(result)

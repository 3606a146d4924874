"""AMI Originate and the simulated phones behind the originated channel.

``Channel: Local/<n>@caller-sim/n`` is a caller (the reference ``[caller-sim]`` context: answers at
once, sends DTMF, hangs up after its patience); an endpoint listed in ``plan.agents`` rings and
answers per its AgentBehaviour; ``Local/<x>@supervisor/n`` answers at once and stays.
The ;1 half then runs ``Context/Exten`` or ``Application/Data``. Event order per scenario A:
Newchannel ;1, ;2, (VarSet), LocalBridge, DialBegin, Newstate ;2/;1 Up, DialEnd, OriginateResponse.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from acd.sim import events as ev
from acd.sim.channels import Channel, split_local
from acd.sim.chanspy import run_chanspy
from acd.sim.dial_app import Leg
from acd.sim.dialplan import finish, run_context
from acd.sim.outputs import OriginateAccepted, OriginateRejected, OriginateRequest, OriginateResult
from acd.sim.plan import CallerBehaviour, DtmfPress

if TYPE_CHECKING:
    from acd.sim.world import World

DTMF_MS = 100  # DTMFEnd DurationMs as recorded


def _parse_callerid(text: str | None) -> tuple[str, str] | None:
    if not text:
        return None
    if "<" in text:
        name, _, rest = text.partition("<")
        return rest.rstrip(">").strip(), name.strip().strip('"')
    return text.strip(), text.strip()


def _caller_from_vars(number: str, variables: dict[str, str]) -> CallerBehaviour:
    """The reference caller-sim context driven by IVR_DIGIT / DTMF_DELAY / CALLER_HOLD."""
    delay = float(variables.get("DTMF_DELAY") or 3)
    hold = float(variables.get("CALLER_HOLD") or 120)
    digit = variables.get("IVR_DIGIT", "")
    return CallerBehaviour(
        number=number, dtmf=(DtmfPress(delay, digit),) if digit else (), hangup_after=delay + hold
    )


def originate(
    world: World, now: float, req: OriginateRequest
) -> OriginateAccepted | OriginateRejected:
    if not req.channel:
        return OriginateRejected("Channel not specified")
    local = split_local(req.channel)
    target = (
        (f"app:{req.application}", req.data)
        if req.application
        else (req.context or "default", req.exten or "s")
    )
    variables = dict(req.variables)
    agent = req.channel in world.plan.agents or not req.channel.startswith("Local/")
    phone_ctx = local[1] if local else ""
    if local is not None and req.caller is None and world.runner.handles(phone_ctx):
        _into_dialplan(world, now, req, local, target)
        return OriginateAccepted()
    known = agent or phone_ctx in ("caller-sim", "supervisor") or req.caller is not None
    if local and phone_ctx == "caller-sim" and not local[0].isdigit():
        known = False  # caller-sim only has the _X. pattern
    if not known or (agent and world.device_state(req.channel) in ("UNAVAILABLE", "INVALID")):
        _fail(world, req, target, 0)
        return OriginateAccepted()
    cid = _parse_callerid(req.caller_id)
    if agent:
        _originate_agent(world, now, req, target, cid)
        return OriginateAccepted()
    assert local is not None
    one, two = world.new_local_pair(now, local[0], local[1], None)
    if cid is None:
        b = req.caller
        cid = (b.number, b.display_name) if b else (local[0], f"Caller {local[0]}")
    num, name = cid
    # recorded order per half: its VarSets, NewCallerid, NewConnectedLine (scenario A)
    for ch in (one, two):
        for key, value in req.variables:
            world.setvar(ch, key, value)
        world.set_callerid(ch, num, name)
        world.set_connected_line(ch, num, name)
    world.emit(ev.local_bridge(one, two))
    world.emit(
        ev.two_party("DialBegin", ev.CALL, None, one, ("DialString", req.channel.split("/", 1)[1]))
    )
    world.set_state(two, 6)
    world.set_state(one, 6)
    world.emit(ev.two_party("DialEnd", ev.CALL, None, one, ("DialStatus", "ANSWER")))
    _succeeded(world, req, target, one)
    if phone_ctx == "caller-sim" or req.caller is not None:
        behaviour = req.caller or _caller_from_vars(local[0], variables)
        one.behaviour = behaviour
        _caller_phone(world, now, one, two, behaviour)
    elif phone_ctx == "supervisor" and variables.get("SPYTIME"):
        # the reference [supervisor] phone hangs up after SPYTIME seconds
        world.timers.at(now + float(variables["SPYTIME"]), lambda t: world.far_end_hangup(t, two))
    _run_target(world, now, one, target, req.priority)
    return OriginateAccepted()


def _into_dialplan(
    world: World,
    now: float,
    req: OriginateRequest,
    local: tuple[str, str, bool],
    target: tuple[str, str],
) -> None:
    """``Local/<exten>@<context>/n`` where ``context`` is in the loaded dialplan: the ;2 half
    runs it (in Ring state, so its Answer() waits for media), the ;1 half is answered when the
    ;2 answers and then runs the Originate's target. RECORDED smoke_hotline_no_daemon.txt and
    the q2/q4/q5/q6 set-ups (``Originate Channel=Local/s@t-agi/n Application=Wait``)."""
    exten, context, _ = local
    one, two = world.new_local_pair(now, exten, context, None)
    cid = _parse_callerid(req.caller_id) or ("<unknown>", "<unknown>")
    for ch in (one, two):
        for key, value in req.variables:
            world.setvar(ch, key, value)
        if req.caller_id:
            world.set_callerid(ch, *cid)
            world.set_connected_line(ch, *cid)
    world.emit(ev.local_bridge(one, two))
    dial_string = req.channel.split("/", 1)[1]
    world.emit(ev.two_party("DialBegin", ev.CALL, None, one, ("DialString", dial_string)))

    def answered(t: float) -> None:
        timer.cancel()
        two.on_gone = None
        world.set_state(one, 6)
        world.emit(ev.two_party("DialEnd", ev.CALL, None, one, ("DialStatus", "ANSWER")))
        _succeeded(world, req, target, one)
        _run_target(world, t, one, target, req.priority)

    def no_answer(t: float) -> None:
        # ASSUMPTION: reason 3 and both halves hung up, as for a phone that never answers
        # (recorded for Local agent phones in ami_login_and_actions.txt); not recorded for a
        # Local channel whose own dialplan keeps running without answering.
        two.on_answer = two.on_gone = None
        world.emit(ev.two_party("DialEnd", ev.CALL, None, one, ("DialStatus", "NOANSWER")))
        _fail(world, req, target, 3)
        world.destroy(one, 0)
        world.hangup_running(t, two, 16)

    def ended_unanswered(_t: float) -> None:
        # RECORDED q7_assumptions.txt B: the ;2's dialplan ended without answering:
        # OriginateResponse Failure, Reason 0, at once
        timer.cancel()
        two.on_answer = None
        _fail(world, req, target, 0)

    two.on_answer = answered
    two.on_gone = ended_unanswered
    timer = world.timers.at(now + req.timeout_ms / 1000, no_answer)
    world.runner.start(now, two, context, exten)


def _fail(world: World, req: OriginateRequest, target: tuple[str, str], reason: int) -> None:
    if req.is_async:
        world.emit(
            ev.originate_response(
                req.action_id,
                success=False,
                channel=req.channel,
                target=target,
                reason=reason,
                uniqueid="<unknown>",
                cid=("<unknown>", "<unknown>"),
            )
        )
    else:
        world.output(OriginateResult(req.action_id, False, reason, req.channel, "<unknown>"))


def _succeeded(world: World, req: OriginateRequest, target: tuple[str, str], one: Channel) -> None:
    if req.is_async:
        world.emit(
            ev.originate_response(
                req.action_id,
                success=True,
                channel=one.name,
                target=target,
                reason=4,
                uniqueid=one.uniqueid,
                cid=(one.cid_num, one.cid_name),
            )
        )
    else:
        world.output(OriginateResult(req.action_id, True, 4, one.name, one.uniqueid))


def _originate_agent(
    world: World,
    now: float,
    req: OriginateRequest,
    target: tuple[str, str],
    cid: tuple[str, str] | None,
) -> None:
    """Ring an agent endpoint (call-back, agent-first call); run the target once answered."""
    leg = Leg(world, now, None, req.channel, None)
    for ch in leg.channels:
        for key, value in req.variables:
            world.setvar(ch, key, value)
        if cid is not None:
            world.set_callerid(ch, *cid)

    def answered(t: float, lg: Leg) -> None:
        timer.cancel()
        _succeeded(world, req, target, lg.one)
        _run_target(world, t, lg.one, target, req.priority)
        if lg.behaviour.hangs_up == "agent":
            # the agent's phone hangs up after its talk time, wherever the call went meanwhile
            world.timers.at(t + lg.behaviour.talk_time, lambda t2: _phone_hangs_up(world, t2, lg))

    def no_answer(t: float) -> None:
        leg.cancel(t, ("NOANSWER",))
        _fail(world, req, target, 3)

    leg.begin(now, answered)
    timer = world.timers.at(now + req.timeout_ms / 1000, no_answer)


def _phone_hangs_up(world: World, now: float, leg: Leg) -> None:
    if leg.two is not None:
        world.far_end_hangup(now, leg.two)
    elif leg.one.alive:
        world.hangup_request(now, leg.one.name, 16)


def _run_target(
    world: World, now: float, one: Channel, target: tuple[str, str], priority: int = 1
) -> None:
    first, second = target
    if not first.startswith("app:"):
        run_context(world, now, one, first, second, priority=priority)
        return
    app = first[4:]
    one.application, one.app_data = app, second
    world.cdr.app_started(now, one, app, second)
    if app.lower() == "chanspy":
        run_chanspy(world, now, one, second, lambda t: finish(world, t, one))
    elif app.lower() == "wait":
        world.timers.at(now + float(second or 0), lambda t: finish(world, t, one))
    else:
        one.on_hangup = lambda t: finish(world, t, one)


def _caller_phone(
    world: World, now: float, one: Channel, two: Channel, behaviour: CallerBehaviour
) -> None:
    """The ;2 half: timed DTMF into ;1 and hanging up after the caller's patience."""
    for press in behaviour.dtmf:
        send_digits(world, now + press.at, one, press.digits)
    if behaviour.hangup_after is not None:
        world.timers.at(now + behaviour.hangup_after, lambda t: world.far_end_hangup(t, two))


def send_digits(world: World, at: float, ch: Channel, digits: str, gap: float = 0.25) -> None:
    for i, digit in enumerate(digits):
        start = at + i * gap
        world.timers.at(start, partial(_dtmf_begin, world, ch=ch, digit=digit))


def _dtmf_begin(world: World, now: float, *, ch: Channel, digit: str) -> None:
    if not ch.alive or ch.dead:
        return
    world.emit(ev.dtmf(ch, digit, end=False))
    world.timers.at(now + DTMF_MS / 1000, lambda t: _dtmf_end(world, t, ch, digit))


def _dtmf_end(world: World, now: float, ch: Channel, digit: str) -> None:
    if not ch.alive or ch.dead:
        return
    world.emit(ev.dtmf(ch, digit, end=True, duration_ms=DTMF_MS))
    if ch.on_digit is not None:
        ch.on_digit(now, digit)


def prompt_started(world: World, now: float, ch: Channel) -> None:
    """A GET DATA prompt began: the caller types the next of its prompt answers."""
    b = ch.behaviour
    if b is None or ch.prompts_answered >= len(b.prompt_answers):
        return
    answer = b.prompt_answers[ch.prompts_answered]
    ch.prompts_answered += 1
    send_digits(world, now + b.answer_delay, ch, answer)

"""AGI command dispatch and the commands that answer at once.

Reply forms are the recorded ones (fastagi_session.txt). The dead-channel rule is res_agi.c's
``commands[]`` "dead" column; usage (520) bodies: STREAM FILE's is recorded, for the others only
the syntax line is given (their Asterisk 22 XML text was not recorded).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from acd.sim import events as ev
from acd.sim.agi_apps import exec_app
from acd.sim.agi_media import MEDIA
from acd.sim.agi_session import (
    DEAD,
    DEAD_OK,
    STREAM_FILE_USAGE,
    UNKNOWN,
    Reply,
    Session,
    expand,
    read_variable,
    split_args,
)

if TYPE_CHECKING:
    from acd.sim.world import World

Handler = Callable[["World", float, Session, list[str], Reply], None]

#: command words -> (minimum number of arguments, syntax line for the 520 usage reply)
SYNTAX: dict[str, tuple[int, str]] = {
    "ANSWER": (0, "ANSWER"),
    "CHANNEL STATUS": (0, "CHANNEL STATUS [channelname]"),
    "CONTROL STREAM FILE": (2, "CONTROL STREAM FILE filename escape_digits"),
    "DATABASE DEL": (2, "DATABASE DEL family key"),
    "DATABASE DELTREE": (1, "DATABASE DELTREE family [keytree]"),
    "DATABASE GET": (2, "DATABASE GET family key"),
    "DATABASE PUT": (3, "DATABASE PUT family key value"),
    "EXEC": (1, "EXEC application options"),
    "GET DATA": (1, "GET DATA file [timeout] [maxdigits]"),
    "GET FULL VARIABLE": (1, "GET FULL VARIABLE expression [channelname]"),
    "GET OPTION": (2, "GET OPTION filename escape_digits [timeout]"),
    "GET VARIABLE": (1, "GET VARIABLE variablename"),
    "HANGUP": (0, "HANGUP [channelname]"),
    "NOOP": (0, "NOOP"),
    "RECORD FILE": (4, "RECORD FILE filename format escape_digits timeout"),
    "SAY ALPHA": (2, "SAY ALPHA number escape_digits"),
    "SAY DIGITS": (2, "SAY DIGITS number escape_digits"),
    "SAY NUMBER": (2, "SAY NUMBER number escape_digits [gender]"),
    "SET AUTOHANGUP": (1, "SET AUTOHANGUP time"),
    "SET CALLERID": (1, "SET CALLERID number"),
    "SET CONTEXT": (1, "SET CONTEXT context"),
    "SET EXTENSION": (1, "SET EXTENSION extension"),
    "SET MUSIC": (1, "SET MUSIC on|off [class]"),
    "SET PRIORITY": (1, "SET PRIORITY priority"),
    "SET VARIABLE": (2, "SET VARIABLE variablename value"),
    "STREAM FILE": (2, "STREAM FILE filename escape_digits [sample offset]"),
    "VERBOSE": (1, "VERBOSE message level"),
    "WAIT FOR DIGIT": (1, "WAIT FOR DIGIT timeout"),
}


def usage(command: str) -> str:
    body = STREAM_FILE_USAGE if command == "STREAM FILE" else SYNTAX[command][1] + "\n"
    return (
        "520-Invalid command syntax.  Proper usage follows:\n" + body + "520 End of proper usage.\n"
    )


def dispatch(world: World, now: float, sess: Session, line: str, reply: Reply) -> None:
    argv = split_args(line)
    words = [w.upper() for w in argv]
    command = next(
        (c for n in (3, 2, 1) if (c := " ".join(words[:n])) in SYNTAX and len(words) >= n), None
    )
    if command is None:
        reply(now, UNKNOWN)
        return
    args = argv[len(command.split()) :]
    if sess.channel.dead and not (command in DEAD_OK or command.startswith("DATABASE")):
        reply(now, DEAD)
        return
    if len(args) < SYNTAX[command][0]:
        reply(now, usage(command))
        return
    handler = _HANDLERS.get(command) or MEDIA[command]
    handler(world, now, sess, args, reply)


def _answer(world: World, now: float, sess: Session, args: list[str], reply: Reply) -> None:
    world.answer(sess.channel)
    reply(now, "200 result=0\n")


def _channel_status(world: World, now: float, sess: Session, args: list[str], reply: Reply) -> None:
    ch = world.find(args[0]) if args else sess.channel
    reply(now, "200 result=-1\n" if ch is None else f"200 result={ch.state}\n")


def _db(world: World, now: float, sess: Session, args: list[str], reply: Reply, *, op: str) -> None:
    db = world.astdb
    if op == "GET":
        value = db.get((args[0], args[1]))
        reply(now, "200 result=0\n" if value is None else f"200 result=1 ({value})\n")
    elif op == "PUT":
        db[(args[0], args[1])] = args[2]
        reply(now, "200 result=1\n")
    elif op == "DEL":
        reply(
            now,
            "200 result=1\n" if db.pop((args[0], args[1]), None) is not None else "200 result=0\n",
        )
    else:
        prefix = args[1] if len(args) > 1 else ""
        doomed = [k for k in db if k[0] == args[0] and k[1].startswith(prefix)]
        for key in doomed:
            del db[key]
        reply(now, "200 result=1\n" if doomed else "200 result=0\n")


def _get_variable(world: World, now: float, sess: Session, args: list[str], reply: Reply) -> None:
    value = read_variable(world, sess.channel, args[0])
    reply(now, "200 result=0\n" if value is None else f"200 result=1 ({value})\n")


def _get_full_variable(
    world: World, now: float, sess: Session, args: list[str], reply: Reply
) -> None:
    ch = world.find(args[1]) if len(args) > 1 else sess.channel
    if ch is None:
        reply(now, "200 result=0\n")
        return
    reply(now, f"200 result=1 ({expand(world, ch, args[0])})\n")


def _set_variable(world: World, now: float, sess: Session, args: list[str], reply: Reply) -> None:
    world.setvar(sess.channel, args[0], args[1])
    reply(now, "200 result=1\n")


def _set_callerid(world: World, now: float, sess: Session, args: list[str], reply: Reply) -> None:
    text = " ".join(args)
    ch = sess.channel
    if "<" in text:
        name, _, rest = text.partition("<")
        world.set_callerid(ch, rest.rstrip(">").strip(), name.strip().strip('"'))
    else:
        world.set_callerid(ch, text.strip(), ch.cid_name)
    reply(now, "200 result=1\n")


def _set_music(world: World, now: float, sess: Session, args: list[str], reply: Reply) -> None:
    ch = sess.channel
    if args[0].lower() == "on":
        cls = args[1] if len(args) > 1 else "default"
        world.emit(ev.chan("MusicOnHoldStart", ev.CALL, ch, ("Class", cls)))
    else:
        world.emit(ev.chan("MusicOnHoldStop", ev.CALL, ch))
    reply(now, "200 result=0\n")


def _hangup(world: World, now: float, sess: Session, args: list[str], reply: Reply) -> None:
    ch = world.find(args[0]) if args else sess.channel
    if ch is None:
        reply(now, "200 result=-1\n")
        return
    if ch is sess.channel:
        # Own channel: soft hang-up (recorded between AGIExecStart and AGIExecEnd); the session
        # goes on "dead" until the server closes, the HANGUP line follows the reply.
        world.emit(ev.hangup_request(ch, 16, soft=True))
        ch.dead = True
        reply(now, "200 result=1\n")
    else:
        reply(now, "200 result=1\n")
        world.hangup_request(now, ch.name, 16)


def _ok(result: str) -> Handler:
    def handler(world: World, now: float, sess: Session, args: list[str], reply: Reply) -> None:
        reply(now, f"200 result={result}\n")

    return handler


def _exec(world: World, now: float, sess: Session, args: list[str], reply: Reply) -> None:
    exec_app(world, now, sess, reply, app=args[0], data=args[1] if len(args) > 1 else "")


_HANDLERS: dict[str, Handler] = {
    "ANSWER": _answer,
    "CHANNEL STATUS": _channel_status,
    "DATABASE GET": lambda w, n, s, a, r: _db(w, n, s, a, r, op="GET"),
    "DATABASE PUT": lambda w, n, s, a, r: _db(w, n, s, a, r, op="PUT"),
    "DATABASE DEL": lambda w, n, s, a, r: _db(w, n, s, a, r, op="DEL"),
    "DATABASE DELTREE": lambda w, n, s, a, r: _db(w, n, s, a, r, op="DELTREE"),
    "EXEC": _exec,
    "GET VARIABLE": _get_variable,
    "GET FULL VARIABLE": _get_full_variable,
    "HANGUP": _hangup,
    "NOOP": _ok("0"),
    "SET AUTOHANGUP": _ok("0"),
    "SET CALLERID": _set_callerid,
    "SET CONTEXT": _ok("0"),
    "SET EXTENSION": _ok("0"),
    "SET MUSIC": _set_music,
    "SET PRIORITY": _ok("0"),
    "SET VARIABLE": _set_variable,
    "VERBOSE": _ok("1"),
}

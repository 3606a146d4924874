"""FastAGI sessions on the PBX side: env block, command dispatch, replies, HANGUP notices.

One session per ``AGI(agi://...)`` call. Commands run one at a time; each appears on AMI as
AGIExecStart/AGIExecEnd (ResultCode/Result as recorded: 200 Success, 200 Unknown Result for an
unknown EXEC application, 510, 520 Usage, 511, -1 Failure). Reply texts are byte-exact forms from
fastagi_session.txt; media commands live in agi_media.py, EXEC applications in agi_apps.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from acd.sim import events as ev
from acd.sim.agi_commands import dispatch
from acd.sim.agi_session import Reply, Session
from acd.sim.channels import Channel
from acd.sim.outputs import AgiClose, AgiHangupNotice, AgiOpen, AgiReply

if TYPE_CHECKING:
    from acd.sim.world import World


class AgiEngine:
    def __init__(self, world: World) -> None:
        self.world = world
        self.sessions: dict[int, Session] = {}
        self._next = 1

    def start(
        self,
        now: float,
        ch: Channel,
        *,
        host: str,
        port: int,
        script: str,
        args: tuple[str, ...],
        done: Callable[[float, str], None],
    ) -> int:
        sid = self._next
        self._next += 1
        sess = Session(sid, ch, done)
        self.sessions[sid] = sess
        ch.application, ch.app_data = "AGI", f"agi://{host}:{port}/{script}"
        ch.on_hangup = lambda t: self._channel_hungup(t, sess)
        self.world.output(AgiOpen(sid, host, port, self._env(ch, host, port, script, args)))
        return sid

    def _env(
        self, ch: Channel, host: str, port: int, script: str, args: tuple[str, ...]
    ) -> tuple[tuple[str, str], ...]:
        env = [
            ("agi_network", "yes"),
            ("agi_network_script", script),
            ("agi_request", f"agi://{host}:{port}/{script}"),
            ("agi_channel", ch.name),
            ("agi_language", ch.language),
            ("agi_type", ch.kind),
            ("agi_uniqueid", ch.uniqueid),
            ("agi_version", self.world.plan.asterisk_version),
            ("agi_callerid", ch.cid_num),
            ("agi_calleridname", ch.cid_name),
            ("agi_callingpres", "0"),
            ("agi_callingani2", "0"),
            ("agi_callington", "0"),
            ("agi_callingtns", "0"),
            ("agi_dnid", "unknown"),
            ("agi_rdnis", "unknown"),
            ("agi_context", ch.context),
            ("agi_extension", ch.exten),
            ("agi_priority", str(ch.priority)),
            ("agi_enhanced", "0.0"),
            ("agi_accountcode", ch.account_code),
            ("agi_threadid", str(140240085485248 + self.world.rng.randrange(1 << 20))),
        ]
        env += [(f"agi_arg_{i}", a) for i, a in enumerate(args, start=1)]
        return tuple(env)

    # -- transport events ---------------------------------------------------------------------
    def connected(self, now: float, sid: int) -> None:
        """Nothing to do: the env block went out with AgiOpen."""

    def connect_failed(self, now: float, sid: int) -> None:
        sess = self.sessions.pop(sid, None)
        if sess is None:
            return
        sess.closed = True
        self._release_channel(sess)
        sess.done(now, "HANGUP" if sess.channel.dead else "FAILURE")

    def closed(self, now: float, sid: int) -> None:
        """The server closed: Asterisk writes ``HANGUP`` and closes (fastagi_session.txt)."""
        sess = self.sessions.pop(sid, None)
        if sess is None or sess.closed:
            return
        sess.closed = True
        if sess.abort is not None:
            sess.abort = None
        self.world.output(AgiHangupNotice(sid))
        self.world.output(AgiClose(sid))
        self._release_channel(sess)
        ch = sess.channel
        status = "HANGUP" if ch.dead else "FAILURE" if sess.failed else "SUCCESS"
        sess.done(now, status)

    def _release_channel(self, sess: Session) -> None:
        ch = sess.channel
        ch.on_digit = None
        if ch.alive and not ch.dead:
            ch.on_hangup = None

    def _channel_hungup(self, now: float, sess: Session) -> None:
        """Caller hung up (or Redirect) mid-session: abort the command, then ``HANGUP``."""
        ch = sess.channel
        if ch.redirect_to is not None:
            ch.dead = True  # res_agi treats the async goto like a hang-up of the session
        abort, sess.abort = sess.abort, None
        if abort is not None:
            abort(now)  # replies -1 and sends the notice
        else:
            self.notice(sess)

    def notice(self, sess: Session) -> None:
        if not sess.hangup_sent and not sess.closed:
            sess.hangup_sent = True
            self.world.output(AgiHangupNotice(sess.sid))

    # -- commands -----------------------------------------------------------------------------
    def command(self, now: float, sid: int, line: str) -> None:
        sess = self.sessions.get(sid)
        if sess is None or sess.closed:
            return
        sess.queue.append(line.rstrip("\n"))
        if not sess.busy:
            self._next_command(now, sess)

    def _next_command(self, now: float, sess: Session) -> None:
        while sess.queue and not sess.busy and not sess.closed:
            line = sess.queue.pop(0)
            sess.busy = True
            ch = sess.channel
            command_id = str(self.world.rng.randrange(10**9, 2 * 10**9))
            self.world.emit(ev.agi_exec(ch, command_id, line, None))

            dispatch(self.world, now, sess, line, self._replier(sess, line, command_id))

    def _replier(self, sess: Session, line: str, command_id: str) -> Reply:
        finished = False

        def reply(now: float, text: str, failure: bool = False) -> None:
            nonlocal finished
            if not finished:
                finished = True
                self._reply(now, sess, line=line, command_id=command_id, text=text, failure=failure)

        return reply

    def _reply(
        self, now: float, sess: Session, *, line: str, command_id: str, text: str, failure: bool
    ) -> None:
        sess.busy = False
        sess.abort = None
        ch = sess.channel
        code, result = ("-1", "Failure") if failure else _ami_result(text)
        if failure:
            sess.failed = True
        if ch.alive:
            self.world.emit(ev.agi_exec(ch, command_id, line, (code, result)))
        if not sess.closed:
            self.world.output(AgiReply(sess.sid, text))
            if ch.dead:
                self.notice(sess)
        self._next_command(now, sess)


def _ami_result(text: str) -> tuple[str, str]:
    """AGIExecEnd ResultCode/Result for a reply, as recorded in ami_events_full_call.txt."""
    if text.startswith("510"):
        return "510", "Invalid or unknown command"
    if text.startswith("520"):
        return "520", "Usage"
    if text.startswith("511"):
        return "511", "Command Not Permitted on a dead channel or intercept routine"
    if text.startswith("200 result=-2"):
        return "200", "Unknown Result"
    return "200", "Success"

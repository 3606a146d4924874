"""FastAGI sessions on the PBX side: env block, command dispatch, replies, HANGUP notices, end.

One session per ``AGI(agi://...)`` call. Commands run one at a time; each appears on AMI as
AGIExecStart/AGIExecEnd (ResultCode/Result as recorded: 200 Success, 200 Unknown Result for an
EXEC whose application returned non-zero, 510, 520 Usage, 511, -1 Failure). Reply texts are
byte-exact forms from fastagi_session.txt; media commands live in agi_media.py, EXEC
applications in agi_apps.py.

How a session ends (SOURCE res/res_agi.c ``run_agi`` / ``agi_handle_command``; RECORDED
q2_agi_dies_ami.txt and the q2_*_fastagi.txt files): the server closing its socket is read as
"script completed". If no command runs, AGI() returns at once; a command that waits with the
socket watched (WAIT FOR DIGIT, STREAM FILE, GET DATA...) ends at once with a success; an EXEC
(Dial, Queue...) runs to its own end first. AGISTATUS is SUCCESS, FAILURE when a command
failed while the channel was up, HANGUP when the channel hung up (or was redirected) during
the session; channel variables set before are kept. A session started on a hung-up channel
(the ``h`` extension) is dead from the start: no HANGUP line until its end, media commands 511,
and it ends SUCCESS (RECORDED q4_q5_q5.txt).
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
        dead: bool = False,
    ) -> int:
        sid = self._next
        self._next += 1
        sess = Session(sid, ch, done, dead_mode=dead, hangup_sent=dead)
        self.sessions[sid] = sess
        ch.application, ch.app_data = "AGI", f"agi://{host}:{port}/{script}"
        if not dead:
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
        sess.done(now, "HANGUP" if sess.channel.dead and not sess.dead_mode else "FAILURE")

    def closed(self, now: float, sid: int) -> None:
        """The server closed its socket (EOF): the session ends, after an EXEC in progress."""
        sess = self.sessions.get(sid)
        if sess is None or sess.closed or sess.server_gone:
            return
        sess.server_gone = True
        if not sess.busy:
            self._end(now, sess)
            return
        interrupt, sess.interrupt = sess.interrupt, None
        if interrupt is not None:
            interrupt(now)  # its reply goes nowhere; _reply then ends the session
        # else: an EXEC runs to its own end (Dial rings on, a bridge stays up); _reply ends it

    def _end(self, now: float, sess: Session) -> None:
        """AGI() returns: Asterisk writes its closing ``HANGUP`` line (lost if the server is
        gone) and closes; the dialplan goes on with AGISTATUS."""
        self.sessions.pop(sess.sid, None)
        sess.closed = True
        sess.abort = sess.interrupt = None
        self.world.output(AgiHangupNotice(sess.sid))
        self.world.output(AgiClose(sess.sid))
        self._release_channel(sess)
        sess.done(now, sess.status)

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
        self._hung_up(sess)
        abort, sess.abort = sess.abort, None
        sess.interrupt = None
        if abort is not None:
            abort(now)  # replies -1 and sends the notice
        elif not sess.busy:
            self.notice(sess)

    @staticmethod
    def _hung_up(sess: Session) -> None:
        if sess.status == "SUCCESS" and not sess.dead_mode:
            sess.status = "HANGUP"

    def notice(self, sess: Session) -> None:
        if not sess.hangup_sent and not sess.closed and not sess.server_gone:
            sess.hangup_sent = True
            self.world.output(AgiHangupNotice(sess.sid))

    # -- commands -----------------------------------------------------------------------------
    def command(self, now: float, sid: int, line: str) -> None:
        sess = self.sessions.get(sid)
        if sess is None or sess.closed or sess.server_gone:
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
        sess.abort = sess.interrupt = None
        ch = sess.channel
        code, result = ("-1", "Failure") if failure else _ami_result(line, text)
        if failure and (not ch.dead or sess.dead_mode):
            sess.status = "FAILURE"
        if ch.alive:
            self.world.emit(ev.agi_exec(ch, command_id, line, (code, result)))
        if ch.redirect_to is not None and not ch.dead:
            # the Redirect reached an EXEC'd application (Dial, Queue), which returned: the
            # session is now as after a hang-up (RECORDED q4_q5_q4.txt q4d: reply, then HANGUP)
            ch.dead = True
        if ch.dead:
            self._hung_up(sess)  # noticed when the command returns (e.g. hung up in a Dial)
        if sess.server_gone:
            self._end(now, sess)
            return
        if not sess.closed:
            self.world.output(AgiReply(sess.sid, text))
            if ch.dead:
                self.notice(sess)
        self._next_command(now, sess)


def _ami_result(line: str, text: str) -> tuple[str, str]:
    """AGIExecEnd ResultCode/Result for a reply (res_agi.c ``agi_handle_command``): an EXEC
    returns its application's result as the handler's status, so anything but 0 is "Unknown
    Result" (RECORDED: ``EXEC Dial`` after the bridged agent hung up, ami_daemon_after_sales_
    call.raw and q2_agi_dies_ami_d_dial_bridged.txt; ``EXEC NoSuchApplication`` -> -2)."""
    if text.startswith("510"):
        return "510", "Invalid or unknown command"
    if text.startswith("520"):
        return "520", "Usage"
    if text.startswith("511"):
        return "511", "Command Not Permitted on a dead channel or intercept routine"
    if line.split(maxsplit=1)[0].upper() == "EXEC" and not text.startswith("200 result=0"):
        return "200", "Unknown Result"
    return "200", "Success"

"""Play prompts and read keys over a FastAGI session, never stalling on a bad prompt or input.

GET DATA plays a single file, so for several prompts all but the last go out as STREAM FILE with
every key as an escape digit (a key pressed there is the caller's first key), and the last one as
GET DATA. Failure forms (shared README; res/res_agi.c handle_streamfile / handle_getdata):

* STREAM FILE of a missing file answers ``200 result=-1 endpos=0``: logged, next prompt.
* GET DATA whose prompt cannot be opened answers ``200 result=-1`` (main/app.c
  ``ast_app_getdata_full`` returns before reading any key). That is also its answer to a hang-up,
  so when no HANGUP line has come the keys are read again with no prompt (``GET DATA ""``: an
  empty prompt is skipped by the same function); a second -1 means the channel is gone.
* After the caller hangs up, media commands raise ``ChannelHungUp`` (AgiSession) -- callers of
  this module let it propagate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from acd.asterisk.agi.replies import AgiReply
from acd.asterisk.aio.agi_session import AgiSession, ChannelHungUp
from acd.logging import get_logger
from ivr.prompts import ALL_KEYS

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Keys:
    """What the caller keyed: ``digits`` without the terminating ``#``; ``timed_out`` when they
    stopped before ``max_digits`` or ``#`` (digits may then hold a partial entry)."""

    digits: str
    timed_out: bool


def _failed(reply: AgiReply) -> bool:
    return reply.result == "-1"


def _hung_up(what: str) -> ChannelHungUp:
    return ChannelHungUp(f"{what}: the caller hung up")


async def play(session: AgiSession, prompts: Sequence[str], escape: str = "") -> str | None:
    """Play the prompts in order; returns the escape key that interrupted them (None: none)."""
    for prompt in prompts:
        reply = await session.stream_file(prompt, escape)
        if _failed(reply):
            if session.hung_up:
                raise _hung_up(f"STREAM FILE {prompt}")
            if reply.endpos == 0:
                log.warning("ivr_prompt_not_played", prompt=prompt, why="missing sound file?")
            # endpos > 0: playback broke off; a hang-up shows on the next media command (511)
            continue
        if reply.digit is not None:
            return reply.digit
    return None


async def collect(
    session: AgiSession, prompts: Sequence[str], *, timeout_s: float, max_digits: int
) -> Keys:
    """Play ``prompts`` (any key interrupts them) and read up to ``max_digits`` keys."""
    timeout_ms = max(1, round(timeout_s * 1000))
    first = await play(session, prompts[:-1], ALL_KEYS) if len(prompts) > 1 else None
    if first is not None:
        if first == "#":  # the terminator alone: an empty entry, as GET DATA reports it
            return Keys("", False)
        if max_digits <= 1:
            return Keys(first, False)
        rest = await _get_data(session, "", timeout_ms, max_digits - 1)
        return Keys(first + rest.digits, rest.timed_out)
    return await _get_data(session, prompts[-1] if prompts else "", timeout_ms, max_digits)


async def _get_data(session: AgiSession, prompt: str, timeout_ms: int, max_digits: int) -> Keys:
    reply = await session.get_data(prompt, timeout_ms, max_digits)
    if _failed(reply):
        if session.hung_up or not prompt:
            raise _hung_up("GET DATA")
        log.warning("ivr_prompt_not_played", prompt=prompt, why="missing sound file?")
        reply = await session.get_data("", timeout_ms, max_digits)
        if _failed(reply):
            raise _hung_up("GET DATA")
    return Keys(reply.digits, reply.timed_out)

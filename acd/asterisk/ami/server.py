"""AMI server role (the Asterisk side, used by the PBX simulator), sans-I/O.

Input: actions as Asterisk accepts them (LF-only lines, lower-case header names, several actions
in one write; ami_login_and_actions.txt 38f-38h). Output: bytes shaped like the recorded replies:

* ``response``: ``Response: <status>``, ``ActionID`` (only when the action carried one: Asterisk
  echoes it only when sent, see section 5 "Ping without ActionID"), then the given headers.
* ``event_list``: ``Response: Success``/``ActionID``/``EventList: start``/``Message: ...``, the item
  events each with the ActionID, then ``Event: <X>Complete``/``ActionID``/``EventList: Complete``/
  ``ListItems: N`` (+ extra headers such as Status's ``Items``), as in sections 8, 9, 11, 23, 24.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from acd.asterisk.ami import auth
from acd.asterisk.ami.framing import (
    END_OF_STREAM,
    NEED_DATA,
    Banner,
    ConnectionClosed,
    Framer,
    NeedData,
)
from acd.asterisk.ami.message import Message, encode
from acd.asterisk.errors import LocalProtocolError

__all__ = [
    "BANNER",
    "NEED_DATA",
    "ActionReceived",
    "ConnectionClosed",
    "ServerConnection",
    "ServerEvent",
]

BANNER = b"Asterisk Call Manager/11.0.0\r\n"

Headers = Iterable[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class ActionReceived:
    message: Message

    @property
    def action(self) -> str:
        """The action name as sent (compare case-insensitively: Asterisk does)."""
        return self.message.get("Action") or ""

    @property
    def action_id(self) -> str | None:
        return self.message.action_id


ServerEvent = ActionReceived | ConnectionClosed | NeedData


def _id_header(action: Message) -> list[tuple[str, str]]:
    action_id = action.action_id
    return [] if action_id is None else [("ActionID", action_id)]


class ServerConnection:
    """The Asterisk side of one AMI TCP connection: parses actions, formats replies."""

    def __init__(self, *, max_message_bytes: int = 1 << 20) -> None:
        self._framer = Framer(expect_banner=False, max_message_bytes=max_message_bytes)
        self._closed = False
        #: challenge handed out by ``challenge_response`` (checked by ``check_login``)
        self.challenge: str | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    def banner(self) -> bytes:
        """The greeting Asterisk sends at once on connect."""
        return BANNER

    def receive_data(self, data: bytes) -> None:
        """Bytes read from the client; ``b""`` when it closed the connection."""
        self._framer.receive_data(data)

    def next_event(self) -> ServerEvent:
        """The next action, ``NEED_DATA`` or ``ConnectionClosed``; may raise
        ``RemoteProtocolError``."""
        item = self._framer.next_message()
        if item is NEED_DATA:
            return NEED_DATA
        if item is END_OF_STREAM:
            self._closed = True
            return ConnectionClosed()
        if isinstance(item, Banner):  # pragma: no cover - no banner expected on this side
            raise LocalProtocolError("unexpected banner")
        return ActionReceived(item)

    # -- output --------------------------------------------------------------------------

    def response(
        self,
        action: Message,
        status: str = "Success",
        headers: Headers = (),
        *,
        message: str | None = None,
    ) -> bytes:
        """A reply to ``action``: ``Response``, ``ActionID`` if sent, ``Message`` if given,
        then ``headers`` in order."""
        pairs = [("Response", status), *_id_header(action)]
        if message is not None:
            pairs.append(("Message", message))
        pairs.extend(headers)
        return encode(Message(tuple(pairs)))

    def event(self, name: str, headers: Headers = ()) -> bytes:
        """An unsolicited event; ``headers`` follow ``Event:`` as given (put ``Privilege`` first,
        as Asterisk does, e.g. ``("Privilege", "call,all")``)."""
        return encode(Message((("Event", name), *headers)))

    def event_list(
        self,
        action: Message,
        items: Sequence[Message | Sequence[tuple[str, str]]],
        complete_event: str,
        *,
        message: str = "Events will follow",
        complete_headers: Headers = (),
    ) -> bytes:
        """A whole list reply. Each item is a full event (``Event`` first). Where the item has an
        ``ActionID`` header (any value: CoreShowChannel puts it second) it is replaced by the
        action's; otherwise the ActionID is appended last (QueueParams, QueueMember, Status,
        QueueSummary). Without an ActionID in the action, items carry none."""
        action_id = action.action_id
        parts = [
            encode(
                Message(
                    (
                        ("Response", "Success"),
                        *_id_header(action),
                        ("EventList", "start"),
                        ("Message", message),
                    )
                )
            )
        ]
        for item in items:
            pairs = list(item.headers if isinstance(item, Message) else item)
            placed = False
            out: list[tuple[str, str]] = []
            for key, value in pairs:
                if key.lower() == "actionid":
                    if action_id is not None and not placed:
                        out.append((key, action_id))
                    placed = True
                else:
                    out.append((key, value))
            if not placed and action_id is not None:
                out.append(("ActionID", action_id))
            parts.append(encode(Message(tuple(out))))
        closing = [
            ("Event", complete_event),
            *_id_header(action),
            ("EventList", "Complete"),
            ("ListItems", str(len(items))),
            *complete_headers,
        ]
        parts.append(encode(Message(tuple(closing))))
        return b"".join(parts)

    # -- login -----------------------------------------------------------------------------

    def challenge_response(self, action: Message, random_value: int) -> bytes:
        """Answer ``Action: Challenge``: ``Challenge: <n>`` for ``AuthType: MD5`` (the session
        keeps its first challenge, like manager.c action_challenge), else the error."""
        if (action.get("AuthType") or "").lower() != "md5":
            return self.response(action, "Error", message="Must specify AuthType")
        if self.challenge is None:
            self.challenge = auth.new_challenge(random_value)
        return self.response(action, headers=[("Challenge", self.challenge)])

    def check_login(self, action: Message, secrets: Mapping[str, str]) -> str | None:
        """The user name if the Login ``action`` is valid for this session, else ``None``.
        The caller answers with ``login_response`` (after ~1 s on failure, as recorded)."""
        return auth.check_login(action, secrets, self.challenge)

    def login_response(self, action: Message, ok: bool) -> bytes:
        if ok:
            return self.response(action, message=auth.AUTH_ACCEPTED)
        return self.response(action, "Error", message=auth.AUTH_FAILED)

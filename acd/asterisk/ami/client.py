"""AMI client role: sends actions, matches responses and list events to them (sans-I/O).

Use: ``data = conn.send_action(...)[1]`` → write it; feed what the socket reads to
``receive_data`` (``b""`` on EOF) and call ``next_event()`` until it returns ``NEED_DATA``.

Correlation relies only on what is on the wire: every action we send carries an ``ActionID``; a
response carrying ``EventList: start`` opens a list whose item events (same ActionID) are collected
until the event with ``EventList: Complete``. Nothing is keyed on action names, so ``QueueAdd``'s
plain reply completes at once. Events carrying the ActionID of an action that already completed
(``OriginateResponse`` of an async Originate) are ordinary events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from acd.asterisk.ami import auth
from acd.asterisk.ami.framing import (
    END_OF_STREAM,
    NEED_DATA,
    Banner,
    ConnectionClosed,
    Framer,
    NeedData,
)
from acd.asterisk.ami.message import Kind, Message, encode
from acd.asterisk.errors import LocalProtocolError

__all__ = [
    "NEED_DATA",
    "ActionCompleted",
    "BannerReceived",
    "ClientConnection",
    "ClientEvent",
    "ConnectionClosed",
    "EventReceived",
    "NeedData",
    "UnmatchedResponse",
]


@dataclass(frozen=True, slots=True)
class BannerReceived:
    text: str  # e.g. "Asterisk Call Manager/11.0.0"


@dataclass(frozen=True, slots=True)
class EventReceived:
    message: Message


@dataclass(frozen=True, slots=True)
class ActionCompleted:
    """An action's outcome. For a list, ``events`` are the items (without the closing event,
    which is ``complete``: ``Event: <X>Complete`` with ``ListItems``)."""

    action_id: str
    response: Message
    events: tuple[Message, ...] = ()
    complete: Message | None = None

    @property
    def ok(self) -> bool:
        # Logoff answers "Goodbye"; Ping "Success".
        return self.response.name.lower() in ("success", "goodbye")

    @property
    def message(self) -> str:
        return self.response.get("Message", "") or ""


@dataclass(frozen=True, slots=True)
class UnmatchedResponse:
    """A response without ActionID, or with one we never sent / already completed."""

    message: Message


ClientEvent = (
    BannerReceived
    | EventReceived
    | ActionCompleted
    | UnmatchedResponse
    | ConnectionClosed
    | NeedData
)


@dataclass(slots=True)
class _OpenList:
    response: Message
    items: list[Message] = field(default_factory=list)


class ClientConnection:
    """The client side of one AMI TCP connection."""

    def __init__(self, *, action_id_prefix: str = "hl", max_message_bytes: int = 1 << 20) -> None:
        self._framer = Framer(expect_banner=True, max_message_bytes=max_message_bytes)
        self._prefix = action_id_prefix
        self._counter = 0
        self._pending: dict[str, str] = {}  # ActionID -> action name, until completed
        self._lists: dict[str, _OpenList] = {}  # ActionID -> list being collected
        self._login_ids: set[str] = set()
        self._authenticated = False
        self._closed = False
        self.banner: str | None = None

    @property
    def authenticated(self) -> bool:
        """True once a Login got ``Response: Success``."""
        return self._authenticated

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pending_action_ids(self) -> frozenset[str]:
        """ActionIDs sent and not completed yet (the owner fails them when the connection dies)."""
        return frozenset(self._pending)

    def send_action(
        self,
        action: str,
        headers: Iterable[tuple[str, str]] = (),
        *,
        action_id: str | None = None,
    ) -> tuple[str, bytes]:
        """Encode an action with a unique ActionID; returns ``(action_id, bytes_to_write)``."""
        if self._closed:
            raise LocalProtocolError("connection is closed")
        if action_id is None:
            self._counter += 1
            action_id = f"{self._prefix}-{self._counter}"
        elif action_id in self._pending:
            raise LocalProtocolError(f"ActionID {action_id!r} is already pending")
        pairs = [("Action", action), ("ActionID", action_id)]
        pairs.extend((k, v) for k, v in headers if k.lower() != "actionid")
        data = encode(Message(tuple(pairs)))
        self._pending[action_id] = action
        if action.lower() == "login":
            self._login_ids.add(action_id)
        return action_id, data

    def login(
        self, username: str, secret: str, *, events: bool = True, action_id: str | None = None
    ) -> tuple[str, bytes]:
        """Plain-text Login (the secret crosses the wire; prefer ``challenge`` + ``login_md5``)."""
        return self.send_action(*auth.login(username, secret, events=events), action_id=action_id)

    def challenge(self, *, action_id: str | None = None) -> tuple[str, bytes]:
        """Ask for an MD5 challenge; its ``ActionCompleted.response["Challenge"]`` feeds
        ``login_md5``."""
        return self.send_action(*auth.challenge(), action_id=action_id)

    def login_md5(
        self,
        username: str,
        secret: str,
        challenge: str,
        *,
        events: bool = True,
        action_id: str | None = None,
    ) -> tuple[str, bytes]:
        """Login with ``Key: md5(challenge + secret)``: the secret never crosses the wire."""
        request = auth.login_md5(username, secret, challenge, events=events)
        return self.send_action(*request, action_id=action_id)

    def receive_data(self, data: bytes) -> None:
        """Bytes read from the socket; ``b""`` when the peer closed it."""
        self._framer.receive_data(data)

    def next_event(self) -> ClientEvent:
        """The next protocol event, or ``NEED_DATA``. Raises ``RemoteProtocolError``."""
        while True:
            item = self._framer.next_message()
            if item is NEED_DATA:
                return NEED_DATA
            if item is END_OF_STREAM:
                self._closed = True
                return ConnectionClosed()
            if isinstance(item, Banner):
                self.banner = item.text
                return BannerReceived(item.text)
            assert isinstance(item, Message)
            event = self._dispatch(item)
            if event is not None:
                return event

    def _dispatch(self, message: Message) -> ClientEvent | None:
        if message.kind is Kind.RESPONSE:
            return self._on_response(message)
        # Only look at the ActionID while a list is open: most events are plain broadcasts.
        action_id = message.action_id if self._lists else None
        if action_id is not None and action_id in self._lists:
            # List items and the closing event carry the list's ActionID.
            open_list = self._lists[action_id]
            if (message.get("EventList") or "").lower() == "complete":
                del self._lists[action_id]
                self._pending.pop(action_id, None)
                return ActionCompleted(
                    action_id, open_list.response, tuple(open_list.items), message
                )
            open_list.items.append(message)
            return None
        return EventReceived(message)

    def _on_response(self, response: Message) -> ClientEvent | None:
        action_id = response.action_id
        if action_id is None or action_id not in self._pending or action_id in self._lists:
            return UnmatchedResponse(response)
        if (response.get("EventList") or "").lower() == "start":
            self._lists[action_id] = _OpenList(response)
            return None  # the list completes with its Complete event
        del self._pending[action_id]
        if action_id in self._login_ids:
            self._login_ids.discard(action_id)
            if response.name.lower() == "success":
                self._authenticated = True
        return ActionCompleted(action_id, response)

"""The voice-menu walk as a pure state machine: configuration in, prompts to play and a choice out.

Inputs are ``start(now)``, ``key(digits, now)``, ``timeout(now)`` and ``hangup(now)``; each
returns one command for the adapter: ``Collect`` (play prompts, then read keys) or ``Done`` (the
caller's choice). ``now`` is any monotonic seconds value; it is only used for the time spent in
each menu, which goes with the path onto the call row.

Rules: ``*``-style ``repeat`` options replay the menu; an unknown key plays the invalid prompt
and asks again; silence plays the timeout prompt and asks again; after ``max_retries`` such
failures the menu's ``default_action`` is taken. A submenu deeper than ``max_depth`` sends the
caller to an agent (default queue) instead; a submenu action naming a menu above the current one
goes back up to it. Menus leading to each other by default actions cannot keep a silent caller
circling (``MAX_MENU_VISITS``), nor can the repeat key (``MAX_REPEATS`` per menu).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from acd.settings.schema_ivr import IvrAction, IvrFile, Menu
from ivr.prompts import pick

ChoiceKind = Literal["queue", "callback", "self_service", "hangup"]
# A caller who keeps pressing the repeat key is not failing, but must not stay forever either;
# nor may menus whose default actions lead to each other keep a silent caller circling.
MAX_REPEATS = 5
MAX_MENU_VISITS = 20


@dataclass(frozen=True, slots=True)
class Collect:
    """Play ``prompts`` (keys interrupt them), then wait ``timeout_s`` for up to ``max_digits``."""

    prompts: tuple[str, ...]
    timeout_s: float
    max_digits: int


@dataclass(frozen=True, slots=True)
class Done:
    """The walk is over. ``queue`` is always set for queue / callback (default queue filled in)."""

    kind: ChoiceKind
    queue: str | None = None
    priority: int | None = None
    reason: str | None = None
    service: str | None = None  # for self_service: which one ("order_status")


MenuCommand = Collect | Done


class MenuStateError(RuntimeError):
    """An input arrived in the wrong state (before start, or after Done): a bug in the adapter."""


@dataclass(slots=True)
class _Visit:
    menu: str
    depth: int
    entered_at: float
    left_at: float | None = None
    keys: list[str] = field(default_factory=list)
    timeouts: int = 0
    result: str | None = None  # "submenu" or the Done kind that ended the walk here

    def as_dict(self, now: float) -> dict[str, Any]:
        end = self.left_at if self.left_at is not None else now
        return {
            "node": self.menu,
            "entered_at": self.entered_at,
            "seconds": round(max(0.0, end - self.entered_at), 3),
            "keys": list(self.keys),
            "result": self.result,
            "depth": self.depth,
            "timeouts": self.timeouts,
        }


class MenuMachine:
    """One caller's walk through the menus of ``ivr.yaml`` in one language."""

    def __init__(self, ivr: IvrFile, *, language: str, default_queue: str) -> None:
        self._ivr = ivr
        self._menus = {menu.id: menu for menu in ivr.menus}
        self._language = language
        self._default_queue = default_queue
        self._visits: list[_Visit] = []
        self._menu: Menu | None = None
        self._depth = 0
        self._stack: list[str] = []  # menu ids from the start menu down to the current one
        self._failures = 0
        self._repeats = 0
        self._started_at: float | None = None
        self._ended_at: float | None = None
        self.result: Done | None = None

    # --- inputs ----------------------------------------------------------------------------------

    def start(self, now: float) -> MenuCommand:
        if self._started_at is not None:
            raise MenuStateError("the menu walk was already started")
        self._started_at = now
        return self._enter(self._ivr.start_menu, 1, now)

    def key(self, digits: str, now: float) -> MenuCommand:
        """What the caller keyed (GET DATA's digits); anything but one configured key is invalid."""
        menu, visit = self._current()
        visit.keys.append(digits)
        action = menu.options.get(digits) if len(digits) == 1 else None
        if action is None:
            return self._retry(menu, now, self._invalid_prompt(menu))
        if action.type == "repeat":
            self._repeats += 1
            if self._repeats > MAX_REPEATS:
                return self._take(menu.default_action, now)
            return self._ask(menu)
        return self._take(action, now)

    def timeout(self, now: float) -> MenuCommand:
        menu, visit = self._current()
        visit.timeouts += 1
        return self._retry(menu, now, self._timeout_prompt(menu))

    def hangup(self, now: float) -> Done:
        self._current()
        return self._finish(Done("hangup"), now)

    # --- the path for the call row ---------------------------------------------------------------

    def path(self, now: float) -> tuple[dict[str, Any], ...]:
        """One entry per menu visited, in order: node, entered_at (the caller's clock), seconds
        spent, keys pressed there, time-outs, and how the caller left it (``result``)."""
        end = self._ended_at if self._ended_at is not None else now
        return tuple(visit.as_dict(end) for visit in self._visits)

    # --- internals -------------------------------------------------------------------------------

    def _current(self) -> tuple[Menu, _Visit]:
        if self._menu is None or not self._visits:
            raise MenuStateError("the menu walk has not started")
        if self.result is not None:
            raise MenuStateError(f"the menu walk is over ({self.result.kind})")
        return self._menu, self._visits[-1]

    def _enter(self, menu_id: str, depth: int, now: float) -> Collect:
        if self._visits:
            self._visits[-1].left_at = now
            self._visits[-1].result = "submenu"
        menu = self._menus[menu_id]
        self._menu, self._depth = menu, depth
        self._stack = [*self._stack[: depth - 1], menu_id]
        self._failures = self._repeats = 0
        self._visits.append(_Visit(menu.id, depth, now))
        return self._ask(menu)

    def _ask(self, menu: Menu, before: tuple[str, ...] = ()) -> Collect:
        prompts = before + self._pick(menu.prompt)
        # One key per choice: menu keys are single characters (schema_ivr MenuKey).
        return Collect(prompts, menu.timeout_s, 1)

    def _retry(self, menu: Menu, now: float, message: tuple[str, ...]) -> MenuCommand:
        self._failures += 1
        if self._failures > menu.max_retries:
            return self._take(menu.default_action, now)
        return self._ask(menu, message)

    def _take(self, action: IvrAction, now: float) -> MenuCommand:
        if action.type == "submenu":
            assert action.menu is not None  # schema: submenu requires menu
            if action.menu in self._stack:  # back to a menu above: its own depth again
                depth = self._stack.index(action.menu) + 1
            else:
                depth = self._depth + 1
            if depth > self._ivr.max_depth or len(self._visits) >= MAX_MENU_VISITS:
                # Too deep is a configuration mistake: hand over to a person.
                return self._finish(Done("queue", self._default_queue), now)
            return self._enter(action.menu, depth, now)
        if action.type == "queue":
            return self._finish(Done("queue", action.queue, action.priority, action.reason), now)
        if action.type == "self_service":
            return self._finish(Done("self_service", service=action.service), now)
        if action.type == "callback":
            return self._finish(Done("callback", action.queue or self._default_queue), now)
        if action.type == "repeat":  # only reachable as a default action: nobody chose
            return self._finish(Done("queue", self._default_queue), now)
        # "agent": the action's queue, else the default queue
        return self._finish(Done("queue", action.queue or self._default_queue), now)

    def _finish(self, done: Done, now: float) -> Done:
        if self._visits:
            self._visits[-1].left_at = now
            self._visits[-1].result = done.kind
        self._ended_at = now
        self.result = done
        return done

    def _pick(self, prompts: dict[str, tuple[str, ...]] | None) -> tuple[str, ...]:
        if not prompts:
            return ()
        return pick(prompts, self._language, self._ivr.default_language)

    def _invalid_prompt(self, menu: Menu) -> tuple[str, ...]:
        return self._pick(menu.invalid_prompt or self._ivr.invalid_prompt)

    def _timeout_prompt(self, menu: Menu) -> tuple[str, ...]:
        return self._pick(menu.timeout_prompt or self._ivr.timeout_prompt)

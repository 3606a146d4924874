"""Business hours for the IVR: is the queue a caller picked open, and what to do when it is not.

Pure decisions over an aware datetime (the runner passes its wall clock). Menus have no calendar
of their own: a menu is "closed" when every queue it can lead to is closed, so a caller is told
at once instead of walking the menus first. Hours are only checked inside the IVR; a caller
already queued at closing time is still served (the daemon never re-checks after queueing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from acd.settings.schema_ivr import IvrAction, IvrFile
from acd.settings.schema_service import Calendar
from acd.settings.settings import Settings
from ivr.prompts import pick, sound

#: the key that asks for a call-back after the closed message
CALLBACK_KEY = "1"
CALLBACK_OFFER_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class QueueHours:
    """Which calendar each queue follows (``queues.yaml`` ``hours``; a missing one: always open)."""

    calendars: Mapping[str, Calendar | None]

    @classmethod
    def from_settings(cls, settings: Settings) -> QueueHours:
        return cls(
            {
                queue.name: settings.calendar(queue.hours) if queue.hours else None
                for queue in settings.queues
            }
        )

    def closed_calendar(self, queue: str, when: dt.datetime) -> Calendar | None:
        """The queue's calendar when the queue is closed at ``when``; None while open."""
        calendar = self.calendars.get(queue)
        if calendar is None or calendar.is_open(when):
            return None
        return calendar


def reachable_queues(ivr: IvrFile, default_queue: str, self_service_queue: str) -> frozenset[str]:
    """Every queue a caller can end up in from the start menu (agent/default fallbacks included).

    ``self_service_queue`` is where self-service hands a caller over (unknown order number).
    """
    menus = {menu.id: menu for menu in ivr.menus}
    queues = {default_queue}  # depth overflow, repeat defaults, agent without a queue
    seen: set[str] = set()
    todo = [ivr.start_menu]
    while todo:
        menu_id = todo.pop()
        if menu_id in seen or menu_id not in menus:
            continue
        seen.add(menu_id)
        menu = menus[menu_id]
        actions: list[IvrAction] = [*menu.options.values(), menu.default_action]
        for action in actions:
            if action.type == "submenu" and action.menu is not None:
                todo.append(action.menu)
            elif action.queue is not None:
                queues.add(action.queue)
            elif action.type == "self_service":
                queues.add(self_service_queue)
    return frozenset(queues)


def closed_at_start(
    hours: QueueHours, queues: frozenset[str], default_queue: str, when: dt.datetime
) -> Calendar | None:
    """The calendar to announce when *every* reachable queue is closed, else None.

    The default queue's calendar is preferred for the message; any closed one otherwise.
    """
    closed = {queue: hours.closed_calendar(queue, when) for queue in sorted(queues)}
    if any(calendar is None for calendar in closed.values()):
        return None
    return closed.get(default_queue) or next(iter(closed.values()))


ClosedChoice = Literal["callback", "closed"]


@dataclass(frozen=True, slots=True)
class ClosedPlan:
    """What the caller hears when closed: the message, then (maybe) the call-back offer."""

    message: tuple[str, ...]
    offer: tuple[str, ...]  # empty: no call-back offered, just the message


def closed_plan(calendar: Calendar, language: str, default_language: str) -> ClosedPlan:
    message = pick(calendar.closed_message, language, default_language)
    offer = (sound(language, "callback-offer"),) if calendar.offer_callback else ()
    return ClosedPlan(message, offer)


def after_offer(digits: str) -> ClosedChoice:
    """The caller's answer to the call-back offer; anything but the call-back key ends the call."""
    return "callback" if digits == CALLBACK_KEY else "closed"

"""AMI event filters as Asterisk applies them (pure): manager.conf ``eventfilter`` lines of a
user, copied to each session of that user at login.

Traced to main/manager.c (asterisk/asterisk master, 2024-07 "manager: Enhance event filtering
for performance", in 22.x): ``manager_add_filter`` parses ``eventfilter[(options)] = pattern``
(legacy: a regex over the whole event text, a leading ``!`` excludes; advanced: any of
``action(include|exclude)``, ``name(Event)``, ``header(Name)``, ``method(regex|exact|
starts_with|ends_with|contains|none)``; with options the method defaults to ``none`` and a
pattern needs a method), ``filter_cmp_fn`` matches one filter (the event name by hash first;
with ``header`` every line starting with ``Name:`` is tried, its value after blanks; without,
the whole text), ``should_send_event`` combines them: no filters = everything; only includes =
any include matches; only excludes = no exclude matches; both = an include and no exclude.
Filters are applied to queued events only (``process_events``): action responses and the items
of a list action are written to the session directly and are never filtered.

ASSUMPTION (docs/simulator.md): regexes are POSIX extended in Asterisk (``regcomp`` with
REG_EXTENDED, searched anywhere with ``regexec``); Python's ``re.search`` stands in for them,
the same for the patterns hotline ships (it ships none: only ``method(exact)`` and ``none``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from acd.asterisk.ami.message import Message

METHODS = ("regex", "exact", "starts_with", "ends_with", "contains", "none")


@dataclass(frozen=True, slots=True)
class EventFilter:
    exclude: bool
    method: str
    pattern: str = ""
    name: str | None = None  # only events of this name (exact, case-sensitive: a hash)
    header: str | None = None  # "Name:": only this header's values are matched

    def matches(self, message: Message, text: str) -> bool:
        if self.name is not None and message.name != self.name:
            return False
        if self.header is None:
            return self._value(text)
        for line in text.split("\r\n"):
            if line.startswith(self.header):
                value = line[len(self.header) :].lstrip(" \t")
                if value and self._value(value):
                    return True
        return False

    def _value(self, data: str) -> bool:
        match self.method:
            case "regex":
                return re.search(self.pattern, data) is not None
            case "starts_with":
                return data.startswith(self.pattern)
            case "ends_with":
                return data.endswith(self.pattern)
            case "contains":
                return self.pattern in data
            case "exact":
                return data == self.pattern
        return True  # none


def parse_filter(criteria: str, pattern: str) -> EventFilter:
    """``criteria`` is the key (``eventfilter`` or ``eventfilter(...)``), ``pattern`` the value;
    ValueError where Asterisk answers FILTER_FORMAT_ERROR or FILTER_COMPILE_FAIL."""
    exclude = pattern.startswith("!")
    if exclude:
        pattern = pattern[1:]
    start = criteria.find("(")
    if start < 0:
        if not pattern:
            raise ValueError(f"{criteria} = {pattern}: legacy filter with no pattern")
        return EventFilter(exclude, "regex", _compiled(pattern))
    options = criteria[start + 1 :].strip()
    if not options.endswith(")"):
        raise ValueError(f"{criteria}: filter options not formatted correctly")
    method, name, header, found = "none", None, None, False
    for option in (o for o in re.split(r"[ ,)]+", options) if o):
        key, _, value = option.partition("(")
        value = value.strip()
        found = True
        if key == "action" and value in ("include", "exclude"):
            exclude = value == "exclude"
        elif key == "name" and value:
            name = value
        elif key == "header" and value:
            header = value if value.endswith(":") else value + ":"
        elif key == "method" and value in METHODS:
            method = value
        else:
            raise ValueError(f"{criteria}: filter option {option!r} is unknown")
    if not found:
        raise ValueError(f"{criteria}: no action, name, header or method option")
    if (not pattern) != (method == "none"):
        raise ValueError(f"{criteria} = {pattern}: method {method} and the pattern disagree")
    if name is None and header is None and method == "none":
        raise ValueError(f"{criteria}: no name or header and no pattern")
    return EventFilter(
        exclude, method, _compiled(pattern) if method == "regex" else pattern, name, header
    )


def _compiled(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"filter {pattern!r} did not compile: {exc}") from None
    return pattern


def should_send(filters: Sequence[EventFilter], message: Message, text: str) -> bool:
    includes = [f for f in filters if not f.exclude]
    excludes = [f for f in filters if f.exclude]
    if includes and not any(f.matches(message, text) for f in includes):
        return False
    return not any(f.matches(message, text) for f in excludes)


def user_filters(manager_conf: str, username: str) -> tuple[EventFilter, ...]:
    """The ``eventfilter`` lines of ``[username]`` in a manager.conf text, in order."""
    found: list[EventFilter] = []
    section = None
    for raw in manager_conf.splitlines():
        line = raw.split(";", 1)[0].strip()
        if line.startswith("[") and "]" in line:
            section = line[1 : line.index("]")]
        elif section == username and line.startswith("eventfilter") and "=" in line:
            key, _, value = line.partition("=")
            found.append(parse_filter(key.strip(), value.strip()))
    return tuple(found)

"""Parse the subset of extensions.conf that ``hotline dialplan render`` produces.

Supported (SOURCE: pbx/pbx_config.c ``pbx_load_config``): ``[context]`` sections,
``exten => <name>,<priority>,<App>(<data>)`` and ``same => <priority>,<App>(<data>)`` with
numeric priorities, ``n`` and ``n(label)`` / ``<number>(label)``; ``;`` comments (``\\;`` is a
literal semicolon); ``[general]`` options and ``[globals]`` ``NAME=value`` lines. Anything else
(``include =>``, ``#include``, hints, templates, applications the interpreter does not run)
raises ``DialplanError`` naming the file and line, so a change to the render cannot make the
simulator silently run something other than what Asterisk would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from acd.sim.dialplan_pattern import Pattern, PatternError, compile_pattern

#: applications the interpreter runs (acd/sim/dialplan_apps.py); names as Asterisk registers them
SUPPORTED_APPS = frozenset(
    {
        "AGI",
        "Answer",
        "Dial",
        "ExecIf",
        "Goto",
        "GotoIf",
        "Hangup",
        "MixMonitor",
        "MSet",
        "MusicOnHold",
        "NoOp",
        "Queue",
        "Return",
        "Set",
        "UserEvent",
        "Wait",
    }
)
_APPS_BY_LOWER = {name.lower(): name for name in SUPPORTED_APPS}
_GENERAL_OPTIONS = frozenset(
    {"static", "writeprotect", "clearglobalvars", "autofallthrough", "extenpatternmatchnew"}
)
_PRIORITY = re.compile(r"^(?P<number>\d+|n)(?:\((?P<label>[^()]*)\))?$")


class DialplanError(Exception):
    """An extensions.conf line the simulator cannot run (or a runtime failure on one)."""

    def __init__(self, message: str, *, source: str = "", line: int = 0) -> None:
        where = f"{source}:{line}: " if line else (f"{source}: " if source else "")
        super().__init__(where + message)
        self.source = source
        self.line = line


@dataclass(frozen=True, slots=True)
class Step:
    """One priority: its application and raw (unsubstituted) data, and where it was written."""

    priority: int
    label: str | None
    app: str
    data: str
    line: int


@dataclass(eq=False)
class Extension:
    pattern: Pattern
    steps: dict[int, Step] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.pattern.text


@dataclass(eq=False)
class Context:
    name: str
    extensions: list[Extension] = field(default_factory=list)

    def find(self, exten: str) -> Extension | None:
        """The extension Asterisk runs for ``exten``: literal first, then the best pattern."""
        return next((e for e in self.extensions if e.pattern.matches(exten)), None)

    def named(self, name: str) -> Extension | None:
        return next((e for e in self.extensions if e.name == name), None)


@dataclass(eq=False)
class Dialplan:
    source: str
    contexts: dict[str, Context] = field(default_factory=dict)
    globals: dict[str, str] = field(default_factory=dict)

    def find(self, context: str, exten: str) -> Extension | None:
        ctx = self.contexts.get(context)
        return None if ctx is None else ctx.find(exten)

    def priority_of(self, context: str, exten: str, priority: str) -> int | None:
        """A numeric priority or a label of ``context``/``exten``; None if it does not exist."""
        found = self.find(context, exten)
        if found is None:
            return None
        number = int(priority) if priority.isdigit() else found.labels.get(priority)
        return number if number is not None and number in found.steps else None


def _strip_comment(raw: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "\\" and i + 1 < len(raw) and raw[i + 1] == ";":
            out.append(";")
            i += 2
            continue
        if c == ";":
            break
        out.append(c)
        i += 1
    return "".join(out).strip()


def _split_app(text: str) -> tuple[str, str]:
    """``App(data)`` -> (App, data); a bare ``App`` has no data (pbx_config.c)."""
    if "(" not in text:
        return text.strip(), ""
    name, _, rest = text.partition("(")
    if not rest.endswith(")"):
        raise ValueError(f"application data must end with ')': {text!r}")
    return name.strip(), rest[:-1]


class _Parser:
    def __init__(self, source: str) -> None:
        self.plan = Dialplan(source)
        self.section = ""
        self.last: Extension | None = None
        self.last_priority = 0

    def error(self, message: str, line: int) -> DialplanError:
        return DialplanError(message, source=self.plan.source, line=line)

    def feed(self, line_no: int, raw: str) -> None:
        text = _strip_comment(raw)
        if not text:
            return
        if text.startswith("#"):
            raise self.error(f"directive not supported: {text}", line_no)
        if text.startswith("["):
            self._section(line_no, text)
            return
        key, sep, value = text.partition("=>") if "=>" in text else text.partition("=")
        if not sep:
            raise self.error(f"not a dialplan line: {text}", line_no)
        key, value = key.strip(), value.strip()
        if self.section == "general":
            if key not in _GENERAL_OPTIONS:
                raise self.error(f"[general] option not supported: {key}", line_no)
        elif self.section == "globals":
            self.plan.globals[key] = value
        elif key == "exten":
            self._exten(line_no, value)
        elif key == "same":
            self._same(line_no, value)
        else:
            raise self.error(f"{key!r} lines are not supported", line_no)

    def _section(self, line_no: int, text: str) -> None:
        match = re.fullmatch(r"\[([^\]\[()!]+)\]", text)
        if match is None:
            raise self.error(f"context header not supported: {text}", line_no)
        self.section = match.group(1)
        self.last = None
        if self.section not in ("general", "globals"):
            if self.section in self.plan.contexts:
                raise self.error(f"context [{self.section}] defined twice", line_no)
            self.plan.contexts[self.section] = Context(self.section)

    def _exten(self, line_no: int, value: str) -> None:
        name, sep, rest = value.partition(",")
        if not sep or not self.section or self.section in ("general", "globals"):
            raise self.error(f"exten outside a context or without a priority: {value}", line_no)
        name = name.strip()
        if "/" in name:
            raise self.error(f"caller-id matching is not supported: {name}", line_no)
        context = self.plan.contexts[self.section]
        ext = context.named(name)
        if ext is None:
            try:
                ext = Extension(compile_pattern(name))
            except PatternError as exc:
                raise self.error(str(exc), line_no) from None
            context.extensions.append(ext)
            context.extensions.sort(key=lambda e: e.pattern.key)
        self.last, self.last_priority = ext, 0
        self._step(line_no, ext, rest)

    def _same(self, line_no: int, value: str) -> None:
        if self.last is None:
            raise self.error("'same =>' without an extension before it", line_no)
        self._step(line_no, self.last, value)

    def _step(self, line_no: int, ext: Extension, value: str) -> None:
        prio_text, sep, app_text = value.partition(",")
        match = _PRIORITY.match(prio_text.strip())
        if not sep or match is None:
            raise self.error(f"priority not supported: {prio_text.strip()!r}", line_no)
        number = self.last_priority + 1 if match["number"] == "n" else int(match["number"])
        try:
            app, data = _split_app(app_text.strip())
        except ValueError as exc:
            raise self.error(str(exc), line_no) from None
        canonical = _APPS_BY_LOWER.get(app.lower())
        if canonical is None:
            raise self.error(f"application {app}() is not supported by the simulator", line_no)
        if number in ext.steps:
            raise self.error(f"priority {number} of {ext.name} defined twice", line_no)
        label = match["label"] or None
        ext.steps[number] = Step(number, label, canonical, data, line_no)
        if label:
            ext.labels[label] = number
        self.last_priority = number


def parse_dialplan(text: str, source: str = "extensions.conf") -> Dialplan:
    """The contexts of ``text``; raises ``DialplanError`` on anything not supported."""
    parser = _Parser(source)
    for line_no, raw in enumerate(text.splitlines(), start=1):
        parser.feed(line_no, raw)
    return parser.plan

"""Check a ``dialplan/`` directory against acd/settings/names.py and the current config.

The dialplan is data the daemon cannot see at run time, so drift shows up only as calls that
silently go nowhere. This catches: an AGI route the daemon does not serve, a hotline context
that does not send the caller to [hotline-resume] after the IVR AGI, a [hotline-resume] that
does not test HOTLINE_DONE (AGISTATUS=SUCCESS proves nothing), an AGI URL
that says ?answered=1 in [hotline] before any Answer(), a missing [hotline-predial] (the
Dial's pre-dial handler that stores the caller's place) or [hotline-answer] (the Dial's Gosub
on the answered agent's leg that starts the recording), HOTLINE_*
variables nobody sets, queues.conf queues that differ from queues.yaml, and any file that is not
what ``dialplan render`` makes now.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from acd.settings import names
from acd.settings.errors import ConfigIssue
from acd.settings.pbx_conf_render import render_all
from acd.settings.settings import Settings

_AGI_URL = re.compile(r"AGI\(agi://[^/,)]+/([^?,)]*)")
_AGI_QUERY = re.compile(r"AGI\(agi://[^/,)]+/[^?,)]*(\?[^,)]*)?")
# the FastAGI key placeholder, substituted at install (not a channel variable)
_KEY_PLACEHOLDER = re.compile(r"[?&]key=\$\{[A-Z][A-Z0-9_]*\}")
_VARIABLE = re.compile(r"\bHOTLINE_[A-Z0-9_]+\b")
_SECTION = re.compile(r"^\[([^\]]+)\]")
_DONE = f"${{{names.VAR_DONE}}}"
_ANSWERED_DIAL = f'"${{{names.ASTERISK_DIALSTATUS}}}"="ANSWER"'
# the answered Dial's test must exclude the leg a transfer hung up (the order of the two sides
# is the rendered one; an "=" there would mean the opposite)
_NOT_TRANSFERRED = f'"${{{names.VAR_TRANSFERRED}}}"!="${{{names.ASTERISK_DIALEDPEERNAME}}}"'
# the Answer application as a priority's application, with or without its parentheses
_ANSWER_APP = re.compile(r",\s*answer\s*(\(|$)", re.IGNORECASE)


@dataclass(frozen=True)
class DialplanReport:
    issues: tuple[ConfigIssue, ...]
    diffs: dict[str, str] = field(default_factory=dict)  # file -> unified diff vs a fresh render


def _code(line: str) -> str:
    """The line without its ``;`` comment (``\\;`` is an escaped semicolon)."""
    return re.split(r"(?<!\\);", line, maxsplit=1)[0].rstrip()


def check_extensions(text: str, file: str = "dialplan/extensions.conf") -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    context = ""
    ivr_seen = resumed = done_checked = records = confirms = places = False
    says_answered = answer_checked = transfer_checked = False
    answered_here = False  # an Answer() earlier in this context
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _code(raw)
        where = f"line {number}"
        section = _SECTION.match(line.strip())
        if section:
            context = section.group(1)
            answered_here = False
            continue
        if _ANSWER_APP.search(line):
            answered_here = True
        for route in _AGI_URL.findall(line):
            if route not in names.ROUTES:
                issues.append(
                    ConfigIssue(
                        file,
                        where,
                        f"unknown AGI route {route!r} (expected one of {list(names.ROUTES)})",
                    )
                )
            if context == names.CONTEXT_HOTLINE and route == names.ROUTE_IVR:
                ivr_seen = True
        for query in _AGI_QUERY.findall(line):
            flagged = names.QUERY_ANSWERED in (query or "")
            says_answered = says_answered or flagged
            if flagged and context == names.CONTEXT_HOTLINE and not answered_here:
                # the other contexts' channels are up already: [hotline-resume] runs after
                # [hotline]'s AGI(), [hotline-callback] once the customer answered
                issues.append(
                    ConfigIssue(
                        file,
                        where,
                        f"AGI URL says ?{names.QUERY_ANSWERED} but no Answer() comes before it"
                        f" in [{names.CONTEXT_HOTLINE}]: the daemon sends no ANSWER on such"
                        " sessions, so the caller's channel would stay unanswered (unless the"
                        f" dialplan answered it before sending it to [{names.CONTEXT_HOTLINE}])",
                    )
                )
            if not _KEY_PLACEHOLDER.search(query or ""):
                issues.append(
                    ConfigIssue(
                        file,
                        where,
                        "AGI URL without the FastAGI key (expected ?key=${HOTLINE_AGI_KEY}, as"
                        " `hotline dialplan render` writes it): the daemon refuses such sessions",
                    )
                )
        for variable in _VARIABLE.findall(_KEY_PLACEHOLDER.sub("", line)):
            if variable not in names.CHANNEL_VARIABLES:
                issues.append(
                    ConfigIssue(
                        file,
                        where,
                        f"unknown channel variable {variable} (expected one of"
                        f" {list(names.CHANNEL_VARIABLES)} from acd/settings/names.py)",
                    )
                )
        if context == names.CONTEXT_HOTLINE and ivr_seen and f"({names.CONTEXT_RESUME}," in line:
            resumed = True
        if context == names.CONTEXT_RESUME and "GotoIf(" in line and _DONE in line:
            done_checked = True
        if context == names.CONTEXT_RESUME and "GotoIf(" in line and _ANSWERED_DIAL in line:
            answer_checked = True
            transfer_checked = transfer_checked or _NOT_TRANSFERRED in line
        if context == names.CONTEXT_ANSWER and "MixMonitor(" in line:
            records = True
        if context == names.CONTEXT_ANSWER and "Return(${MIXMONITOR_FILENAME})" in line:
            confirms = True
        if context == names.CONTEXT_PREDIAL and f"MSet({names.VAR_QUEUE}=" in line:
            places = True
    if not ivr_seen:
        issues.append(
            ConfigIssue(
                file, f"[{names.CONTEXT_HOTLINE}]", f"no AGI to the {names.ROUTE_IVR!r} route"
            )
        )
    elif not resumed:
        issues.append(
            ConfigIssue(
                file,
                f"[{names.CONTEXT_HOTLINE}]",
                f"the IVR AGI is not followed by a Goto({names.CONTEXT_RESUME},s,1): AGISTATUS="
                "SUCCESS alone does not prove the daemon finished with the caller (it is also"
                " what a daemon that died gives)",
            )
        )
    issues += _resume_issues(
        file,
        done=done_checked or not ivr_seen,
        answer=answer_checked or not says_answered,
        transfer=transfer_checked or not answer_checked,
    )
    if ivr_seen and not places:
        issues.append(
            ConfigIssue(
                file,
                f"[{names.CONTEXT_PREDIAL}]",
                "missing, or without its MSet(): the daemon's Dial stores the caller's place"
                " there (option B), so a caller rung at once would lose their place should the"
                " daemon die",
            )
        )
    if ivr_seen and not (records and confirms):
        issues.append(
            ConfigIssue(
                file,
                f"[{names.CONTEXT_ANSWER}]",
                "missing, or without its MixMonitor() or Return(${MIXMONITOR_FILENAME}): the"
                " daemon's Dial starts the recording there when the agent answers (option U),"
                " so answered calls would go unrecorded",
            )
        )
    return issues


def _resume_issues(file: str, *, done: bool, answer: bool, transfer: bool) -> list[ConfigIssue]:
    """[hotline-resume]'s checks, each True when present or not needed: HOTLINE_DONE, an
    answered Dial (with ?answered=1), and a transfer's leg excluded from the answered Dial."""
    issues: list[ConfigIssue] = []
    if not done:
        issues.append(
            ConfigIssue(
                file,
                f"[{names.CONTEXT_RESUME}]",
                f"missing the {names.VAR_DONE} check (expected a GotoIf on"
                f' "${{{names.VAR_DONE}}}"="1"): without it a caller is never known finished',
            )
        )
    if not answer:
        issues.append(
            ConfigIssue(
                file,
                f"[{names.CONTEXT_RESUME}]",
                f"an AGI URL says ?{names.QUERY_ANSWERED} but the"
                f' "${{{names.ASTERISK_DIALSTATUS}}}"="ANSWER" check is missing: the daemon'
                f" sets no {names.VAR_DONE} after an answered call, so its caller would be"
                " offered to a daemon again",
            )
        )
    if not transfer:
        issues.append(
            ConfigIssue(
                file,
                f"[{names.CONTEXT_RESUME}]",
                f'the "${{{names.ASTERISK_DIALSTATUS}}}"="ANSWER" check does not exclude a'
                f" transfer (${{{names.VAR_TRANSFERRED}}} equal to"
                f" ${{{names.ASTERISK_DIALEDPEERNAME}}}): a transferred caller whose daemon dies"
                " before queueing them again would be let go",
            )
        )
    return issues


def check_queues_conf(
    text: str, settings: Settings, file: str = "dialplan/queues.conf"
) -> list[ConfigIssue]:
    sections = [
        m.group(1) for m in (_SECTION.match(_code(line)) for line in text.splitlines()) if m
    ]
    found = {s for s in sections if s != "general"}
    wanted = {q.name for q in settings.queues}
    issues = [
        ConfigIssue(file, f"[{name}]", "queue missing from queues.conf (it is in queues.yaml)")
        for name in sorted(wanted - found)
    ]
    issues += [
        ConfigIssue(file, f"[{name}]", "queue not in queues.yaml (expected only configured queues)")
        for name in sorted(found - wanted)
    ]
    return issues


def check_dialplan(dialplan_dir: Path, settings: Settings) -> DialplanReport:
    issues: list[ConfigIssue] = []
    diffs: dict[str, str] = {}
    for name, fresh in render_all(settings).items():
        label = f"dialplan/{name}"
        path = dialplan_dir / name
        if not path.is_file():
            issues.append(ConfigIssue(label, "", f"file not found: {path}"))
            continue
        text = path.read_text(encoding="utf-8")
        if name == "extensions.conf":
            issues += check_extensions(text, label)
        elif name == "queues.conf":
            issues += check_queues_conf(text, settings, label)
        if text != fresh:
            diff = difflib.unified_diff(
                text.splitlines(keepends=True),
                fresh.splitlines(keepends=True),
                fromfile=f"{label} (on disk)",
                tofile=f"{label} (rendered from config)",
            )
            diffs[name] = "".join(diff)
            issues.append(
                ConfigIssue(label, "", "stale: differs from `hotline dialplan render` (see diff)")
            )
    return DialplanReport(tuple(issues), diffs)

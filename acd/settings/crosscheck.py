"""Checks that span files: every name used in one file must be defined in another.

Each check returns ``ConfigIssue`` values located where the bad *reference* is written, since
that is the line the operator has to change.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from acd.settings.errors import ConfigIssue
from acd.settings.phones_check import check_phones
from acd.settings.schema_ivr import IvrAction, IvrFile
from acd.settings.schema_recording import RecordingFile
from acd.settings.schema_routing import AGENTS_TARGET, AgentsFile, QueuesFile
from acd.settings.schema_service import HoursFile


@dataclass(frozen=True, slots=True)
class ParsedFiles:
    queues: QueuesFile
    agents: AgentsFile
    ivr: IvrFile
    hours: HoursFile
    recording: RecordingFile


def _unknown(
    file: str, path: str, kind: str, value: str, known: Collection[str], *, where: str = ""
) -> ConfigIssue:
    """``unknown skill 'billing' (expected one of queues.yaml: after_sales, orders)``."""
    listed = ", ".join(sorted(known)) or "(none defined)"
    source = f" {where}" if where else ""
    return ConfigIssue(file, path, f"unknown {kind} {value!r} (expected one of{source}: {listed})")


def _duplicates(file: str, label: str, items: Iterable[tuple[str, str]]) -> list[ConfigIssue]:
    """``items`` are (key path, value); every repeat after the first is reported."""
    seen: dict[str, str] = {}
    issues = []
    for path, value in items:
        if value in seen:
            message = f"duplicate {label} {value!r} (first at {seen[value]})"
            issues.append(ConfigIssue(file, path, message))
        else:
            seen[value] = path
    return issues


def check_queues(files: ParsedFiles) -> list[ConfigIssue]:
    q = files.queues
    f = "queues.yaml"
    skills = set(q.skills)
    names = {queue.name for queue in q.queues}
    calendars = {cal.name for cal in files.hours.calendars}
    issues = _duplicates(f, "skill", ((f"skills[{i}]", s) for i, s in enumerate(q.skills)))
    issues += _duplicates(
        f, "queue name", ((f"queues[{i}].name", x.name) for i, x in enumerate(q.queues))
    )
    if q.default_queue not in names:
        issues.append(_unknown(f, "default_queue", "queue", q.default_queue, names))
    for i, queue in enumerate(q.queues):
        at = f"queues[{i}]"
        if queue.skill not in skills:
            issues.append(_unknown(f, f"{at}.skill", "skill", queue.skill, skills))
        if queue.hours is not None and queue.hours not in calendars:
            issues.append(
                _unknown(f, f"{at}.hours", "calendar", queue.hours, calendars, where="hours.yaml")
            )
        for j, step in enumerate(queue.overflow):
            for k, skill in enumerate(step.skills):
                if skill not in skills:
                    path = f"{at}.overflow[{j}].skills[{k}]"
                    issues.append(_unknown(f, path, "skill", skill, skills))
            if step.queue is not None and (step.queue not in names or step.queue == queue.name):
                path = f"{at}.overflow[{j}].queue"
                others = names - {queue.name}
                issues.append(
                    _unknown(f, path, "queue", step.queue, others, where="the other queues")
                )
        allowed = queue.transfers.agents_may_transfer_to or ()
        for j, target in enumerate(allowed):
            if target != AGENTS_TARGET and target not in names:
                path = f"{at}.transfers.agents_may_transfer_to[{j}]"
                known = names | {AGENTS_TARGET}
                issues.append(_unknown(f, path, "transfer target", target, known))
    return issues


def check_agents(files: ParsedFiles) -> list[ConfigIssue]:
    f = "agents.yaml"
    agents = files.agents.agents
    skills = set(files.queues.skills)
    issues = _duplicates(f, "agent id", ((f"agents[{i}].id", a.id) for i, a in enumerate(agents)))
    issues += _duplicates(
        f, "endpoint", ((f"agents[{i}].endpoint", a.endpoint) for i, a in enumerate(agents))
    )
    # Two dial strings can reach one softphone (PJSIP/1001 and Local/1001@...): also a duplicate.
    already = {issue.path for issue in issues}
    softphones = ((f"agents[{i}].endpoint", a.softphone) for i, a in enumerate(agents))
    issues += [i for i in _duplicates(f, "softphone", softphones) if i.path not in already]
    for i, agent in enumerate(agents):
        for skill in agent.skills:
            path = f"agents[{i}].skills.{skill}"
            if skill not in skills:
                issues.append(_unknown(f, path, "skill", skill, skills, where="queues.yaml skills"))
    supervisors = files.agents.supervisors
    issues += _duplicates(
        f, "supervisor id", ((f"supervisors[{i}].id", s.id) for i, s in enumerate(supervisors))
    )
    reasons = files.agents.pause_reasons
    issues += _duplicates(
        f,
        "pause reason code",
        ((f"pause_reasons[{i}].code", r.code) for i, r in enumerate(reasons)),
    )
    issues += _duplicates(
        f,
        "pause reason name",
        ((f"pause_reasons[{i}].name", r.name) for i, r in enumerate(reasons)),
    )
    return issues


def _action_issues(files: ParsedFiles, path: str, action: IvrAction) -> list[ConfigIssue]:
    queues = {q.name for q in files.queues.queues}
    menus = {m.id for m in files.ivr.menus}
    issues = []
    if action.queue is not None and action.queue not in queues:
        issues.append(
            _unknown(
                "ivr.yaml", f"{path}.queue", "queue", action.queue, queues, where="queues.yaml"
            )
        )
    if action.menu is not None and action.menu not in menus:
        issues.append(_unknown("ivr.yaml", f"{path}.menu", "menu", action.menu, menus))
    return issues


def _prompt_issues(
    languages: tuple[str, ...], path: str, prompts: dict[str, tuple[str, ...]] | None
) -> list[ConfigIssue]:
    if prompts is None:
        return []
    issues = []
    missing = [lang for lang in languages if lang not in prompts]
    if missing:
        message = f"missing languages {missing} (expected a sound for each of {list(languages)})"
        issues.append(ConfigIssue("ivr.yaml", path, message))
    for lang in prompts:
        if lang not in languages:
            issues.append(_unknown("ivr.yaml", f"{path}.{lang}", "language", lang, languages))
    return issues


def check_ivr(files: ParsedFiles) -> list[ConfigIssue]:
    ivr = files.ivr
    f = "ivr.yaml"
    langs = ivr.languages
    issues = _duplicates(f, "menu id", ((f"menus[{i}].id", m.id) for i, m in enumerate(ivr.menus)))
    issues += _prompt_issues(langs, "invalid_prompt", ivr.invalid_prompt)
    issues += _prompt_issues(langs, "timeout_prompt", ivr.timeout_prompt)
    for i, menu in enumerate(ivr.menus):
        at = f"menus[{i}]"
        issues += _prompt_issues(langs, f"{at}.prompt", menu.prompt)
        issues += _prompt_issues(langs, f"{at}.invalid_prompt", menu.invalid_prompt)
        issues += _prompt_issues(langs, f"{at}.timeout_prompt", menu.timeout_prompt)
        for key, action in menu.options.items():
            issues += _action_issues(files, f"{at}.options.{key}", action)
        issues += _action_issues(files, f"{at}.default_action", menu.default_action)
    index = {m.id: i for i, m in enumerate(ivr.menus)}
    if ivr.start_menu not in index:
        issues.append(_unknown(f, "start_menu", "menu", ivr.start_menu, index))
        return issues
    return issues + _depth_issues(ivr, index)


def _depth_issues(ivr: IvrFile, index: dict[str, int]) -> list[ConfigIssue]:
    """Walk submenus from the start menu: no loops, no deeper than max_depth, none unreachable."""
    issues: list[ConfigIssue] = []
    reached: set[str] = set()

    def walk(menu_id: str, depth: int, trail: tuple[str, ...]) -> None:
        reached.add(menu_id)
        i = index[menu_id]
        for key, action in ivr.menus[i].options.items():
            if action.type != "submenu" or action.menu not in index:
                continue
            path = f"menus[{i}].options.{key}.menu"
            if action.menu in trail:
                loop = " -> ".join((*trail, action.menu))
                message = f"submenu loop {loop} (expected menus to form a tree)"
                issues.append(ConfigIssue("ivr.yaml", path, message))
            elif depth + 1 > ivr.max_depth:
                message = f"menu depth {depth + 1} exceeds max_depth {ivr.max_depth}"
                issues.append(ConfigIssue("ivr.yaml", path, message))
            else:
                walk(action.menu, depth + 1, (*trail, action.menu))

    walk(ivr.start_menu, 1, (ivr.start_menu,))
    for i, menu in enumerate(ivr.menus):
        if menu.id not in reached:
            message = f"menu {menu.id!r} is not reachable from start_menu {ivr.start_menu!r}"
            issues.append(ConfigIssue("ivr.yaml", f"menus[{i}].id", message))
    return issues


def check_other(files: ParsedFiles) -> list[ConfigIssue]:
    cals = files.hours.calendars
    issues = _duplicates(
        "hours.yaml",
        "calendar name",
        ((f"calendars[{i}].name", c.name) for i, c in enumerate(cals)),
    )
    queues = {q.name for q in files.queues.queues}
    for i, name in enumerate(files.recording.qa.always_review.queues):
        if name not in queues:
            path = f"qa.always_review.queues[{i}]"
            issues.append(
                _unknown("recording.yaml", path, "queue", name, queues, where="queues.yaml")
            )
    return issues


def cross_check(files: ParsedFiles) -> list[ConfigIssue]:
    return (
        check_queues(files)
        + check_agents(files)
        + check_ivr(files)
        + check_other(files)
        + check_phones(files.agents)
    )

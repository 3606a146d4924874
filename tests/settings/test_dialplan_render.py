"""The dialplan renderer: deterministic, and the shipped dialplan/ is what it renders now."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from acd.settings import names
from acd.settings.dialplan_check import check_dialplan, check_extensions
from acd.settings.dialplan_render import render_extensions_conf
from acd.settings.loader import load_settings
from acd.settings.pbx_conf_render import render_all
from acd.settings.settings import Settings
from tests.settings.conftest import SHIPPED_CONFIG, SHIPPED_DIALPLAN, Edit


def shipped() -> Settings:
    return load_settings(SHIPPED_CONFIG, env={}, require_secrets=False)


def test_render_is_deterministic() -> None:
    first = render_all(shipped())
    second = render_all(shipped())
    assert first == second
    assert list(first) == [
        "extensions.conf",
        "queues.conf",
        "pjsip.conf",
        "manager.conf",
        "musiconhold.conf",
    ]


def test_shipped_dialplan_equals_a_fresh_render() -> None:
    for name, text in render_all(shipped()).items():
        assert (SHIPPED_DIALPLAN / name).read_text(encoding="utf-8") == text, name
    report = check_dialplan(SHIPPED_DIALPLAN, shipped())
    assert report.issues == ()
    assert report.diffs == {}


def test_hotline_context_resumes_after_the_ivr_agi() -> None:
    text = render_all(shipped())["extensions.conf"]
    hotline = text.split("[hotline]\n", 1)[1].split("\n[", 1)[0]
    code = [line for line in hotline.splitlines() if not line.startswith(";")]
    agi = next(
        i
        for i, line in enumerate(code)
        if "AGI(agi://127.0.0.1:4573/ivr?answered=1&key=${HOTLINE_AGI_KEY}," in line
    )
    assert code[agi + 1] == " same => n,Goto(hotline-resume,s,1)"
    assert "Set(HOTLINE_RESUMES=0)" in code[agi - 1]


def test_resume_context_is_done_only_when_the_daemon_says_so() -> None:
    text = render_all(shipped())["extensions.conf"]
    resume = text.split("[hotline-resume]\n", 1)[1].split("\n[", 1)[0]
    code = [line for line in resume.splitlines() if not line.startswith(";")]
    done = [line for line in code if line.endswith("?done)")]
    assert done == [
        ' same => n,GotoIf($["${AGISTATUS}"="HANGUP"]?done)',
        ' same => n,GotoIf($["${HOTLINE_DONE}"="1"]?done)',
        ' same => n,GotoIf($["${DIALSTATUS}"="ANSWER"'
        ' & "${HOTLINE_TRANSFERRED}"!="${DIALEDPEERNAME}"]?done)',
    ]
    last = names.RESUME_ATTEMPTS
    assert f" same => n,GotoIf($[${{HOTLINE_RESUMES}}>={last}]?hotline-fallback,s,1)" in code
    # no standby configured: a restarted daemon at the same address
    (agi,) = [line for line in code if "AGI(" in line]
    assert agi == (
        " same => n,AGI(agi://127.0.0.1:4573/resume?answered=1&key=${HOTLINE_AGI_KEY},${HOTLINE_CALL_ID},"
        "${HOTLINE_QUEUE},${HOTLINE_PRIORITY},${HOTLINE_SINCE},${HOTLINE_ARRIVED},"
        "${HOTLINE_RESUMES})"
    )


def test_resume_tries_the_standby_first_then_the_active_address() -> None:
    settings = shipped()
    fastagi = settings.fastagi.model_copy(update={"standby_host": "192.0.2.12"})
    system = settings.system.model_copy(update={"fastagi": fastagi})
    text = render_extensions_conf(settings.model_copy(update={"system": system}))
    resume = text.split("[hotline-resume]\n", 1)[1].split("\n[", 1)[0]
    agis = [line for line in resume.splitlines() if "n,AGI(" in line or "),AGI(" in line]
    assert [line.split("/resume")[0].split("AGI(")[1] for line in agis] == [
        "agi://127.0.0.1:4573",
        "agi://192.0.2.12:4573",
    ]
    assert " same => n,GotoIf($[${HOTLINE_RESUMES}%2]?other)" in resume
    assert "n(other),AGI(agi://192.0.2.12:4573/resume" in resume


def test_fallback_sets_queue_prio_from_the_daemons_priority() -> None:
    text = render_all(shipped())["extensions.conf"]
    fallback = text.split("[hotline-fallback]\n", 1)[1]
    assert (
        ' same => n,ExecIf($["${HOTLINE_PRIORITY}"!=""]?Set(QUEUE_PRIO=${HOTLINE_PRIORITY}))'
        in fallback
    )


def test_fallback_has_one_queue_per_configured_queue() -> None:
    settings = shipped()
    text = render_all(settings)["extensions.conf"]
    for queue in settings.queues:
        timeout = queue.fallback.queue_timeout_s
        assert f"exten => {queue.name},1,Queue({queue.name},t,,,{timeout})\n" in text
    assert "?enquiries:${HOTLINE_QUEUE}" in text  # default queue when the IVR chose none


def test_feature_codes_use_the_agent_route_and_avoid_n_patterns() -> None:
    text = render_all(shipped())["extensions.conf"]
    for code, action in (("*11", "login"), ("*12", "logout"), ("*14", "unpause")):
        url = f"agi://127.0.0.1:4573/agent?action={action}&key=${{HOTLINE_AGI_KEY}}"
        assert f"exten => {code},1,AGI({url})" in text
    patterns = re.findall(r"^exten => (_\S+?),", text, flags=re.MULTILINE)
    assert patterns  # _X. and _*13.
    assert all("N" not in p[1:] and "n" not in p[1:] for p in patterns)


def test_queues_conf_members_follow_skills() -> None:
    text = render_all(shipped())["queues.conf"]
    complaints = text.split("[complaints]\n", 1)[1].split("\n[", 1)[0]
    members = re.findall(r"^member => (.*)$", complaints, flags=re.MULTILINE)
    # penalty = 5 - skill level, so experts are tried first
    assert members == [
        "PJSIP/1003,2,Zhang Min,PJSIP/1003",
        "PJSIP/1005,0,Chen Jing,PJSIP/1005",
        "PJSIP/1006,1,Zhao Lei,PJSIP/1006",
    ]
    assert "strategy = ringall" in complaints
    assert "timeout = 20" in complaints


def test_no_secret_is_rendered() -> None:
    env = {"HOTLINE_AMI_SECRET": "s3cr3t-ami"}
    settings = load_settings(SHIPPED_CONFIG, env=env, require_secrets=False)
    files = render_all(settings)
    assert all("s3cr3t-ami" not in text for text in files.values())
    assert "secret = ${HOTLINE_AMI_SECRET}" in files["manager.conf"]
    assert "password = ${HOTLINE_SIP_PASSWORD_1001}" in files["pjsip.conf"]
    assert "permit = 127.0.0.1/255.255.255.255" in files["manager.conf"]
    assert "read = all" not in files["manager.conf"]


def test_fastagi_address_comes_from_config(config_dir: Path, edit: Edit) -> None:
    edit("hotline.yaml", lambda d: d["fastagi"].update(host="10.0.0.5", port=4600))
    settings = load_settings(config_dir, env={}, require_secrets=False)
    text = render_all(settings)["extensions.conf"]
    assert "AGI(agi://10.0.0.5:4600/ivr?answered=1&key=${HOTLINE_AGI_KEY}," in text
    assert "127.0.0.1:4573" not in text
    report = check_dialplan(SHIPPED_DIALPLAN, settings)
    assert "extensions.conf" in report.diffs
    assert (
        "+ same => n,AGI(agi://10.0.0.5:4600/ivr?answered=1&key=" in report.diffs["extensions.conf"]
    )


def test_check_extensions_flags_unknown_route_and_variable() -> None:
    text = "[hotline]\nexten => s,1,AGI(agi://127.0.0.1:4573/billing?key=${HOTLINE_AGI_KEY},x)\n"
    text += " same => n,Set(HOTLINE_MOOD=happy)\n"
    issues = [str(i) for i in check_extensions(text, "x.conf")]
    assert issues == [
        f"x.conf: line 2: unknown AGI route 'billing' (expected one of {list(names.ROUTES)})",
        "x.conf: line 3: unknown channel variable HOTLINE_MOOD (expected one of"
        f" {list(names.CHANNEL_VARIABLES)} from acd/settings/names.py)",
        "x.conf: [hotline]: no AGI to the 'ivr' route",
    ]


def test_check_extensions_flags_an_agi_url_without_the_key() -> None:
    text = "[hotline]\nexten => s,1,AGI(agi://127.0.0.1:4573/ivr?lang=en,x)\n"
    issues = [str(i) for i in check_extensions(text, "x.conf")]
    assert issues[0].startswith("x.conf: line 2: AGI URL without the FastAGI key")


def _context(text: str, name: str) -> list[str]:
    body = text.split(f"[{name}]\n", 1)[1].split("\n[", 1)[0]
    return [line for line in body.splitlines() if not line.startswith(";")]


def test_predial_context_stores_the_place_with_the_dials_arguments() -> None:
    text = render_all(shipped())["extensions.conf"]
    place = "MSet(HOTLINE_QUEUE=${ARG1},HOTLINE_PRIORITY=${ARG2},HOTLINE_SINCE=${ARG3})"
    assert _context(text, names.CONTEXT_PREDIAL) == [
        f"exten => place,1,{place}",
        " same => n,Return()",
    ]


def test_answer_context_records_and_hands_the_file_back_to_the_caller() -> None:
    # U(<context>^<args>) is Gosub(<context>,s,1(<args>)); a GOSUB_RESULT app_dial does not
    # act on lets it bridge and copy GOSUB_RETVAL to the caller (apps/app_dial.c)
    text = render_all(shipped())["extensions.conf"]
    assert _context(text, names.CONTEXT_ANSWER) == [
        "exten => s,1,MixMonitor(${ARG1},${ARG2})",
        f" same => n,Set(GOSUB_RESULT={names.GOSUB_RESULT_RECORDING})",
        " same => n,Return(${MIXMONITOR_FILENAME})",
    ]
    assert names.GOSUB_RESULT_RECORDING not in (
        "ABORT", "BUSY", "CONGESTION", "CHANUNAVAIL", "CONTINUE"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("context", "says"),
    [
        (names.CONTEXT_PREDIAL, "x.conf: [hotline-predial]: missing, or without its MSet()"),
        (names.CONTEXT_ANSWER, "x.conf: [hotline-answer]: missing, or without its MixMonitor()"),
    ],
)
def test_check_extensions_flags_a_dialplan_without_the_dials_contexts(
    context: str, says: str
) -> None:
    text = render_all(shipped())["extensions.conf"]
    head, _, rest = text.partition(f"[{context}]")
    stale = head + rest[rest.index("\n[") :]
    assert check_extensions(text, "x.conf") == []
    issues = [str(i) for i in check_extensions(stale, "x.conf")]
    assert len(issues) == 1
    assert issues[0].startswith(says)


def test_check_extensions_flags_answered_urls_without_the_dialstatus_check() -> None:
    # ?answered=1 tells the daemon it need not set HOTLINE_DONE after an answered call: the
    # [hotline-resume] must then end the caller on DIALSTATUS=ANSWER itself
    text = render_all(shipped())["extensions.conf"]
    check = (
        ' same => n,GotoIf($["${DIALSTATUS}"="ANSWER"'
        ' & "${HOTLINE_TRANSFERRED}"!="${DIALEDPEERNAME}"]?done)\n'
    )
    assert check in text
    issues = [str(i) for i in check_extensions(text.replace(check, ""), "x.conf")]
    assert len(issues) == 1
    assert issues[0].startswith("x.conf: [hotline-resume]: an AGI URL says ?answered=1 but")
    own = text.replace(check, "").replace("?answered=1&", "?")  # a dialplan of one's own
    assert check_extensions(own, "x.conf") == []


def test_check_extensions_flags_an_answered_dial_check_that_lets_a_transferred_caller_go() -> None:
    # A dialplan rendered before HOTLINE_TRANSFERRED: a daemon dying between a transfer's
    # Hangup of the agent's leg and the caller's next place leaves DIALSTATUS=ANSWER
    text = render_all(shipped())["extensions.conf"]
    marker = ' & "${HOTLINE_TRANSFERRED}"!="${DIALEDPEERNAME}"'
    assert text.count(marker) == 1
    for wrong in ("", marker.replace("!=", "=")):  # missing, or the opposite test
        issues = [str(i) for i in check_extensions(text.replace(marker, wrong), "x.conf")]
        assert len(issues) == 1, wrong
        assert issues[0].startswith('x.conf: [hotline-resume]: the "${DIALSTATUS}"="ANSWER"')
        assert "transferred caller" in issues[0]


def test_check_extensions_flags_answered_urls_in_the_entry_context_before_any_answer() -> None:
    # ?answered=1 makes the daemon skip its ANSWER: [hotline] must have answered the caller
    text = render_all(shipped())["extensions.conf"]
    answer = " same => n,Answer()\n"
    assert text.count(answer) == 1
    issues = [str(i) for i in check_extensions(text.replace(answer, ""), "x.conf")]
    assert len(issues) == 1
    assert "says ?answered=1 but no Answer() comes before it in [hotline]" in issues[0]
    own = text.replace(answer, "").replace("/ivr?answered=1&", "/ivr?")  # the daemon answers
    assert check_extensions(own, "x.conf") == []
    # Asterisk's other spellings of the same application answer the caller too
    for spelled in (" same => n,Answer\n", " same => n,answer(500)\n"):
        assert check_extensions(text.replace(answer, spelled), "x.conf") == [], spelled

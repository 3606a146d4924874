"""Security settings: secret strength and uniqueness, tokens bound to agents, the FastAGI key
in the rendered dialplan (never its value), the least-privilege AMI user and its check."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from acd.cli.main import main
from acd.settings.ami_privileges import AMI_READ, AMI_WRITE, check_manager_conf
from acd.settings.errors import ConfigError
from acd.settings.loader import load_settings
from acd.settings.pbx_conf_render import render_all
from acd.settings.schema_callbacks import CallbackSettings
from acd.settings.secret_checks import estimated_bits, weakness
from tests.settings.conftest import SECRETS, SHIPPED_CONFIG, Edit

OLD_MANAGER_CONF = """[general]
enabled = yes
[hotline]
secret = ${HOTLINE_AMI_SECRET}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = system,call,agent,dialplan,reporting
write = system,call,agent,originate,reporting
"""


def _problems(config: Path, env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(config, env=env)
    return [str(issue) for issue in caught.value.issues]


@pytest.mark.parametrize(
    ("value", "strong"),
    [
        # fixed samples of secrets.token_urlsafe / token_hex: a random one made this test flaky
        ("uBLL--aNDwkzYjavWttCKg", True),  # token_urlsafe(16), no digit: still 128 bits
        ("Zx3_kQ9vT0bWmN4-pLr8sA", True),  # token_urlsafe(16)
        ("9f2c4e7a1b3d5f6e8a0c2e4b6d8f1a3c", True),  # token_hex(16): 32 hex digits
        ("q8Zr3_Vb-2LmXw9K", False),  # token_urlsafe(12), 16 characters: 96 bits
        ("9f2c4e7a1b3d5f6e8a0c2e4b6d8f1a", False),  # token_hex(15)
        ("k3j5h7g9f1d3s5a7p9o1i3u5", False),  # 24 lower-case letters and digits: 124 bits
        ("t-admin", False),
        ("a" * 64, False),  # long but not random
        ("ab" * 40, False),
    ],
)
def test_secret_strength(value: str, strong: bool) -> None:
    assert (weakness(value) is None) is strong, (value, estimated_bits(value))


def test_weak_and_repeated_tokens_are_refused_one_per_role() -> None:
    env = {
        **SECRETS,
        "HOTLINE_TOKEN_QA": "t-qa",
        "HOTLINE_TOKEN_ADMIN": SECRETS["HOTLINE_AMI_SECRET"],
    }
    problems = _problems(SHIPPED_CONFIG, env)
    assert any("http.tokens[2].token_env: the HTTP API token 'qa': expected at least 128" in p
               for p in problems)  # fmt: skip
    assert any(
        "ami.secret_env: the AMI secret is the same value as http.tokens[3].token_env" in p
        for p in problems
    )
    # no secret value is ever part of an error
    assert not any(SECRETS["HOTLINE_AMI_SECRET"] in p or "t-qa" in p for p in problems)


def test_the_same_token_for_two_roles_is_refused() -> None:
    env = {**SECRETS, "HOTLINE_TOKEN_ADMIN": SECRETS["HOTLINE_TOKEN_VIEWER"]}
    problems = _problems(SHIPPED_CONFIG, env)
    assert problems == [
        "hotline.yaml: http.tokens[3].token_env: the HTTP API token 'admin' is the same value as"
        " http.tokens[0].token_env: expected a different secret for each (one token per role)"
    ]


def test_an_agent_token_must_name_its_agent(config_dir: Path, edit: Edit) -> None:
    def shared(data: dict[str, Any]) -> None:
        data["http"]["tokens"].append({"name": "desk", "role": "agent", "token_env": "T_DESK"})

    edit("hotline.yaml", shared)
    with pytest.raises(ConfigError, match="role agent expects 'agent'"):
        load_settings(config_dir, env=SECRETS)

    def bound(data: dict[str, Any]) -> None:
        data["http"]["tokens"][-1].update(agent="9999", supervisor="nobody")

    edit("hotline.yaml", bound)
    problems = _problems(config_dir, {**SECRETS, "T_DESK": secrets.token_urlsafe(24)})
    assert any("http.tokens[4].agent: unknown agent '9999'" in p for p in problems)
    assert any("http.tokens[4].supervisor: unknown supervisor 'nobody'" in p for p in problems)


def test_fastagi_key_is_required_strong_and_url_safe() -> None:
    env = {k: v for k, v in SECRETS.items() if k != "HOTLINE_AGI_KEY"}
    assert any("fastagi.key_env: environment variable HOTLINE_AGI_KEY is not set" in p
               for p in _problems(SHIPPED_CONFIG, env))  # fmt: skip
    bad = {**SECRETS, "HOTLINE_AGI_KEY": "Zp4&kR9,mT2)qW7$vB5nX1c!"}
    assert any("expected only A-Z a-z 0-9 - _" in p for p in _problems(SHIPPED_CONFIG, bad))


def test_http_beyond_loopback_needs_tls(config_dir: Path, edit: Edit) -> None:
    edit("hotline.yaml", lambda d: d["http"].update(host="0.0.0.0"))
    assert any("http.host: 0.0.0.0 is reachable from other hosts" in p
               for p in _problems(config_dir, SECRETS))  # fmt: skip
    tls = {"cert_file": "/etc/hotline/https.pem", "key_file": "/etc/hotline/https.key"}
    edit("hotline.yaml", lambda d: d["http"].update(tls=tls))
    assert load_settings(config_dir, env=SECRETS).http.tls is not None


def test_rendered_files_hold_placeholders_never_secrets() -> None:
    settings = load_settings(SHIPPED_CONFIG, env=SECRETS)
    files = render_all(settings)
    for text in files.values():
        for value in SECRETS.values():
            assert value not in text
    agi = [line for line in files["extensions.conf"].splitlines() if "AGI(agi://" in line]
    assert len(agi) >= 9
    assert all("key=${HOTLINE_AGI_KEY}" in line for line in agi)
    assert "secret = ${HOTLINE_AMI_SECRET}" in files["manager.conf"]


def test_manager_conf_grants_no_system_write_class() -> None:
    assert "system" not in AMI_WRITE.split(",")
    assert AMI_WRITE == "call,originate,reporting"
    # ContactStatus (phone quality) is a system event; reading it grants no action
    assert AMI_READ == "call,system,agent"
    text = render_all(load_settings(SHIPPED_CONFIG, env=SECRETS))["manager.conf"]
    assert f"write = {AMI_WRITE}" in text
    assert f"read = {AMI_READ}" in text
    assert check_manager_conf(text, "hotline", "manager.conf") == []


def test_manager_conf_check_reports_system_unneeded_and_missing_classes() -> None:
    problems = [str(i) for i in check_manager_conf(OLD_MANAGER_CONF, "hotline", "m.conf")]
    assert not any("read grants system" in p for p in problems)  # read: events only
    assert any("line 8: write grants system" in p for p in problems)
    assert any("read: grants dialplan, reporting, which the daemon does not use" in p
               for p in problems)  # fmt: skip
    short = OLD_MANAGER_CONF.replace("system,call,agent,originate,reporting", "call")
    assert any("write: missing originate, reporting" in str(i)
               for i in check_manager_conf(short, "hotline", "m.conf"))  # fmt: skip
    assert [str(i) for i in check_manager_conf(OLD_MANAGER_CONF, "acd", "m.conf")] == [
        "m.conf: [acd]: no such AMI user (hotline.yaml ami.username)"
    ]
    remote = OLD_MANAGER_CONF.replace("permit = 127.0.0.1", "permit = 10.0.0.0")
    assert any("loopback" in str(i) for i in check_manager_conf(remote, "hotline", "m.conf"))


def test_check_config_compares_an_installed_manager_conf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    installed = tmp_path / "manager.conf"
    installed.write_text(OLD_MANAGER_CONF)
    args = ["check-config", "--config", str(SHIPPED_CONFIG), "--dialplan", str(tmp_path / "no")]
    assert main([*args, "--manager-conf", str(installed)]) == 2
    out = capsys.readouterr().out
    assert "write grants system" in out
    rendered = render_all(load_settings(SHIPPED_CONFIG, env=SECRETS))["manager.conf"]
    installed.write_text(rendered)
    main([*args, "--manager-conf", str(installed), "--json"])
    assert "grants" not in capsys.readouterr().out


def test_callbacks_dial_national_numbers_only_by_default() -> None:
    policy = CallbackSettings()
    assert policy.number_allowed("13812345678")
    assert policy.number_allowed("05550100")
    assert not policy.number_allowed("0088612345678")  # international prefix
    assert not policy.number_allowed("+4412345678")
    assert not CallbackSettings(allowed_numbers=(r"1[3-9][0-9]{9}",)).number_allowed("5550100")
    with pytest.raises(ValueError, match="regular expression"):
        CallbackSettings(allowed_numbers=("(",))


def test_mqtt_password_comes_from_the_environment(config_dir: Path, edit: Edit) -> None:
    edit(
        "hotline.yaml",
        lambda d: d["mqtt"].update(username="hotline-acd", password_env="HOTLINE_MQTT_PASSWORD"),
    )
    assert any("mqtt.password_env: environment variable HOTLINE_MQTT_PASSWORD is not set" in p
               for p in _problems(config_dir, SECRETS))  # fmt: skip
    settings = load_settings(config_dir, env={**SECRETS, "HOTLINE_MQTT_PASSWORD": "pw-1"})
    assert settings.mqtt.password is not None
    assert settings.mqtt.password.get_secret_value() == "pw-1"
    assert "pw-1" not in settings.model_dump_json()
    edit("hotline.yaml", lambda d: d["mqtt"].update(password="pw-1"))
    with pytest.raises(ConfigError, match="must not be written in a file"):
        load_settings(config_dir, env=SECRETS)


def test_manager_conf_check_wants_event_filters_that_let_the_daemons_events_through() -> None:
    shipped = render_all(load_settings(SHIPPED_CONFIG, env=SECRETS))["manager.conf"]
    unfiltered = "\n".join(
        line for line in shipped.splitlines() if not line.startswith("eventfilter")
    )
    (issue,) = check_manager_conf(unfiltered, "hotline", "m.conf")
    assert "eventfilter: none: Asterisk sends this user every call event" in str(issue)
    no_phones = shipped.replace("eventfilter(action(include),name(ContactStatus)) =\n", "")
    assert "holds back ContactStatus" in str(check_manager_conf(no_phones, "hotline", "m"))
    no_devices = shipped.replace("eventfilter(action(include),name(DeviceStateChange)) =\n", "")
    (issue,) = check_manager_conf(no_devices, "hotline", "m.conf")
    assert "holds back DeviceStateChange, which the daemon needs" in str(issue)
    excluded = shipped + "eventfilter(action(exclude),name(ChanSpyStop)) =\n"
    (issue,) = check_manager_conf(excluded, "hotline", "m.conf")
    assert "holds back ChanSpyStop" in str(issue)
    broken = shipped + "eventfilter(name(DialEnd),method(exact)) =\n"
    (issue,) = check_manager_conf(broken, "hotline", "m.conf")
    assert "Asterisk would refuse it" in str(issue)

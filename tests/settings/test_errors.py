"""Every kind of config error names the file, the key path and what was expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from acd.settings.errors import ConfigError
from acd.settings.loader import load_settings
from tests.settings.conftest import SECRETS, Edit


def errors(config_dir: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir, env=SECRETS)
    return [str(issue) for issue in caught.value.issues]


def test_wrong_type(config_dir: Path, edit: Edit) -> None:
    edit("queues.yaml", lambda d: d["queues"][2]["relax"][0].update(after_s="soon"))
    assert errors(config_dir) == [
        "queues.yaml: queues[2].relax[0].after_s: expected a valid number, got 'soon'"
    ]


def test_out_of_range_and_literal(config_dir: Path, edit: Edit) -> None:
    def change(d: dict[str, Any]) -> None:
        d["agents"][0]["skills"]["orders"] = 7
        d["agents"][1]["endpoint"] = "SIP/1002"

    edit("agents.yaml", change)
    assert errors(config_dir) == [
        "agents.yaml: agents[0].skills.orders: expected less than or equal to 5, got 7",
        "agents.yaml: agents[1].endpoint: expected PJSIP/<device> or"
        " Local/<exten>@<context>[/n], got 'SIP/1002'",
    ]


def test_literal_choice(config_dir: Path, edit: Edit) -> None:
    edit("queues.yaml", lambda d: d["queues"][0].update(policy="random"))
    assert errors(config_dir) == [
        "queues.yaml: queues[0].policy: expected 'longest_idle', 'fewest_calls', 'round_robin'"
        " or 'skill_level', got 'random'"
    ]


def test_unknown_key(config_dir: Path, edit: Edit) -> None:
    edit("hotline.yaml", lambda d: d["mqtt"].update(qos=1))
    assert errors(config_dir) == [
        "hotline.yaml: mqtt.qos: unknown key (expected one of: host, port, topic_prefix,"
        " client_id, buffer_size, username, password_env, tls)"
    ]


def test_unknown_key_in_list_item(config_dir: Path, edit: Edit) -> None:
    edit("queues.yaml", lambda d: d["queues"][1]["overflow"][0].update(colour="red"))
    assert errors(config_dir) == [
        "queues.yaml: queues[1].overflow[0].colour: unknown key (expected one of: after_s,"
        " action, skills, queue)"
    ]


def test_pattern_mismatch(config_dir: Path, edit: Edit) -> None:
    edit("queues.yaml", lambda d: d["queues"][0].update(skill="Orders"))
    assert errors(config_dir) == [
        "queues.yaml: queues[0].skill: expected text matching '^[a-z][a-z0-9_]*$', got 'Orders'"
    ]


def test_missing_required_key(config_dir: Path, edit: Edit) -> None:
    edit("agents.yaml", lambda d: d["agents"][1].pop("name"))
    assert errors(config_dir) == ["agents.yaml: agents[1].name: required key is missing"]


def test_action_needs_its_keys(config_dir: Path, edit: Edit) -> None:
    edit("ivr.yaml", lambda d: d["menus"][1]["options"]["2"].pop("queue"))
    assert errors(config_dir) == [
        "ivr.yaml: menus[1].options.2: action type 'queue' expects key 'queue'"
    ]


def test_bad_yaml_reports_line_and_column(config_dir: Path) -> None:
    (config_dir / "targets.yaml").write_text("aht_s: 180\ncsat: [0.95\nfcr: 0.85\n")
    [message] = errors(config_dir)
    assert message.startswith("targets.yaml:3:4: YAML syntax error: ")


def test_duplicate_yaml_key(config_dir: Path) -> None:
    (config_dir / "targets.yaml").write_text("aht_s: 180\ncsat: 0.9\naht_s: 200\n")
    assert errors(config_dir) == ["targets.yaml:3:1: YAML syntax error: duplicate key 'aht_s'"]


def test_missing_file(config_dir: Path) -> None:
    (config_dir / "hours.yaml").unlink()
    assert errors(config_dir) == [f"hours.yaml: file not found: {config_dir / 'hours.yaml'}"]


def test_missing_config_dir(tmp_path: Path) -> None:
    assert errors(tmp_path / "nope") == [f"{tmp_path / 'nope'}: config directory not found"]


def test_unknown_skill_reference(config_dir: Path, edit: Edit) -> None:
    edit("agents.yaml", lambda d: d["agents"][0]["skills"].update(billing=3))
    assert errors(config_dir) == [
        "agents.yaml: agents[0].skills.billing: unknown skill 'billing' (expected one of"
        " queues.yaml skills: after_sales, complaints, general, orders)"
    ]


def test_duplicate_endpoint(config_dir: Path, edit: Edit) -> None:
    edit("agents.yaml", lambda d: d["agents"][2].update(endpoint="PJSIP/1001"))
    assert errors(config_dir) == [
        "agents.yaml: agents[2].endpoint: duplicate endpoint 'PJSIP/1001'"
        " (first at agents[0].endpoint)"
    ]


def test_same_softphone_through_local_is_a_duplicate(config_dir: Path, edit: Edit) -> None:
    edit("agents.yaml", lambda d: d["agents"][2].update(endpoint="Local/1001@hotline-agents/n"))
    assert errors(config_dir) == [
        "agents.yaml: agents[2].endpoint: duplicate softphone '1001' (first at agents[0].endpoint)"
    ]


def test_cross_file_references(config_dir: Path, edit: Edit) -> None:
    def queues(d: dict[str, Any]) -> None:
        d["queues"][0]["hours"] = "night"
        d["queues"][0]["overflow"][1]["queue"] = "sales"

    edit("queues.yaml", queues)
    edit("ivr.yaml", lambda d: d["menus"][2]["options"]["1"].update(queue="returns"))
    assert errors(config_dir) == [
        "queues.yaml: queues[0].hours: unknown calendar 'night' (expected one of hours.yaml:"
        " business, extended)",
        "queues.yaml: queues[0].overflow[1].queue: unknown queue 'sales' (expected one of the"
        " other queues: after_sales, complaints, enquiries)",
        "ivr.yaml: menus[2].options.1.queue: unknown queue 'returns' (expected one of"
        " queues.yaml: after_sales, complaints, enquiries, orders)",
    ]


def test_menu_depth_and_loops(config_dir: Path, edit: Edit) -> None:
    def change(d: dict[str, Any]) -> None:
        d["max_depth"] = 2
        d["menus"][1]["options"]["3"] = {"type": "submenu", "menu": "after_sales"}
        d["menus"][2]["options"]["7"] = {"type": "submenu", "menu": "main"}

    edit("ivr.yaml", change)
    assert errors(config_dir) == [
        "ivr.yaml: menus[1].options.3.menu: menu depth 3 exceeds max_depth 2",
        "ivr.yaml: menus[2].options.7.menu: submenu loop main -> after_sales -> main"
        " (expected menus to form a tree)",
    ]


def test_reserved_queue_name(config_dir: Path, edit: Edit) -> None:
    edit("queues.yaml", lambda d: d["queues"][3].update(name="general"))
    [first, *_] = errors(config_dir)
    assert first == (
        "queues.yaml: queues[3].name: expected a queue name other than ['a', 'e', 'general',"
        " 'h', 'i', 'o', 's', 't'] (reserved by queues.conf / the dialplan), got 'general'"
    )


def test_errors_from_several_files_are_all_reported(config_dir: Path, edit: Edit) -> None:
    edit("hotline.yaml", lambda d: d["ami"].update(port="abc"))
    edit("recording.yaml", lambda d: d["qa"].update(sample_rate=1.5))
    (config_dir / "targets.yaml").unlink()
    assert errors(config_dir) == [
        "hotline.yaml: ami.port: expected a valid integer, got 'abc'",
        "recording.yaml: qa.sample_rate: expected less than or equal to 1, got 1.5",
        f"targets.yaml: file not found: {config_dir / 'targets.yaml'}",
    ]


def test_bad_mapping_key_and_unknown_key_in_ivr_action(config_dir: Path, edit: Edit) -> None:
    edit("hours.yaml", lambda d: d["calendars"][1]["weekly"].update(monday=["09:00-18:00"]))
    edit("ivr.yaml", lambda d: d["menus"][0]["options"]["1"].update(colour="red"))
    assert errors(config_dir) == [
        "ivr.yaml: menus[0].options.1.colour: unknown key (expected one of: type, queue,"
        " priority, reason, menu, service)",
        "hours.yaml: calendars[1].weekly.monday: invalid key: expected 'mon', 'tue', 'wed',"
        " 'thu', 'fri', 'sat' or 'sun', got 'monday'",
    ]


def test_prompt_languages_must_match(config_dir: Path, edit: Edit) -> None:
    edit("ivr.yaml", lambda d: d["menus"][3].update(prompt={"zh": "hotline/zh/c", "fr": "x/y"}))
    assert errors(config_dir) == [
        "ivr.yaml: menus[3].prompt: missing languages ['en'] (expected a sound for each of"
        " ['zh', 'en'])",
        "ivr.yaml: menus[3].prompt.fr: unknown language 'fr' (expected one of: en, zh)",
    ]

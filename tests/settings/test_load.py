"""The shipped config loads into frozen settings; secrets come only from the environment."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from acd.settings.errors import ConfigError, ConfigIssue
from acd.settings.loader import load_settings
from tests.settings.conftest import SECRETS, SHIPPED_CONFIG, Edit


def test_shipped_config_loads() -> None:
    settings = load_settings(SHIPPED_CONFIG, env=SECRETS)
    assert [q.name for q in settings.queues] == ["orders", "after_sales", "complaints", "enquiries"]
    assert len(settings.agents) == 6
    assert [m.id for m in settings.ivr.menus] == ["main", "orders", "after_sales", "complaints"]
    orders = settings.queue("orders")
    assert orders.ring_timeout_rings == 3
    assert orders.ring_timeout_s == 9.0
    assert [(r.after_s, r.min_level) for r in orders.relax] == [(10.0, 2), (20.0, 1)]
    assert settings.default_queue == "enquiries"
    assert settings.fastagi.backlog >= 64
    assert settings.mqtt.topic_prefix == "hotline"
    assert settings.database.url == "sqlite+aiosqlite:///var/hotline.db"
    assert settings.targets.service_level_s == 15.0
    assert settings.targets.answered_within_rings.target == 0.95
    assert settings.recording.qa.sample_rate == 0.10
    assert sum(i.weight for i in settings.recording.qa.scorecard("standard").items) == 100


def test_ivr_menus_carry_reasons_and_priorities() -> None:
    settings = load_settings(SHIPPED_CONFIG, env=SECRETS)
    after_sales = settings.menu("after_sales")
    reasons = [a.reason for k, a in sorted(after_sales.options.items()) if a.type == "queue"]
    assert reasons == [
        "return_or_exchange",
        "refund_status",
        "item_missing",
        "late_delivery",
        "damaged_in_transit",
        "quality_problem",
    ]
    complaints = settings.menu("complaints")
    priorities = {a.priority for a in complaints.options.values() if a.type == "queue"}
    assert priorities == {7}
    assert settings.menu("main").options["*"].type == "repeat"
    assert settings.menu("main").options["0"].type == "agent"
    assert settings.menu("orders").options["1"].service == "order_status"


def test_members_and_retention_helpers() -> None:
    settings = load_settings(SHIPPED_CONFIG, env=SECRETS)
    assert {a.id for a in settings.members("complaints")} == {"1003", "1005", "1006"}
    assert settings.retention_days("complaints") == 730
    assert settings.retention_days("orders") == settings.recording.retention_days
    with pytest.raises(KeyError):
        settings.queue("nope")


def test_secrets_resolved_from_env_and_never_printed() -> None:
    settings = load_settings(SHIPPED_CONFIG, env=SECRETS)
    secret = settings.ami.secret
    assert secret is not None
    value = SECRETS["HOTLINE_AMI_SECRET"]
    assert secret.get_secret_value() == value
    assert value not in repr(settings)
    assert value not in str(settings.ami)
    assert value not in settings.model_dump_json()
    agi_key = settings.fastagi.key
    assert agi_key is not None
    assert agi_key.get_secret_value() == SECRETS["HOTLINE_AGI_KEY"]
    assert SECRETS["HOTLINE_AGI_KEY"] not in settings.model_dump_json()
    tokens = {t.name: t.token for t in settings.http.tokens}
    assert tokens["admin"] is not None
    assert tokens["admin"].get_secret_value() == SECRETS["HOTLINE_TOKEN_ADMIN"]


def test_settings_are_frozen() -> None:
    settings = load_settings(SHIPPED_CONFIG, env=SECRETS)
    with pytest.raises(pydantic.ValidationError):
        setattr(settings.queues[0], "priority", 9)  # noqa: B010 - bypass the type checker


def test_unset_secret_env_is_an_error_unless_not_required() -> None:
    env = {k: v for k, v in SECRETS.items() if k != "HOTLINE_TOKEN_QA"}
    with pytest.raises(ConfigError) as caught:
        load_settings(SHIPPED_CONFIG, env=env)
    assert caught.value.issues == (
        ConfigIssue(
            "hotline.yaml",
            "http.tokens[2].token_env",
            "environment variable HOTLINE_TOKEN_QA is not set (expected the HTTP API token 'qa')",
        ),
    )
    settings = load_settings(SHIPPED_CONFIG, env={}, require_secrets=False)
    assert settings.ami.secret is None


def test_secret_written_in_file_is_refused(config_dir: Path, edit: Edit) -> None:
    edit("hotline.yaml", lambda d: d["ami"].update(secret="plaintext"))
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir, env=SECRETS)
    [issue] = caught.value.issues
    assert str(issue) == (
        "hotline.yaml: ami: 'secret' must not be written in a file: set secret_env to the name"
        " of an environment variable holding it"
    )
    assert "plaintext" not in str(caught.value)

"""queues.yaml ``transfers``: who may transfer a queue's calls where; errors name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.settings.errors import ConfigError
from acd.settings.loader import load_settings
from acd.settings.schema_routing import TransferRules
from tests.settings.conftest import SECRETS, Edit


def errors(config_dir: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir, env=SECRETS)
    return [str(issue) for issue in caught.value.issues]


def test_shipped_rules_and_defaults(config_dir: Path) -> None:
    settings = load_settings(config_dir, env=SECRETS)
    assert settings.queue("complaints").transfers.agents_may_transfer_to == ("agents",)
    assert settings.queue("orders").transfers == TransferRules()  # not set: the defaults
    assert TransferRules().agents_may_transfer_to is None  # anywhere
    assert TransferRules().require_reason is True
    assert TransferRules().priority_boost == 5


def test_unknown_key_in_transfers(config_dir: Path, edit: Edit) -> None:
    edit("queues.yaml", lambda d: d["queues"][0].update(transfers={"allow": ["orders"]}))
    assert errors(config_dir) == [
        "queues.yaml: queues[0].transfers.allow: unknown key (expected one of:"
        " agents_may_transfer_to, require_reason, priority_boost)"
    ]


def test_transfer_target_must_be_a_queue_or_agents(config_dir: Path, edit: Edit) -> None:
    rules = {"agents_may_transfer_to": ["orders", "billing"]}
    edit("queues.yaml", lambda d: d["queues"][0].update(transfers=rules))
    [message] = errors(config_dir)
    assert message.startswith(
        "queues.yaml: queues[0].transfers.agents_may_transfer_to[1]:"
        " unknown transfer target 'billing' (expected one of: after_sales, agents,"
    )


def test_priority_boost_range(config_dir: Path, edit: Edit) -> None:
    edit("queues.yaml", lambda d: d["queues"][0].update(transfers={"priority_boost": 11}))
    assert errors(config_dir) == [
        "queues.yaml: queues[0].transfers.priority_boost: expected less than or equal to 10, got 11"
    ]

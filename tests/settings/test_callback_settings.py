"""The ``callbacks`` section of queues.yaml: shipped values, defaults and every error named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from acd.settings.errors import ConfigError
from acd.settings.loader import load_settings
from acd.settings.pbx_conf_render import render_extensions_conf
from tests.settings.conftest import SECRETS, SHIPPED_CONFIG, Edit


def errors(config_dir: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir, env=SECRETS)
    return [str(issue) for issue in caught.value.issues]


def callbacks(edit: Edit, **values: Any) -> None:
    edit("queues.yaml", lambda d: d["callbacks"].update(values))


def test_shipped_callbacks() -> None:
    cb = load_settings(SHIPPED_CONFIG, env={}, require_secrets=False).callbacks
    assert cb.channel.format(number="13800138000") == "PJSIP/13800138000@trunk"
    assert (cb.max_attempts, cb.retry_after_s, cb.calling_hours) == (3, 600.0, (9, 20))
    assert cb.caller_id == '"Hotline" <4008001234>'


def test_section_is_optional(config_dir: Path, edit: Edit) -> None:
    edit("queues.yaml", lambda d: d.pop("callbacks"))
    cb = load_settings(config_dir, env=SECRETS).callbacks
    assert (cb.channel, cb.max_attempts, cb.calling_hours) == ("PJSIP/{number}@trunk", 3, (9, 20))


@pytest.mark.parametrize(
    "channel",
    ["PJSIP/trunk", "PJSIP/{num}@trunk", "PJSIP/{number}@{trunk}", "{number}", "PJSIP/{number"],
)
def test_channel_needs_exactly_the_number_placeholder(
    config_dir: Path, edit: Edit, channel: str
) -> None:
    callbacks(edit, channel=channel)
    assert errors(config_dir) == [
        "queues.yaml: callbacks.channel: expected a dial string with one {number} placeholder,"
        f" e.g. 'PJSIP/{{number}}@trunk', got {channel!r}"
    ]


def test_calling_hours_must_be_ordered_hours(config_dir: Path, edit: Edit) -> None:
    callbacks(edit, calling_hours=[20, 9])
    assert errors(config_dir) == [
        "queues.yaml: callbacks: calling_hours expected [start, end) with start < end, got [20, 9]"
    ]


def test_out_of_range_and_unknown_keys(config_dir: Path, edit: Edit) -> None:
    callbacks(edit, max_attempts=0, calling_hours=[9, 25], trunk="x")
    assert errors(config_dir) == [
        "queues.yaml: callbacks.max_attempts: expected greater than or equal to 1, got 0",
        "queues.yaml: callbacks.calling_hours[1]: expected less than or equal to 24, got 25",
        "queues.yaml: callbacks.trunk: unknown key (expected one of: channel, caller_id,"
        " max_attempts, retry_after_s, ring_timeout_s, calling_hours, slot_capacity,"
        " check_every_s, allowed_numbers)",
    ]


def test_dialplan_has_the_callback_context() -> None:
    text = render_extensions_conf(load_settings(SHIPPED_CONFIG, env={}, require_secrets=False))
    context = text.split("[hotline-callback]\n", 1)[1].split("\n\n", 1)[0]
    assert (
        "AGI(agi://127.0.0.1:4573/callback?answered=1&key=${HOTLINE_AGI_KEY},${HOTLINE_CALLBACK_ID})"
        in context
    )
    assert "Goto(hotline-resume,s,1)" in context  # done only when the daemon says so

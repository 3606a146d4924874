"""Pause reasons in agents.yaml: what the desktop offers and ``*13<code>`` keys, checked once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from acd.settings.errors import ConfigError
from acd.settings.loader import load_settings
from tests.settings.conftest import SECRETS, SHIPPED_CONFIG, Edit


def test_shipped_reasons_are_found_by_name_or_code() -> None:
    settings = load_settings(SHIPPED_CONFIG, env=SECRETS)
    assert [r.name for r in settings.pause_reasons][:2] == ["break", "lunch"]
    assert settings.pause_reason("lunch") == "lunch"
    assert settings.pause_reason("2") == "lunch"  # *132 on the phone
    assert settings.pause_reason("coffee") is None
    assert settings.pause_reason("99") is None
    free = settings.model_copy(update={"pause_reasons": ()})
    assert free.pause_reason("coffee") == "coffee"  # none configured: any reason, as before


def _add(edit: Edit, *reasons: dict[str, str]) -> None:
    def change(data: dict[str, Any]) -> None:
        data["pause_reasons"] += list(reasons)

    edit("agents.yaml", change)


def test_hotlines_own_reasons_and_long_codes_are_refused(config_dir: Path, edit: Edit) -> None:
    _add(
        edit,
        {"code": "8", "name": "unspecified", "label": "?"},
        {"code": "123", "name": "long", "label": "Too long a code"},
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir, env=SECRETS)
    assert [str(i) for i in caught.value.issues] == [
        "agents.yaml: pause_reasons[6].name: 'unspecified' is set by hotline itself; "
        "pick another name",
        "agents.yaml: pause_reasons[7].code: expected text matching '^[0-9]{1,2}$', got '123'",
    ]


def test_a_code_or_name_given_twice_is_refused(config_dir: Path, edit: Edit) -> None:
    _add(
        edit,
        {"code": "1", "name": "smoke", "label": "Smoke"},  # the code of "break"
        {"code": "7", "name": "lunch", "label": "Late lunch"},
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir, env=SECRETS)
    assert [str(i) for i in caught.value.issues] == [
        "agents.yaml: pause_reasons[6].code: duplicate pause reason code '1' "
        "(first at pause_reasons[0].code)",
        "agents.yaml: pause_reasons[7].name: duplicate pause reason name 'lunch' "
        "(first at pause_reasons[1].name)",
    ]

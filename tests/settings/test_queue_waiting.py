"""Per-queue waiting settings (music class, announcements, survey rate), their validation and
their rendering, and the keys that were removed saying why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from acd.app.options import RunOptions, flow_settings
from acd.settings.errors import ConfigError
from acd.settings.loader import load_settings
from acd.settings.pbx_conf_render import render_musiconhold_conf, render_queues_conf
from acd.settings.schema_routing import Announcements
from tests.settings.conftest import SECRETS, Edit


def errors(config_dir: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir, env=SECRETS)
    return [str(issue) for issue in caught.value.issues]


def test_the_shipped_queues_say_what_waiting_callers_hear(config_dir: Path) -> None:
    settings = load_settings(config_dir, env=SECRETS)
    complaints, orders = settings.queue("complaints"), settings.queue("orders")
    assert complaints.announcements == Announcements(
        first_after_s=10.0, every_s=45.0, position=False, wait_time=True
    )
    assert complaints.survey_sample_rate == 1.0
    assert (orders.music_class, orders.survey_sample_rate) == ("default", 0.5)
    # the call flow gets them per queue; run options override only what they name
    flow = flow_settings(settings, RunOptions(ami_secret="x", announce_first_s=0.2))
    waiting = flow.waiting.of("complaints")
    assert (waiting.announcements.first_after_s, waiting.announcements.every_s) == (0.2, 45.0)
    assert waiting.announcements.position is False
    assert flow.survey_rate("complaints") == 1.0
    assert flow.survey_rate("orders") == 0.5


def test_a_queue_without_them_gets_the_defaults(config_dir: Path, edit: Edit) -> None:
    def drop(d: dict[str, Any]) -> None:
        for key in ("music_class", "announcements", "survey_sample_rate"):
            d["queues"][0].pop(key, None)

    edit("queues.yaml", drop)
    orders = load_settings(config_dir, env=SECRETS).queue("orders")
    assert (orders.music_class, orders.announcements, orders.survey_sample_rate) == (
        "default",
        Announcements(first_after_s=10.0, every_s=30.0, position=True, wait_time=True),
        0.5,
    )


def test_bad_waiting_settings_are_named(config_dir: Path, edit: Edit) -> None:
    def change(d: dict[str, Any]) -> None:
        d["queues"][0]["music_class"] = "Jazz Night"
        d["queues"][0]["announcements"] = {"every_s": -5, "volume": 3}
        d["queues"][0]["survey_sample_rate"] = 1.5

    edit("queues.yaml", change)
    assert errors(config_dir) == [
        "queues.yaml: queues[0].music_class: expected text matching '^[a-z][a-z0-9_-]*$',"
        " got 'Jazz Night'",
        "queues.yaml: queues[0].announcements.every_s: expected greater than or equal to 0, got -5",
        "queues.yaml: queues[0].announcements.volume: unknown key (expected one of:"
        " first_after_s, every_s, position, wait_time)",
        "queues.yaml: queues[0].survey_sample_rate: expected less than or equal to 1, got 1.5",
    ]


def test_removed_keys_say_why_and_what_replaces_them(config_dir: Path, edit: Edit) -> None:
    edit("queues.yaml", lambda d: d["queues"][0].update(max_wait_s=600))
    edit(
        "queues.yaml",
        lambda d: d["queues"][1]["overflow"].append({"after_s": 900, "action": "voicemail"}),
    )
    edit("recording.yaml", lambda d: d.update(format="gsm"))
    found = errors(config_dir)
    assert found == [
        "queues.yaml: queues[0]: 'max_wait_s' was removed: long waits are handled by the"
        " overflow ladder ('overflow'); the fallback Queue() has its own"
        " 'fallback.queue_timeout_s'",
        "queues.yaml: queues[1].overflow[2]: action 'voicemail' was removed: offer_callback"
        " keeps the caller's place and an agent calls back, which a message box does not",
        "recording.yaml: 'format' was removed: recordings are always WAV (MixMonitor takes the"
        " format from the file name, and cataloguing, QA flags and playback read WAV headers)",
    ]


def test_each_music_class_is_rendered_and_used_by_its_fallback_queue(
    config_dir: Path, edit: Edit
) -> None:
    edit("queues.yaml", lambda d: d["queues"][2].update(music_class="calm"))
    settings = load_settings(config_dir, env=SECRETS)
    moh = render_musiconhold_conf(settings)
    assert "[default]\nmode = files\ndirectory = moh\n" in moh
    assert "; queues: complaints\n[calm]\nmode = files\ndirectory = moh/calm\n" in moh
    queues = render_queues_conf(settings)
    section = queues[queues.index("[complaints]") :]
    assert section[: section.index("\n\n")].count("musicclass = calm") == 1
    assert "monitor-format = wav" in queues

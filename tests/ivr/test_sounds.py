"""Every sound the shipped configuration plays exists in every configured language (a text in
prompts.yaml or one of Debian's core sounds), and what is missing is reported precisely."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from acd.daemon import agent_codes, waiting
from acd.settings.errors import ConfigError
from acd.settings.loader import load_settings
from ivr.prompt_text import EMPTY, load_catalogue
from ivr.prompts import COMPOSED_SOUNDS
from ivr.sounds import core_sounds, missing_sounds, referenced_sounds, say_sounds

REPO = Path(__file__).resolve().parents[2]
SETTINGS = load_settings(REPO / "config", require_secrets=False)
CATALOGUE = load_catalogue(REPO / "config")


def test_the_core_sound_list_is_debians_and_lacks_the_old_error_tone() -> None:
    core = core_sounds()
    assert len(core) == 568
    assert {"beep", "beeperr", "queue-thereare", "digits/19", "digits/thousand"} <= core
    assert "an-error-has-occurred" not in core  # the shared README's finding
    assert {agent_codes.CONFIRM_SOUND, agent_codes.ERROR_SOUND} <= core


def test_the_shipped_configuration_is_complete_in_zh_and_en() -> None:
    assert SETTINGS.ivr.languages == ("zh", "en")
    assert missing_sounds(referenced_sounds(SETTINGS), CATALOGUE) == []


def test_every_kind_of_sound_is_referenced_per_language() -> None:
    uses = {(u.name, u.language) for u in referenced_sounds(SETTINGS)}
    for lang in ("zh", "en"):
        assert (f"hotline/{lang}/welcome", lang) in uses  # ivr.yaml
        assert (f"hotline/{lang}/closed", lang) in uses  # hours.yaml
        assert all((f"hotline/{lang}/{n}", lang) in uses for n in COMPOSED_SOUNDS)
        assert all((n, lang) in uses for n in waiting.SOUNDS.values())
        assert all((n, lang) in uses for n in say_sounds(lang))
    assert ("beeperr", "en") in uses
    assert "digits/wan" in say_sounds("zh")
    assert "digits/wan" not in say_sounds("en")


def test_without_texts_the_hotline_sounds_and_the_chinese_announcements_are_missing() -> None:
    issues = missing_sounds(referenced_sounds(SETTINGS), EMPTY)
    texts = [str(i) for i in issues]
    welcome = (
        "ivr.yaml: menus[0].prompt.zh: sound hotline/zh/welcome for zh callers: "
        "no zh text in prompts.yaml"
    )
    assert welcome in texts
    queue = (
        "prompts.yaml: sound queue-thereare for zh callers (daemon: waiting announcements, "
        "call-back): no zh text in prompts.yaml "
        "(the core sounds have it in English only)"
    )
    assert queue in texts
    assert not any("queue-thereare for en" in t for t in texts)  # a core sound in English
    assert not any("beeperr" in t for t in texts)


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(REPO / "config", target)
    return target


def test_a_removed_text_is_reported(config_copy: Path) -> None:
    prompts = yaml.safe_load((config_copy / "prompts.yaml").read_text(encoding="utf-8"))
    del prompts["prompts"]["digits/7"]
    del prompts["prompts"]["hotline/{lang}/orders-menu"]["en"]
    (config_copy / "prompts.yaml").write_text(yaml.safe_dump(prompts), encoding="utf-8")
    catalogue = load_catalogue(config_copy)
    texts = [str(i) for i in missing_sounds(referenced_sounds(SETTINGS), catalogue)]
    assert texts == [
        "ivr.yaml: menus[1].prompt.en: sound hotline/en/orders-menu for en callers: "
        "no en text in prompts.yaml",
        "prompts.yaml: sound digits/7 for zh callers (daemon: SAY NUMBER / SAY DIGITS): "
        "no zh text in prompts.yaml (the core sounds have it in English only)",
    ]


def test_checking_a_sounds_directory_instead_of_the_texts(tmp_path: Path) -> None:
    sounds = tmp_path / "sounds"
    for use in referenced_sounds(SETTINGS):
        if use.name and not (use.language == "en" and use.name in core_sounds()):
            plain = not use.name.startswith("hotline/")
            path = sounds / (f"{use.language}/{use.name}" if plain else use.name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.with_suffix(".wav").write_bytes(b"RIFF")
    assert missing_sounds(referenced_sounds(SETTINGS), EMPTY, sounds) == []
    (sounds / "zh" / "queue-minutes.wav").unlink()
    texts = [str(i) for i in missing_sounds(referenced_sounds(SETTINGS), CATALOGUE, sounds)]
    assert len(texts) == 1
    assert "sound queue-minutes for zh callers" in texts[0]
    assert f"not in {sounds}" in texts[0]


def test_prompts_yaml_is_validated(config_copy: Path) -> None:
    path = config_copy / "prompts.yaml"
    path.write_text(
        "voices: {zh: {voice: cmn}}\n"
        "prompts:\n"
        "  ../../etc/x: {zh: no}\n"
        "  hotline/{lang}/hi: {en: hello}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_catalogue(config_copy)
    assert "prompts.yaml: prompts.../../etc/x" in str(caught.value)
    path.write_text(
        "voices: {zh: {voice: cmn}}\nprompts:\n  hotline/{lang}/hi: {en: hello}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"prompts.hotline/\{lang\}/hi.en: no voice for en"):
        load_catalogue(config_copy)
    path.unlink()
    assert load_catalogue(config_copy) is EMPTY


def test_file_layout_follows_asterisks_lookup() -> None:
    files = {(t.name, t.language): t.file for t in CATALOGUE.texts}
    assert files[("hotline/zh/welcome", "zh")] == "hotline/zh/welcome.wav"
    assert files[("queue-thereare", "zh")] == "zh/queue-thereare.wav"
    assert files[("digits/5", "zh")] == "zh/digits/5.wav"
    assert files[("hotline-callback-offer", "en")] == "en/hotline-callback-offer.wav"

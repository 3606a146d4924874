"""``config/prompts.yaml``: the text of every sound hotline ships, per language, and the voices.

``hotline prompts build`` speaks each text into a WAV file laid out like Asterisk's sounds
directory. A sound is named as the daemon plays it, in one of two forms:

* ``hotline/{lang}/welcome``: the language is part of the name (the IVR's prompts in ivr.yaml,
  hours.yaml and ``ivr.prompts``); built as ``hotline/zh/welcome.wav``, ``hotline/en/...``.
  Asterisk finds it whatever the channel's language (main/file.c fileexists_core tries
  ``<lang>/<name>``, then ``<name>``).
* ``queue-thereare``, ``digits/5``: played by plain name and found in the caller's language once
  ``CHANNEL(language)`` is set; built as ``zh/queue-thereare.wav`` (the ``<lang>/<name>`` that
  fileexists_core tries first). Only the languages Asterisk's core sounds lack need text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError

from acd.settings.common import FrozenModel
from acd.settings.errors import ConfigError, ConfigIssue, issues_from_validation
from acd.settings.yaml_files import read_yaml

FILE = "prompts.yaml"
LANG = "{lang}"

Language = Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")]
# Path segments of letters, digits, "-" and "_" (or the {lang} placeholder): never "..", never a
# leading "/", so a built file cannot land outside the output directory.
SoundKey = Annotated[
    str, Field(pattern=r"^([A-Za-z0-9_-]+|\{lang\})(/([A-Za-z0-9_-]+|\{lang\}))*$", max_length=120)
]
Text = Annotated[str, Field(min_length=1, max_length=1000)]


class VoiceSettings(FrozenModel):
    voice: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_+-]+$")  # espeak-ng --voices
    speed: int = Field(default=160, ge=80, le=450)  # words per minute
    pitch: int = Field(default=50, ge=0, le=99)


class PromptsFile(FrozenModel):
    voices: dict[Language, VoiceSettings]
    prompts: dict[SoundKey, dict[Language, Text]]


@dataclass(frozen=True, slots=True)
class PromptText:
    """One file to build: the sound name as played, its language, file and text."""

    key: str  # as written in prompts.yaml, e.g. "hotline/{lang}/welcome"
    language: str
    name: str  # as the daemon plays it, e.g. "hotline/zh/welcome" or "queue-thereare"
    text: str

    @property
    def file(self) -> str:
        """The WAV file's path under the sounds directory."""
        if LANG in self.key:
            return f"{self.name}.wav"
        return f"{self.language}/{self.name}.wav"


@dataclass(frozen=True)
class PromptCatalogue:
    voices: dict[str, VoiceSettings]
    texts: tuple[PromptText, ...]

    def provides(self, name: str, language: str) -> bool:
        """True when a built file will play ``name`` to a caller of ``language``."""
        return any(t.name == name and t.language == language for t in self.texts)

    def for_languages(self, languages: tuple[str, ...] | list[str]) -> tuple[PromptText, ...]:
        return tuple(t for t in self.texts if t.language in languages)


EMPTY = PromptCatalogue({}, ())


def load_catalogue(config_dir: Path) -> PromptCatalogue:
    """The catalogue of ``config_dir/prompts.yaml`` (empty when there is none); ConfigError
    with every problem otherwise."""
    if not (config_dir / FILE).exists():
        return EMPTY
    data = read_yaml(config_dir / FILE)
    try:
        parsed = PromptsFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(issues_from_validation(FILE, exc, PromptsFile)) from None
    issues: list[ConfigIssue] = []
    texts: list[PromptText] = []
    for key, by_language in parsed.prompts.items():
        for language, text in by_language.items():
            if language not in parsed.voices:
                issues.append(
                    ConfigIssue(FILE, f"prompts.{key}.{language}", f"no voice for {language}")
                )
                continue
            texts.append(PromptText(key, language, key.replace(LANG, language), text.strip()))
    if issues:
        raise ConfigError(issues)
    return PromptCatalogue(dict(parsed.voices), tuple(texts))

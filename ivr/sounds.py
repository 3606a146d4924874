"""Every sound hotline plays, per caller language, and whether Asterisk will find it.

The daemon plays three kinds of sound:

* the IVR's prompts, named with their language (``hotline/zh/welcome``): ivr.yaml, hours.yaml
  and the names ``ivr.prompts`` composes (order status, survey, call-back offer);
* plain names played to a caller whose ``CHANNEL(language)`` is set (``ivr.runner``): the
  waiting announcements (``acd.daemon.sound_names``) and the digits that ``SAY NUMBER`` /
  ``SAY DIGITS`` put together (main/say.c);
* the feature-code tones on the agents' own phones (``acd.daemon.agent_codes``), whose channel
  language is Asterisk's default, ``en``.

A sound is there for a language when Asterisk's lookup for a channel of that language
(main/file.c fileexists_core: ``<lang>/<name>``, then ``<name>``, then ``en/<name>``) finds a
file *in that language*: a built or shipped one (``hotline prompts build``), or for ``en`` one
of Debian's core sounds (``ivr/data/``). Falling back to the English file is reported, since a
zh caller would hear English.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from acd.daemon.sound_names import FEATURE_CODE_CONFIRM, FEATURE_CODE_ERROR, WAITING_SOUNDS
from acd.settings.errors import ConfigIssue
from acd.settings.settings import Settings
from ivr.prompt_text import FILE as PROMPTS_FILE
from ivr.prompt_text import PromptCatalogue
from ivr.prompts import COMPOSED_SOUNDS, sound

DEFAULT_LANGUAGE = "en"  # Asterisk's DEFAULT_LANGUAGE, and the language of the core sounds
CORE_SOUNDS_FILE = "asterisk-core-sounds-en-wav-1.6.1.txt"
CORE_SOUNDS = "Debian's asterisk-core-sounds-en-wav 1.6.1"


@dataclass(frozen=True, slots=True)
class SoundUse:
    """``name`` is played to callers of ``language``; ``file``/``path`` say where it comes from."""

    name: str
    language: str
    file: str
    path: str


@cache
def core_sounds() -> frozenset[str]:
    """The sounds of Debian's asterisk-core-sounds-en-wav 1.6.1 (see the data file's header)."""
    text = resources.files("ivr").joinpath("data", CORE_SOUNDS_FILE).read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def say_sounds(language: str) -> tuple[str, ...]:
    """Files ``SAY NUMBER`` (numbers below a million) and ``SAY DIGITS`` play in ``language``.

    main/say.c: ast_say_number_full_zh (languages "zh*") plays digits/0-9, the tens digits/10
    to digits/90, digits/hundred, digits/thousand and digits/wan (ten thousand);
    ast_say_number_full_en, the default, digits/0-19, the tens, digits/hundred and
    digits/thousand. ast_say_digit_str_full plays digits/0-9 for SAY DIGITS.
    """
    tens = [f"digits/{n}" for n in range(10, 100, 10)]
    if language.startswith("zh"):
        units = [f"digits/{n}" for n in range(10)]
        return (*units, *tens, "digits/hundred", "digits/thousand", "digits/wan")
    units = [f"digits/{n}" for n in range(20)]
    return tuple(dict.fromkeys([*units, *tens, "digits/hundred", "digits/thousand"]))


def _configured(file: str, path: str, prompts: Mapping[str, Sequence[str]]) -> list[SoundUse]:
    # Every configured language has its prompts (acd.settings.crosscheck requires it).
    return [
        SoundUse(name, language, file, f"{path}.{language}")
        for language, names in prompts.items()
        for name in names
    ]


def referenced_sounds(settings: Settings) -> list[SoundUse]:
    """Every sound hotline may play with this configuration, per caller language."""
    ivr = settings.ivr
    languages = ivr.languages
    uses = _configured("ivr.yaml", "invalid_prompt", ivr.invalid_prompt)
    uses += _configured("ivr.yaml", "timeout_prompt", ivr.timeout_prompt)
    for i, menu in enumerate(ivr.menus):
        for field in ("prompt", "invalid_prompt", "timeout_prompt"):
            prompts = getattr(menu, field)
            if prompts is not None:
                uses += _configured("ivr.yaml", f"menus[{i}].{field}", prompts)
    for i, calendar in enumerate(settings.calendars):
        uses += _configured("hours.yaml", f"calendars[{i}].closed_message", calendar.closed_message)
    for language in languages:
        uses += [
            SoundUse(sound(language, name), language, "ivr", "order status, survey, call-back")
            for name in COMPOSED_SOUNDS
        ]
        uses += [
            SoundUse(name, language, "daemon", "waiting announcements, call-back")
            for name in WAITING_SOUNDS.values()
        ]
        uses += [
            SoundUse(n, language, "daemon", "SAY NUMBER / SAY DIGITS") for n in say_sounds(language)
        ]
    uses += [
        SoundUse(name, DEFAULT_LANGUAGE, "daemon", "agent feature codes (the agent's phone)")
        for name in (FEATURE_CODE_CONFIRM, FEATURE_CODE_ERROR)
    ]
    return uses


def _built(sounds_dir: Path, name: str, language: str) -> bool:
    return (sounds_dir / f"{name}.wav").is_file() or (
        sounds_dir / language / f"{name}.wav"
    ).is_file()


def missing_sounds(
    uses: Iterable[SoundUse], catalogue: PromptCatalogue, sounds_dir: Path | None = None
) -> list[ConfigIssue]:
    """A problem for every sound a caller of its language would not hear in that language.

    Without ``sounds_dir`` a sound counts as there when prompts.yaml has its text (``hotline
    prompts build`` makes it); with it, when the file is in that directory."""
    core = core_sounds()
    issues: list[ConfigIssue] = []
    seen: set[tuple[str, str]] = set()
    for use in uses:
        if (use.name, use.language) in seen:
            continue
        seen.add((use.name, use.language))
        if use.language == DEFAULT_LANGUAGE and use.name in core:
            continue
        if sounds_dir is not None:
            if _built(sounds_dir, use.name, use.language):
                continue
            where = f"not in {sounds_dir}"
        else:
            if catalogue.provides(use.name, use.language):
                continue
            where = f"no {use.language} text in {PROMPTS_FILE}"
        english = " (the core sounds have it in English only)" if use.name in core else ""
        file, path = (use.file, use.path) if use.file.endswith(".yaml") else (PROMPTS_FILE, "")
        what = "" if use.file.endswith(".yaml") else f" ({use.file}: {use.path})"
        message = f"sound {use.name} for {use.language} callers{what}: {where}{english}"
        issues.append(ConfigIssue(file, path, message))
    return issues

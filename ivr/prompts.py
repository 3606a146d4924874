"""Which sound files to play: per-language prompt lookup and the sound names the IVR builds itself.

Menus, calendars and the like carry prompts per language (``Prompts``: language -> sound names).
A prompt missing in the caller's language falls back to the default language, then to any, so a
half-translated configuration still plays something instead of silence. Sound names the code
composes (order status, survey, call-back offer) live here, one place for the recording studio's
list; all sit under ``hotline/<language>/`` like the configured ones.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

#: keys accepted as barge-in while a prompt plays: every DTMF key a caller can send
ALL_KEYS = "0123456789*#"

_NOT_SOUND_CHARS = re.compile(r"[^a-z0-9]+")

#: the sound names the code composes (besides the configured prompts): the studio's list
COMPOSED_SOUNDS = (
    "callback-offer",
    "order-enter-number",
    "order-not-found",
    "order-transfer",
    "order-number-is",
    "order-courier",
    *(f"order-status-{s}" for s in ("placed", "paid", "shipped", "completed", "cancelled")),
    "survey-rating",
    "survey-solved",
    "survey-invalid",
    "survey-thanks",
)


def pick(prompts: Mapping[str, Sequence[str]], language: str, default: str) -> tuple[str, ...]:
    """The sounds of ``prompts`` for ``language``, else ``default``'s, else the first listed."""
    for lang in (language, default):
        sounds = prompts.get(lang)
        if sounds:
            return tuple(sounds)
    for sounds in prompts.values():
        if sounds:
            return tuple(sounds)
    return ()


def choose_language(requested: str | None, languages: Sequence[str], default: str) -> str:
    """The caller's language: the per-call request when configured, else the default."""
    if requested and requested in languages:
        return requested
    return default


def sound(language: str, name: str) -> str:
    """A sound name the IVR composes itself: ``hotline/<language>/<name>``."""
    return f"hotline/{language}/{name}"


def composed_sounds(languages: Sequence[str]) -> tuple[str, ...]:
    """Every composed sound name for these languages (the simulator's sound set, studio list)."""
    return tuple(sound(lang, name) for lang in languages for name in COMPOSED_SOUNDS)


def slug(text: str) -> str:
    """A free text (a courier's name) as a sound-name part: ``SF Express`` -> ``sf-express``.

    Sound names may not contain dots or spaces (acd.settings.common ``_check_sound``) and must
    not escape the sounds directory.
    """
    return _NOT_SOUND_CHARS.sub("-", text.lower()).strip("-")

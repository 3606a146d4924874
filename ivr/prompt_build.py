"""``hotline prompts build``: every text of prompts.yaml, in every configured language, spoken
into a WAV file under the output directory (laid out like Asterisk's sounds directory).

Files are written through a temporary name and renamed, so an interrupted build never leaves a
half-written prompt that Asterisk would play. A file whose bytes would not change is left alone
(its modification time too), which also shows that a rebuild is byte-identical.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ivr.prompt_text import PromptCatalogue, PromptText
from ivr.tts import Voice, speak, wav_seconds

Status = Literal["written", "unchanged"]


@dataclass(frozen=True, slots=True)
class BuiltPrompt:
    prompt: PromptText
    status: Status
    seconds: float
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.prompt.file,
            "sound": self.prompt.name,
            "language": self.prompt.language,
            "text": self.prompt.text,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "sha256": self.sha256,
        }


Progress = Callable[[PromptText], None]


def build_prompts(
    catalogue: PromptCatalogue,
    languages: Sequence[str],
    out_dir: Path,
    *,
    espeak: str,
    on_done: Progress | None = None,
) -> list[BuiltPrompt]:
    """Speak every text of ``languages`` into ``out_dir``; raises ``SpeechError`` on the first
    text espeak-ng cannot speak (files already built stay)."""
    built: list[BuiltPrompt] = []
    for prompt in catalogue.for_languages(tuple(languages)):
        settings = catalogue.voices[prompt.language]
        voice = Voice(settings.voice, settings.speed, settings.pitch)
        data = speak(prompt.text, voice, espeak)
        status = _write(out_dir / prompt.file, data)
        built.append(
            BuiltPrompt(prompt, status, wav_seconds(data), hashlib.sha256(data).hexdigest())
        )
        if on_done is not None:
            on_done(prompt)
    return built


def _write(path: Path, data: bytes) -> Status:
    if path.is_file() and path.read_bytes() == data:
        return "unchanged"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)
    return "written"

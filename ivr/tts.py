"""Text to a telephone prompt with Debian's espeak-ng: 8 kHz, mono, 16-bit PCM WAV, like the
WAV files of Asterisk's core sounds (asterisk-core-sounds-en-wav), which ``format_wav`` plays.

espeak-ng is deterministic (same text, voice and version: same samples) and writes 22,050 Hz;
``ivr.resample`` converts with integer arithmetic, and the WAV header is written by the standard
library with no date or tool name in it, so a rebuild gives the same bytes.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ivr.resample import resample

RATE = 8000  # Asterisk's slin / core sounds rate
ESPEAK = "espeak-ng"
TIMEOUT_S = 60.0


class SpeechError(RuntimeError):
    """espeak-ng is missing, refused the voice or produced no audio."""


@dataclass(frozen=True, slots=True)
class Voice:
    """An espeak-ng voice (``espeak-ng --voices``) and its speed in words per minute."""

    name: str
    speed: int = 160
    pitch: int = 50


def find_espeak() -> str | None:
    return shutil.which(ESPEAK)


def espeak_version(binary: str) -> str:
    done = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    line = done.stdout.strip().splitlines()[0] if done.stdout.strip() else "unknown"
    return line.split("  Data at:")[0]  # "eSpeak NG text-to-speech: 1.51  Data at: /usr/..."


def speak(text: str, voice: Voice, binary: str) -> bytes:
    """The WAV file (bytes) of ``text`` spoken by ``voice``."""
    with tempfile.TemporaryDirectory(prefix="hotline-tts-") as tmp:
        raw = Path(tmp) / "speech.wav"
        command = [
            binary,
            "-v", voice.name,
            "-s", str(voice.speed),
            "-p", str(voice.pitch),
            "-b", "1",  # the text is UTF-8
            "-z",  # no pause after the last sentence: prompts are played back to back
            "-w", str(raw),
            "--stdin",
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command,
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SpeechError(f"{binary}: {exc}") from exc
        error = done.stderr.decode("utf-8", "replace").strip()
        if done.returncode != 0 or not raw.exists():
            raise SpeechError(f"{binary} -v {voice.name} failed: {error or done.returncode}")
        with wave.open(str(raw), "rb") as source:
            if source.getnchannels() != 1 or source.getsampwidth() != 2:
                raise SpeechError(f"{binary} wrote an unexpected format: {source.getparams()}")
            rate = source.getframerate()
            samples = np.frombuffer(source.readframes(source.getnframes()), dtype="<i2")
    if samples.size == 0:
        raise SpeechError(f"{binary} -v {voice.name} produced no audio ({error or 'no message'})")
    return wav_bytes(resample(samples, rate, RATE))


def wav_bytes(samples: npt.NDArray[np.int16], rate: int = RATE) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(2)
        target.setframerate(rate)
        target.writeframes(samples.astype("<i2").tobytes())
    return out.getvalue()


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data), "rb") as reader:
        return reader.getnframes() / reader.getframerate()

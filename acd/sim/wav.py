"""Synthetic call recordings as RIFF WAV (8 kHz, 16-bit PCM, mono or stereo).

The audio alternates tone bursts ("speech") and silences ("gaps") so a dead-air detector has
something to measure: like the reference agent's PlayTones(440/1500,0/500), but with seeded
burst/gap lengths. In stereo each side talks in turn (left caller, right agent, as MixMonitor's
interleaved option D would give). Pure: ``render`` returns bytes; ``write`` is a convenience.
"""

from __future__ import annotations

import math
import random
import struct
import sys
from array import array
from pathlib import Path

RATE = 8000
AMPLITUDE = 8000
#: frequencies whose period is a whole number of samples at 8 kHz, so a tiled cycle is exact
TONES = (400, 500, 250)


def _cycle(freq: int) -> array[int]:
    period = RATE // freq
    return array("h", (int(AMPLITUDE * math.sin(2 * math.pi * i / period)) for i in range(period)))


def _tone(freq: int, samples: int) -> array[int]:
    cycle = _cycle(freq)
    reps = samples // len(cycle) + 1
    return (cycle * reps)[:samples]


def speech_like(samples: int, rng: random.Random, talking_first: bool = True) -> array[int]:
    """Bursts of 0.5-2 s tone separated by 0.2-1.5 s silences."""
    out = array("h")
    talking = talking_first
    while len(out) < samples:
        if talking:
            length = int(rng.uniform(0.5, 2.0) * RATE)
            out.extend(_tone(rng.choice(TONES), length))
        else:
            length = int(rng.uniform(0.2, 1.5) * RATE)
            out.extend(array("h", bytes(2 * length)))
        talking = not talking
    del out[samples:]
    return out


def render(seconds: float, channels: int = 1, seed: int = 0) -> bytes:
    """A complete WAV file of ``seconds`` length with 1 or 2 channels."""
    if channels not in (1, 2):
        raise ValueError("channels must be 1 or 2")
    rng = random.Random(seed)
    samples = max(int(seconds * RATE), 0)
    left = speech_like(samples, rng, talking_first=True)
    if channels == 2:
        right = speech_like(samples, rng, talking_first=False)
        frames = array("h", bytes(4 * samples))
        frames[0::2] = left
        frames[1::2] = right
    else:
        frames = left
    if sys.byteorder == "big":
        frames.byteswap()
    data = frames.tobytes()
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(data),
        b"WAVE",
        b"fmt ",
        16,
        1,
        channels,
        RATE,
        RATE * channels * 2,
        channels * 2,
        16,
        b"data",
        len(data),
    )
    return header + data


def write(path: str | Path, seconds: float, channels: int = 1, seed: int = 0) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(render(seconds, channels, seed))

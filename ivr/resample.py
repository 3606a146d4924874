"""Sample-rate conversion of 16-bit mono audio, exact to the bit on every machine.

espeak-ng speaks at 22,050 Hz; Asterisk's core sounds are 8 kHz. A windowed-sinc low-pass
(cut-off below the telephone band's upper edge, Kaiser window) is evaluated at each output
instant: the ratio ``out/in`` is a fraction L/M, so every output sample falls on one of L phases
between two input samples, and each phase has its own integer taps (Q15, summing to exactly 1.0).
The convolution itself is integer arithmetic, so the same input gives the same bytes whatever the
CPU, the BLAS or the summation order: ``hotline prompts build`` is reproducible.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import numpy.typing as npt

Q = 15  # taps are fixed-point with 15 fraction bits
HALF_TAPS = 16  # taps on each side of the output instant
KAISER_BETA = 8.0
PASSBAND = 0.9  # cut-off as a share of the lower Nyquist frequency

Samples = npt.NDArray[np.int16]


def resample(samples: Samples, in_rate: int, out_rate: int) -> Samples:
    """``samples`` (int16, mono) at ``in_rate`` as int16 at ``out_rate``."""
    if in_rate <= 0 or out_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {in_rate} -> {out_rate}")
    if in_rate == out_rate or samples.size == 0:
        return samples.astype(np.int16, copy=True)
    step = math.gcd(in_rate, out_rate)
    up, down = out_rate // step, in_rate // step  # output n sits at input n * down / up
    table = _taps(up, down)
    count = (samples.size * up) // down
    n = np.arange(count, dtype=np.int64)
    base = (n * down) // up
    phase = (n * down) % up
    padded = np.concatenate(
        [np.zeros(HALF_TAPS, np.int64), samples.astype(np.int64), np.zeros(HALF_TAPS, np.int64)]
    )
    offsets = np.arange(-HALF_TAPS + 1, HALF_TAPS + 1, dtype=np.int64)
    window = padded[base[:, None] + offsets[None, :] + HALF_TAPS]
    acc = (window * table[phase]).sum(axis=1)
    out: npt.NDArray[np.int64] = (acc + (1 << (Q - 1))) >> Q  # round half up, in integers
    clipped: Samples = np.clip(out, -32768, 32767).astype(np.int16)
    return clipped


@cache
def _taps(up: int, down: int) -> npt.NDArray[np.int64]:
    """Integer taps per phase: row p for an output instant p/up of a sample after an input."""
    cutoff = PASSBAND * 0.5 * min(1.0, up / down)  # cycles per input sample
    rows = []
    for p in range(up):
        frac = p / up
        taps = []
        for j in range(-HALF_TAPS + 1, HALF_TAPS + 1):
            t = j - frac  # distance of input sample j from the output instant, in samples
            taps.append(2 * cutoff * _sinc(2 * cutoff * t) * _kaiser(t / HALF_TAPS))
        total = sum(taps)
        fixed = [round(tap / total * (1 << Q)) for tap in taps]
        fixed[HALF_TAPS - 1] += (1 << Q) - sum(fixed)  # unity gain at DC, exactly
        rows.append(fixed)
    return np.array(rows, dtype=np.int64)


def _sinc(x: float) -> float:
    return 1.0 if x == 0 else math.sin(math.pi * x) / (math.pi * x)


def _kaiser(x: float) -> float:
    if abs(x) >= 1:
        return 0.0
    return _bessel_i0(KAISER_BETA * math.sqrt(1 - x * x)) / _bessel_i0(KAISER_BETA)


def _bessel_i0(x: float) -> float:
    term = total = 1.0
    for k in range(1, 50):
        term *= (x / (2 * k)) ** 2
        total += term
    return total

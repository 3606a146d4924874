"""Reading call recordings: the RIFF/WAV header, and loudness (RMS) per time window.

Our own small RIFF walk rather than the ``wave`` module, because we need to tell a truncated
file (header promises more data than the file holds: the recorder died or the copy was cut)
from a healthy one, and ``wave`` silently trusts the header.
"""

from __future__ import annotations

import math
import struct
import sys
from array import array
from dataclasses import dataclass
from pathlib import Path

PCM = 1


class WavError(ValueError):
    """Not a WAV file we can read (missing, not RIFF/WAVE, no fmt/data chunk, not PCM)."""


@dataclass(frozen=True)
class WavInfo:
    channels: int
    sample_rate: int
    sample_width: int  # bytes per sample
    data_offset: int
    declared_data_bytes: int  # what the header promises
    data_bytes: int  # what the file really holds (never more than declared)

    @property
    def frame_bytes(self) -> int:
        return self.channels * self.sample_width

    @property
    def duration_s(self) -> float:
        """Playable length: the audio actually present, not what the header claims."""
        return self.data_bytes // self.frame_bytes / self.sample_rate

    @property
    def truncated(self) -> bool:
        return self.data_bytes < self.declared_data_bytes


def parse_header(head: bytes, file_size: int) -> WavInfo:
    """Parse the RIFF chunks in ``head`` (the file's first bytes) of a file of ``file_size``."""
    if len(head) < 12 or head[0:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise WavError("not a RIFF/WAVE file")
    offset = 12
    fmt: tuple[int, int, int, int] | None = None
    while offset + 8 <= len(head):
        chunk_id, size = struct.unpack_from("<4sI", head, offset)
        body = offset + 8
        if chunk_id == b"fmt ":
            if size < 16 or body + 16 > len(head):
                raise WavError("fmt chunk too short")
            tag, channels, rate, _byte_rate, _align, bits = struct.unpack_from(
                "<HHIIHH", head, body
            )
            fmt = (tag, channels, rate, bits)
        elif chunk_id == b"data":
            if fmt is None:
                raise WavError("data chunk before fmt chunk")
            tag, channels, rate, bits = fmt
            if tag != PCM or bits not in (8, 16) or channels < 1 or rate < 1:
                raise WavError(f"unsupported format (tag {tag}, {bits} bits, {channels} ch)")
            present = max(min(size, file_size - body), 0)
            return WavInfo(channels, rate, bits // 8, body, size, present)
        offset = body + size + (size & 1)  # chunks are padded to even length
    raise WavError("no fmt/data chunk in the header")


def read_info(path: Path) -> WavInfo:
    """Header of the file at ``path``; raises WavError (also for a missing or unreadable file)."""
    try:
        with path.open("rb") as f:
            head = f.read(4096)
            size = path.stat().st_size
    except OSError as exc:
        raise WavError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return parse_header(head, size)


def window_rms(path: Path, window_s: float) -> list[float]:
    """RMS of all channels together, per window of ``window_s`` (last partial window kept).

    Mixed across channels on purpose: dead air means nobody talks on either side.
    Values are relative to full scale (0.0 silence .. 1.0 full-scale square wave).
    """
    info = read_info(path)
    if window_s <= 0:
        raise ValueError("window_s must be positive")
    samples_per_window = max(int(window_s * info.sample_rate) * info.channels, 1)
    chunk_bytes = samples_per_window * info.sample_width
    full_scale = 32768.0 if info.sample_width == 2 else 128.0
    out: list[float] = []
    with path.open("rb") as f:
        f.seek(info.data_offset)
        remaining = info.data_bytes - info.data_bytes % info.frame_bytes
        while remaining > 0:
            raw = f.read(min(chunk_bytes, remaining))
            if not raw:
                break
            remaining -= len(raw)
            out.append(_rms(raw, info.sample_width) / full_scale)
    return out


def _rms(raw: bytes, width: int) -> float:
    if width == 2:
        samples = array("h")
        samples.frombytes(raw[: len(raw) - len(raw) % 2])
        if sys.byteorder == "big":
            samples.byteswap()
        values: list[int] | array[int] = samples
    else:  # 8-bit WAV is unsigned, centred on 128
        values = [b - 128 for b in raw]
    if not values:
        return 0.0
    return math.sqrt(sum(v * v for v in values) / len(values))

"""Automatic QA flags for a sampled call: what a reviewer should look at first. Pure, except
``inspect_recording`` which reads the WAV file (and never raises for a bad one).

Codes: ``agent_hung_up_first``, ``short_call``, ``transferred``, ``dead_air`` (a stretch of
silence on both sides), ``recording_missing`` (no file, or unreadable), ``recording_truncated``
(the WAV holds less audio than its header promises, or much less than the call lasted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from recordings.crypto import DecryptionError, RecordingKeyError, is_encrypted
from recordings.wavfile import WavError, WavInfo, read_info, window_rms


@dataclass(frozen=True)
class FlagThresholds:
    short_call_s: float = 20.0
    dead_air_s: float = 10.0
    silence_rms: float = 0.01  # ~-40 dBFS: line noise, not speech
    window_s: float = 0.5
    # Talk time and recording length differ by ring/bridge set-up; beyond this it is missing audio.
    truncation_tolerance_s: float = 5.0


@dataclass(frozen=True)
class Flag:
    code: str
    detail: str


@dataclass(frozen=True)
class CallFacts:
    call_id: str
    hung_up_by: str | None
    transferred: bool
    talk_s: float | None  # answered -> ended


@dataclass(frozen=True)
class RecordingInspection:
    info: WavInfo | None
    problem: str | None  # why the file could not be read
    dead_air: list[tuple[float, float]] = field(default_factory=list)


def dead_air_spans(
    rms: list[float], window_s: float, threshold: float, min_s: float
) -> list[tuple[float, float]]:
    """(start_s, end_s) of every run of windows below ``threshold`` lasting >= ``min_s``."""
    spans: list[tuple[float, float]] = []
    start: int | None = None
    for index, level in enumerate([*rms, float("inf")]):  # sentinel closes a trailing run
        if level < threshold:
            if start is None:
                start = index
        elif start is not None:
            if (index - start) * window_s >= min_s - 1e-9:
                spans.append((start * window_s, index * window_s))
            start = None
    return spans


def inspect_recording(path: Path | None, thresholds: FlagThresholds) -> RecordingInspection:
    if path is None:
        return RecordingInspection(None, "no recording catalogued")
    try:
        with path.open("rb") as f:
            if is_encrypted(f.read(16)):
                # Flags are computed on clear files only; encrypted ones are checked on export.
                return RecordingInspection(None, "encrypted: not inspected")
        info = read_info(path)
        rms = window_rms(path, thresholds.window_s)
    except (OSError, WavError, DecryptionError, RecordingKeyError) as exc:
        return RecordingInspection(None, str(exc))
    spans = dead_air_spans(rms, thresholds.window_s, thresholds.silence_rms, thresholds.dead_air_s)
    return RecordingInspection(info, None, spans)


def call_flags(
    call: CallFacts, recording: RecordingInspection, thresholds: FlagThresholds
) -> list[Flag]:
    flags: list[Flag] = []
    if call.hung_up_by == "agent":
        flags.append(Flag("agent_hung_up_first", "the agent ended the call"))
    if call.talk_s is not None and call.talk_s < thresholds.short_call_s:
        flags.append(Flag("short_call", f"talk time {call.talk_s:.0f} s"))
    if call.transferred:
        flags.append(Flag("transferred", "the call was transferred"))
    info = recording.info
    if info is None:
        if recording.problem and recording.problem.startswith("encrypted"):
            return flags
        flags.append(Flag("recording_missing", recording.problem or "no recording"))
        return flags
    if info.truncated:
        flags.append(
            Flag(
                "recording_truncated",
                f"file holds {info.duration_s:.1f} s of a declared "
                f"{info.declared_data_bytes / info.frame_bytes / info.sample_rate:.1f} s",
            )
        )
    elif (
        call.talk_s is not None
        and info.duration_s + thresholds.truncation_tolerance_s < call.talk_s
    ):
        flags.append(
            Flag(
                "recording_truncated",
                f"recording {info.duration_s:.1f} s for a talk time of {call.talk_s:.1f} s",
            )
        )
    for start, end in recording.dead_air:
        flags.append(Flag("dead_air", f"{end - start:.1f} s of silence from {start:.1f} s"))
    return flags

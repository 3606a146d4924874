"""WAV header reading, dead-air measurement and the automatic QA flags, on real files."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from acd.sim import wav as sim_wav
from recordings.crypto import encrypt_file
from recordings.flags import (
    CallFacts,
    Flag,
    FlagThresholds,
    call_flags,
    dead_air_spans,
    inspect_recording,
)
from recordings.wavfile import WavError, read_info, window_rms
from tests.recordings.conftest import write_wav

TH = FlagThresholds(short_call_s=20, dead_air_s=3.0, window_s=0.5)


def codes(flags: list[Flag]) -> list[str]:
    return [f.code for f in flags]


def test_header_gives_duration_channels_and_rate(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", [("tone", 1.5), ("gap", 1.0)], channels=2)
    info = read_info(path)
    assert (info.channels, info.sample_rate, info.sample_width) == (2, 8000, 2)
    assert info.duration_s == pytest.approx(2.5)
    assert not info.truncated


def test_truncated_file_reports_audio_present_not_declared(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", [("tone", 4.0)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    info = read_info(path)
    assert info.truncated
    assert info.duration_s < 2.1


@pytest.mark.parametrize(
    "content", [b"", b"RIFF\x00\x00\x00\x00WAVE", b"not a wav at all, just text", b"RIFF1234AVI "]
)
def test_corrupt_files_raise_wav_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(WavError):
        read_info(path)


def test_missing_file_is_a_wav_error_not_os_error(tmp_path: Path) -> None:
    with pytest.raises(WavError, match="cannot read"):
        read_info(tmp_path / "nope.wav")


def test_non_pcm_format_refused(tmp_path: Path) -> None:
    fmt = struct.pack("<HHIIHH", 7, 1, 8000, 8000, 1, 8)  # 7 = mu-law
    body = (
        b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", 4) + b"\0" * 4
    )
    path = tmp_path / "ulaw.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    with pytest.raises(WavError, match="unsupported"):
        read_info(path)


def test_rms_separates_tone_from_silence(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", [("tone", 1.0), ("gap", 1.0)])
    levels = window_rms(path, 0.5)
    assert len(levels) == 4
    assert min(levels[:2]) > 0.1
    assert max(levels[2:]) == 0.0


def test_dead_air_spans_need_the_minimum_length() -> None:
    rms = [0.2, 0.0, 0.0, 0.0, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert dead_air_spans(rms, 0.5, 0.01, 1.5) == [(0.5, 2.0), (2.5, 5.5)]
    assert dead_air_spans(rms, 0.5, 0.01, 2.0) == [(2.5, 5.5)]
    assert dead_air_spans([0.3] * 5, 0.5, 0.01, 0.5) == []


def test_dead_air_found_in_a_real_file(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", [("tone", 2.0), ("gap", 4.0), ("tone", 1.0), ("gap", 1.0)])
    inspection = inspect_recording(path, TH)
    assert inspection.problem is None
    assert inspection.dead_air == [(2.0, 6.0)]
    facts = CallFacts("c1", "caller", False, talk_s=8.0 + 30)  # long enough, not short
    flags = call_flags(facts, inspection, TH)
    assert codes(flags) == ["recording_truncated", "dead_air"]


def test_simulator_recording_has_no_long_dead_air(tmp_path: Path) -> None:
    # The simulator's speech-like audio has gaps of at most 1.5 s: no 3 s dead air.
    path = tmp_path / "sim.wav"
    sim_wav.write(path, 30.0, channels=2, seed=7)
    inspection = inspect_recording(path, TH)
    assert inspection.info is not None
    assert inspection.info.channels == 2
    assert inspection.dead_air == []


def test_call_facts_flags() -> None:
    ok = inspect_recording(None, TH)
    facts = CallFacts("c1", "agent", True, talk_s=12.0)
    assert codes(call_flags(facts, ok, TH)) == [
        "agent_hung_up_first",
        "short_call",
        "transferred",
        "recording_missing",
    ]


def test_missing_and_corrupt_recordings_flagged_without_raising(tmp_path: Path) -> None:
    facts = CallFacts("c1", "caller", False, talk_s=60.0)
    missing = inspect_recording(tmp_path / "gone.wav", TH)
    assert codes(call_flags(facts, missing, TH)) == ["recording_missing"]
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"garbage")
    assert codes(call_flags(facts, inspect_recording(bad, TH), TH)) == ["recording_missing"]


def test_truncated_header_flagged(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", [("tone", 6.0)])
    path.write_bytes(path.read_bytes()[:20000])
    flags = call_flags(CallFacts("c1", "caller", False, None), inspect_recording(path, TH), TH)
    assert codes(flags) == ["recording_truncated"]


def test_healthy_call_has_no_flags(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", [("tone", 25.0)])
    flags = call_flags(CallFacts("c1", "caller", False, 25.0), inspect_recording(path, TH), TH)
    assert flags == []


def test_encrypted_recording_is_not_misreported_as_missing(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", [("tone", 2.0)])
    encrypt_file(bytes(32), path, recording_id="c1")
    flags = call_flags(CallFacts("c1", "caller", False, 60.0), inspect_recording(path, TH), TH)
    assert flags == []

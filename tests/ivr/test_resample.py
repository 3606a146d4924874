"""The integer resampler behind ``hotline prompts build``: speech band kept, above it removed,
the right length, unity gain, and the same bytes for the same input."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from ivr.resample import resample

ESPEAK_RATE, TELEPHONE_RATE = 22_050, 8_000


def tone(freq: float, amplitude: float = 10_000.0, seconds: float = 1.0) -> npt.NDArray[np.int16]:
    t = np.arange(int(ESPEAK_RATE * seconds)) / ESPEAK_RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def peak(freq: float) -> tuple[float, float]:
    """(strongest frequency, its amplitude) of the resampled tone."""
    out = resample(tone(freq), ESPEAK_RATE, TELEPHONE_RATE).astype(float)[200:-200]
    spectrum = np.abs(np.fft.rfft(out * np.hanning(out.size)))
    k = int(np.argmax(spectrum))
    return k * TELEPHONE_RATE / out.size, float(np.abs(out).max())


@pytest.mark.parametrize("freq", [300.0, 1000.0, 2500.0])
def test_the_speech_band_passes_at_its_frequency(freq: float) -> None:
    found, amplitude = peak(freq)
    assert found == pytest.approx(freq, abs=10)
    assert amplitude == pytest.approx(10_000, rel=0.08)


@pytest.mark.parametrize("freq", [5000.0, 7000.0, 9000.0])
def test_what_would_alias_is_filtered_out(freq: float) -> None:
    _, amplitude = peak(freq)
    assert amplitude < 10_000 * 0.01  # at least 40 dB down


def test_length_dc_and_clipping() -> None:
    out = resample(np.full(22_050, 1234, np.int16), ESPEAK_RATE, TELEPHONE_RATE)
    assert out.dtype == np.int16
    assert out.size == 8_000
    assert set(out[20:-20].tolist()) == {1234}  # unity gain, exactly, away from the edges
    loud = resample(np.array([32767, -32768] * 1000, np.int16), ESPEAK_RATE, TELEPHONE_RATE)
    assert loud.dtype == np.int16  # saturates instead of wrapping


def test_same_input_same_bytes_and_same_rate_is_a_copy() -> None:
    rng = np.random.default_rng(7)
    noise = rng.integers(-20_000, 20_000, size=50_000).astype(np.int16)
    assert resample(noise, 22_050, 8_000).tobytes() == resample(noise, 22_050, 8_000).tobytes()
    assert resample(noise, 8_000, 8_000).tobytes() == noise.tobytes()
    with pytest.raises(ValueError, match="positive"):
        resample(noise, 0, 8_000)

"""``hotline prompts build`` with Debian's espeak-ng: every sound of the shipped configuration in
zh and en, as 8 kHz mono 16-bit WAV in Asterisk's layout, byte-identical when built again."""

from __future__ import annotations

import json
import os
import shutil
import wave
from array import array
from pathlib import Path

import pytest

from acd.cli.main import main
from acd.exitcodes import ExitCode
from acd.settings.loader import load_settings
from ivr.prompt_text import load_catalogue

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config"


def _needs_espeak() -> None:
    if shutil.which("espeak-ng") is None:
        reason = (
            "needs Debian's espeak-ng (apt-get install espeak-ng; scripts/test.sh does as root)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must build the prompts")
        pytest.skip(reason)


def build(out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code = main(["prompts", "build", "--config", str(CONFIG), "--out", str(out), "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.espeak
@pytest.mark.slow
def test_build_twice_gives_the_same_bytes_in_asterisks_layout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _needs_espeak()
    code, first = build(tmp_path / "a", capsys)
    assert code == ExitCode.OK
    assert first["missing"] == []
    files = first["files"]
    assert isinstance(files, list)
    languages = load_settings(CONFIG, require_secrets=False).ivr.languages
    assert len(files) == len(load_catalogue(CONFIG).for_languages(languages))
    assert {f["language"] for f in files} == {"zh", "en"}
    built = sorted(str(p.relative_to(tmp_path / "a")) for p in (tmp_path / "a").rglob("*.wav"))
    assert built == sorted(f["file"] for f in files)
    for name in ("hotline/zh/welcome.wav", "hotline/en/main-menu.wav", "zh/queue-thereare.wav",
                 "zh/digits/5.wav", "en/hotline-callback-offer.wav"):  # fmt: skip
        with wave.open(str(tmp_path / "a" / name), "rb") as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000), name
            samples = array("h", w.readframes(w.getnframes()))
        assert len(samples) > 8000 * 0.15, name  # speech, not an empty file
        assert max(map(abs, samples)) > 3000, name  # and not silence

    code, second = build(tmp_path / "b", capsys)
    assert code == ExitCode.OK
    assert [f["sha256"] for f in second["files"]] == [f["sha256"] for f in files]
    for name in built:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name

    # the built tree is what check-config --sounds accepts
    check = ["check-config", "--config", str(CONFIG), "--skip-secrets",
             "--dialplan", str(REPO / "dialplan"), "--sounds", str(tmp_path / "a")]  # fmt: skip
    assert main(check) == 0
    (tmp_path / "a" / "zh" / "digits" / "5.wav").unlink()
    assert main(check) == 2
    assert "sound digits/5 for zh callers" in capsys.readouterr().out


def test_without_espeak_ng_the_build_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng on it
    code = main(["prompts", "build", "--config", str(CONFIG), "--out", str(tmp_path / "out")])
    assert code == ExitCode.UNAVAILABLE
    assert (
        "espeak-ng is not installed (Debian: apt-get install espeak-ng)" in capsys.readouterr().err
    )
    assert not (tmp_path / "out").exists()

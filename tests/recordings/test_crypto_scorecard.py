"""Encryption at rest (AES-GCM) and scorecard scoring."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from acd.settings.schema_recording import Scorecard, ScorecardItem
from recordings.crypto import (
    DecryptionError,
    RecordingKeyError,
    decrypt_bytes,
    encrypt_bytes,
    encrypt_file,
    parse_key,
    read_recording,
)
from recordings.scorecard import ScoreError, compute_score, parse_answers
from tests.recordings.conftest import write_wav

KEY = bytes(range(32))


def test_key_forms() -> None:
    assert parse_key(KEY.hex()) == KEY
    assert parse_key(base64.b64encode(KEY).decode()) == KEY
    assert parse_key(base64.urlsafe_b64encode(KEY).decode()) == KEY
    for bad in ("", None, "abcd", base64.b64encode(bytes(16)).decode()):
        with pytest.raises(RecordingKeyError):
            parse_key(bad)


def test_round_trip_and_tamper_detection() -> None:
    blob = encrypt_bytes(KEY, b"RIFF audio")
    assert b"RIFF" not in blob
    assert decrypt_bytes(KEY, blob) == b"RIFF audio"
    with pytest.raises(DecryptionError):
        decrypt_bytes(bytes(32), blob)
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DecryptionError):
        decrypt_bytes(KEY, tampered)
    with pytest.raises(DecryptionError):
        decrypt_bytes(KEY, b"RIFF plain file")


def test_encrypt_file_in_place(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", [("tone", 0.5)])
    clear = path.read_bytes()
    encrypt_file(KEY, path)
    once = path.read_bytes()
    assert once != clear
    encrypt_file(KEY, path)  # already encrypted: left alone, not double-encrypted
    assert path.read_bytes() == once
    assert read_recording(path, KEY) == clear
    with pytest.raises(RecordingKeyError):
        read_recording(path, None)


CARD = Scorecard(
    id="mini",
    version=2,
    title="Mini",
    items=(
        ScorecardItem(id="greeting", text="g", weight=20),
        ScorecardItem(id="identity", text="i", weight=30, instant_fail=True),
        ScorecardItem(id="closing", text="c", weight=50),
    ),
)


def test_parse_answers() -> None:
    assert parse_answers("greeting=yes, identity=No,closing=na") == {
        "greeting": True,
        "identity": False,
        "closing": None,
    }
    for bad in ("greeting", "greeting=maybe", "a=yes,a=no", "=yes"):
        with pytest.raises(ScoreError):
            parse_answers(bad)


def test_weighted_score_and_na() -> None:
    full = compute_score(CARD, {"greeting": True, "identity": True, "closing": True})
    assert (full.score, full.instant_fail) == (100.0, False)
    partial = compute_score(CARD, {"greeting": False, "identity": True, "closing": True})
    assert partial.score == 80.0
    assert partial.failed_items == ("greeting",)
    na = compute_score(CARD, {"greeting": None, "identity": True, "closing": False})
    assert na.score == pytest.approx(37.5)


def test_instant_fail_scores_zero() -> None:
    result = compute_score(CARD, {"greeting": True, "identity": False, "closing": True})
    assert (result.score, result.instant_fail) == (0.0, True)


def test_answers_must_match_the_form() -> None:
    with pytest.raises(ScoreError, match=r"unanswered items \['closing'\]"):
        compute_score(CARD, {"greeting": True, "identity": True})
    with pytest.raises(ScoreError, match="unknown items"):
        compute_score(CARD, {"greeting": True, "identity": True, "closing": True, "x": True})

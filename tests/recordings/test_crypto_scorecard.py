"""Encryption at rest (AES-GCM) and scorecard scoring."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from acd.settings.schema_recording import Scorecard, ScorecardItem
from recordings.crypto import (
    LEGACY_MAGIC,
    DecryptionError,
    LegacyFormat,
    RecordingKeyError,
    decrypt_bytes,
    decrypt_legacy,
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
    blob = encrypt_bytes(KEY, b"RIFF audio", recording_id="c1")
    assert b"RIFF" not in blob
    assert decrypt_bytes(KEY, blob, recording_id="c1") == b"RIFF audio"
    with pytest.raises(DecryptionError):
        decrypt_bytes(bytes(32), blob, recording_id="c1")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DecryptionError):
        decrypt_bytes(KEY, tampered, recording_id="c1")
    with pytest.raises(DecryptionError):
        decrypt_bytes(KEY, b"RIFF plain file", recording_id="c1")


def test_a_file_decrypts_only_as_the_recording_and_part_it_was_written_for() -> None:
    blob = encrypt_bytes(KEY, b"RIFF call one", recording_id="c1")
    with pytest.raises(DecryptionError, match="another recording's file"):
        decrypt_bytes(KEY, blob, recording_id="c2")  # swapped with another call's file
    with pytest.raises(DecryptionError):
        decrypt_bytes(KEY, blob, recording_id="c1", part="in")  # a leg in the mix's place
    leg = encrypt_bytes(KEY, b"RIFF leg", recording_id="c1", part="out")
    assert decrypt_bytes(KEY, leg, recording_id="c1", part="out") == b"RIFF leg"


def test_format_1_files_are_refused_until_converted() -> None:
    nonce = bytes(12)
    legacy = LEGACY_MAGIC + nonce + AESGCM(KEY).encrypt(nonce, b"RIFF old", b"hotline-recording")
    with pytest.raises(LegacyFormat, match="hotline recordings reencrypt"):
        decrypt_bytes(KEY, legacy, recording_id="c1")
    assert decrypt_legacy(KEY, legacy) == b"RIFF old"


def test_encrypt_file_in_place(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", [("tone", 0.5)])
    clear = path.read_bytes()
    encrypt_file(KEY, path, recording_id="c1")
    once = path.read_bytes()
    assert once != clear
    assert path.stat().st_mode & 0o777 == 0o600
    encrypt_file(KEY, path, recording_id="c1")  # already encrypted: not double-encrypted
    assert path.read_bytes() == once
    assert read_recording(path, KEY, recording_id="c1") == clear
    with pytest.raises(RecordingKeyError):
        read_recording(path, None, recording_id="c1")


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

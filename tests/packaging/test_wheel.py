"""The built wheel carries what an installed hotline needs: every package, the migrations, the
type marker, the wallboard page, the console script, and config/ + dialplan/ as data."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_contents(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("hotline_acd-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("acd", "ivr", "recordings"):
        assert f"{package}/__init__.py" in names
        assert f"{package}/py.typed" in names
    assert any(n.startswith("acd/storage/migrations/versions/0001_") for n in names)
    assert "acd/storage/migrations/env.py" in names
    assert "ivr/data/asterisk-core-sounds-en-wav-1.6.1.txt" in names  # the sound check's list
    pages = ("wallboard.html", "wallboard.js", "signin.html", "signin.js", "hotline.css")
    for page in (*pages, "desk.html", "desk.js", "common.js"):
        assert f"acd/http/static/{page}" in names  # the pages load nothing from elsewhere
    data = [n for n in names if ".data/data/share/hotline/" in n]
    assert any(n.endswith("config/queues.yaml") for n in data)
    assert any(n.endswith("config/prompts.yaml") for n in data)
    assert any(n.endswith("dialplan/extensions.conf") for n in data)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "hotline = acd.cli.main:main" in text

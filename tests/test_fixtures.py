"""The recorded Asterisk traffic shipped as fixtures is what was recorded: every file matches the
SHA-256 sum in ``SHA256SUMS``, the README lists the same sums, and nothing unlisted lies there."""

from __future__ import annotations

import hashlib

from tests.transcripts import FIXTURES


def _sums() -> dict[str, str]:
    sums: dict[str, str] = {}
    for line in (FIXTURES / "SHA256SUMS").read_text(encoding="ascii").splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name] = digest
    return sums


def test_every_fixture_is_byte_identical_to_the_recording() -> None:
    sums = _sums()
    assert len(sums) >= 10
    for name, digest in sums.items():
        assert hashlib.sha256((FIXTURES / name).read_bytes()).hexdigest() == digest, name


def test_nothing_unlisted_and_the_readme_agrees() -> None:
    sums = _sums()
    present = {
        str(p.relative_to(FIXTURES))
        for p in FIXTURES.rglob("*")
        if p.is_file() and p.name not in {"README.md", "SHA256SUMS"}
    }
    assert present == set(sums)
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    for name, digest in sums.items():
        assert f"| `{name}` | `{digest}` |" in readme

"""``hotline users add|list|rotate|revoke`` on a real SQLite file: the key is shown once and
stored only as a hash, every change is audited, and bad requests get the right exit code."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from acd.cli.main import main

CONFIG = Path(__file__).resolve().parents[2] / "config"


def users(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["users", *argv, "--db", f"sqlite:///{db}", "--config", str(CONFIG)])
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_rotate_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "hotline.db"
    code, out, _ = users(capsys, db, "add", "li.na", "--role", "agent", "--agent", "1001",
                         "--name", "Li Na", "--by", "admin-ops", "--json")  # fmt: skip
    assert code == 0
    added = json.loads(out)
    key = added["key"]
    assert key.startswith("hlk_")
    assert added["user"]["agent"] == "1001"
    with sqlite3.connect(db) as conn:
        stored = conn.execute("select key_id, key_sha256 from users").fetchall()
        dump = "\n".join(conn.iterdump())
    assert key not in dump  # only the hash is kept
    secret = key.split("_", 2)[2]  # hlk_<key id>_<secret>
    assert stored == [(added["user"]["key_id"], hashlib.sha256(secret.encode()).hexdigest())]
    code, out, _ = users(capsys, db, "list", "--json")
    assert code == 0
    listed = json.loads(out)["users"]
    assert [u["id"] for u in listed] == ["li.na"]
    assert key not in out
    assert secret not in out
    code, out, _ = users(capsys, db, "rotate", "li.na", "--json")
    new_key = json.loads(out)["key"]
    assert code == 0
    assert new_key != key
    code, out, _ = users(capsys, db, "revoke", "li.na")
    assert code == 0
    assert "revoked" in out
    code, _, err = users(capsys, db, "revoke", "li.na")
    assert code == 1
    assert "is revoked" in err
    with sqlite3.connect(db) as conn:
        audit = conn.execute("select who, action, target from audit_log order by id").fetchall()
    assert audit[0] == ("admin-ops", "user.add", "user:li.na")
    assert [a[1] for a in audit] == ["user.add", "user.rotate", "user.revoke"]
    assert db.stat().st_mode & 0o777 == 0o600


def test_the_table_shows_the_key_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "hotline.db"
    code, out, _ = users(capsys, db, "add", "zhao", "--role", "supervisor", "--supervisor", "zhao")
    assert code == 0
    assert "key (shown once, not stored): hlk_" in out
    code, out, _ = users(capsys, db, "list")
    assert code == 0
    assert "zhao" in out
    assert "hlk_" not in out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["add", "ann", "--role", "agent"], 2, "needs --agent"),
        (["add", "ann", "--role", "qa", "--agent", "1001"], 2, "only for --role agent"),
        (["add", "ann", "--role", "agent", "--agent", "9999"], 2, "unknown agent '9999'"),
        (["add", "ann", "--role", "supervisor", "--supervisor", "x"], 2, "unknown supervisor"),
        (["add", "Ann Smith", "--role", "viewer"], 2, "USER expected"),
        (["rotate", "nobody"], 1, "no user nobody"),
    ],
)
def test_refusals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    got, _, err = users(capsys, tmp_path / "hotline.db", *argv)
    assert got == code
    assert message in err


def test_a_name_is_added_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "hotline.db"
    assert users(capsys, db, "add", "tv-1", "--role", "viewer", "--service")[0] == 0
    code, _, err = users(capsys, db, "add", "tv-1", "--role", "admin")
    assert code == 1
    assert "exists already" in err

"""``hotline check-config`` and ``hotline dialplan render`` through acd.cli.main.main."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from acd.cli.main import main
from tests.settings.conftest import SECRETS, SHIPPED_CONFIG, SHIPPED_DIALPLAN, Edit


@pytest.fixture
def dialplan_dir(tmp_path: Path) -> Path:
    target = tmp_path / "dialplan"
    shutil.copytree(SHIPPED_DIALPLAN, target)
    return target


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)


def check(config: Path, dialplan: Path, *extra: str) -> int:
    return main(["check-config", "--config", str(config), "--dialplan", str(dialplan), *extra])


@pytest.mark.usefixtures("secrets_env")
def test_valid_config_exits_0_with_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert check(SHIPPED_CONFIG, SHIPPED_DIALPLAN) == 0
    out = capsys.readouterr().out
    assert "after_sales" in out
    assert "6 agents, 4 IVR menus: config is valid" in out


def test_unset_secrets_exit_2_unless_skipped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in SECRETS:
        monkeypatch.delenv(key, raising=False)
    assert check(SHIPPED_CONFIG, SHIPPED_DIALPLAN) == 2
    out = capsys.readouterr().out
    assert "hotline.yaml: ami.secret_env: environment variable HOTLINE_AMI_SECRET is not set" in out
    assert check(SHIPPED_CONFIG, SHIPPED_DIALPLAN, "--skip-secrets") == 0


@pytest.mark.usefixtures("secrets_env")
def test_invalid_config_exits_2_listing_every_error(
    config_dir: Path, edit: Edit, capsys: pytest.CaptureFixture[str]
) -> None:
    edit("queues.yaml", lambda d: d["queues"][2]["relax"][0].update(after_s="soon"))
    edit("agents.yaml", lambda d: d["agents"][0].update(badge=7))
    assert check(config_dir, SHIPPED_DIALPLAN) == 2
    lines = capsys.readouterr().out.splitlines()
    assert "queues.yaml: queues[2].relax[0].after_s: expected a valid number, got 'soon'" in lines
    assert any(line.startswith("agents.yaml: agents[0].badge: unknown key") for line in lines)
    assert lines[-1] == "2 problem(s) found"


@pytest.mark.usefixtures("secrets_env")
def test_json_output(config_dir: Path, edit: Edit, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(SHIPPED_CONFIG, SHIPPED_DIALPLAN, "--json") == 0
    ok = json.loads(capsys.readouterr().out)
    assert ok["ok"] is True
    assert ok["summary"]["agents"] == 6
    assert [q["name"] for q in ok["summary"]["queues"]] == [
        "orders",
        "after_sales",
        "complaints",
        "enquiries",
    ]
    edit("targets.yaml", lambda d: d.update(csat=2))
    assert check(config_dir, SHIPPED_DIALPLAN, "--json") == 2
    bad = json.loads(capsys.readouterr().out)
    assert bad["ok"] is False
    assert bad["errors"] == [
        {
            "file": "targets.yaml",
            "path": "csat",
            "message": "expected less than or equal to 1, got 2",
            "text": "targets.yaml: csat: expected less than or equal to 1, got 2",
        }
    ]


@pytest.mark.usefixtures("secrets_env")
def test_dialplan_with_unknown_route_exits_2(
    dialplan_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = dialplan_dir / "extensions.conf"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("/agent?action=logout", "/agents?action=logout"))
    assert check(SHIPPED_CONFIG, dialplan_dir) == 2
    out = capsys.readouterr().out
    assert (
        "unknown AGI route 'agents' (expected one of ['ivr', 'agent', 'callback', 'resume'])" in out
    )
    bad = "-exten => *12,1,AGI(agi://127.0.0.1:4573/agents?action=logout&key=${HOTLINE_AGI_KEY})"
    assert bad in out  # the diff


@pytest.mark.usefixtures("secrets_env")
def test_dialplan_without_done_check_exits_2(
    dialplan_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = dialplan_dir / "extensions.conf"
    kept = [
        line
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
        if "${HOTLINE_DONE}" not in line
    ]
    path.write_text("".join(kept))
    assert check(SHIPPED_CONFIG, dialplan_dir) == 2
    out = capsys.readouterr().out
    assert "dialplan/extensions.conf: [hotline-resume]: missing the HOTLINE_DONE check" in out


@pytest.mark.usefixtures("secrets_env")
def test_stale_queues_conf_is_reported(
    config_dir: Path, edit: Edit, capsys: pytest.CaptureFixture[str]
) -> None:
    edit("queues.yaml", lambda d: d["queues"][0].update(name="sales"))

    def rename_in_ivr(d: dict[str, Any]) -> None:
        for menu in d["menus"]:
            for action in (*menu["options"].values(), menu["default_action"]):
                if action.get("queue") == "orders":
                    action["queue"] = "sales"

    edit("ivr.yaml", rename_in_ivr)
    assert check(config_dir, SHIPPED_DIALPLAN, "--skip-secrets") == 2
    out = capsys.readouterr().out
    assert "dialplan/queues.conf: [sales]: queue missing from queues.conf" in out
    assert "dialplan/queues.conf: [orders]: queue not in queues.yaml" in out
    assert "dialplan/queues.conf: stale: differs from `hotline dialplan render`" in out


def test_render_writes_what_check_accepts(tmp_path: Path) -> None:
    out = tmp_path / "rendered"
    assert main(["dialplan", "render", "--config", str(SHIPPED_CONFIG), "--out", str(out)]) == 0
    for path in SHIPPED_DIALPLAN.iterdir():
        assert (out / path.name).read_bytes() == path.read_bytes()
    assert check(SHIPPED_CONFIG, out, "--skip-secrets") == 0


def test_render_with_invalid_config_exits_2(config_dir: Path, tmp_path: Path) -> None:
    (config_dir / "agents.yaml").unlink()
    out = tmp_path / "rendered"
    assert main(["dialplan", "render", "--config", str(config_dir), "--out", str(out)]) == 2
    assert not out.exists()

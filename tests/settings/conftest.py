"""Fixtures: the shipped config/ and dialplan/, a writable copy of config/, and secret env vars."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SHIPPED_CONFIG = REPO / "config"
SHIPPED_DIALPLAN = REPO / "dialplan"

# Fixed values shaped like secrets.token_urlsafe(24): 128+ bits each, all different.
SECRETS = {
    "HOTLINE_AMI_SECRET": "Wq3nT8vYp2LmZ5cR0xKd7fHs",
    "HOTLINE_AGI_KEY": "b9EuQ1rV6tNw4yXa0sJg3kPz",
    "HOTLINE_TOKEN_VIEWER": "Vh5mC2qL8wT1zR6yN3pK0dFx",
    "HOTLINE_TOKEN_SUPERVISOR": "Sj7fR4kW1nB9vM3xQ6tY0cLp",
    "HOTLINE_TOKEN_QA": "Qa2zX8mN5bV1cL7kJ4hG0fDs",
    "HOTLINE_TOKEN_ADMIN": "Ad9pO6iU3yT0rE7wQ4zX1cVb",
}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of the shipped config that a test may break."""
    target = tmp_path / "config"
    shutil.copytree(SHIPPED_CONFIG, target)
    return target


Edit = Callable[[str, Callable[[dict[str, Any]], None]], None]


@pytest.fixture
def edit(config_dir: Path) -> Edit:
    """``edit("queues.yaml", fn)``: load the file, let ``fn`` mutate the data, write it back."""

    def apply(name: str, change: Callable[[dict[str, Any]], None]) -> None:
        path = config_dir / name
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    return apply

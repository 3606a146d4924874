"""The package layering holds: the kernel (``acd``) never imports the feature packages; only the
composition layer (``acd.cli``) wires them in. Feature packages import only the kernel."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FEATURES = ("ivr", "recordings")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_the_kernel_does_not_import_feature_packages() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {sorted(_imports(path) & set(FEATURES))}"
        for path in _modules("acd")
        if "cli" not in path.relative_to(ROOT / "acd").parts[:1] and _imports(path) & set(FEATURES)
    ]
    assert offenders == []


@pytest.mark.parametrize("feature", FEATURES)
def test_feature_packages_do_not_import_each_other(feature: str) -> None:
    others = set(FEATURES) - {feature}
    offenders = [str(p.relative_to(ROOT)) for p in _modules(feature) if _imports(p) & others]
    assert offenders == []


def test_config_and_dialplan_are_never_imported() -> None:
    for package in ("acd", *FEATURES):
        for path in _modules(package):
            assert not _imports(path) & {"config", "dialplan"}, path

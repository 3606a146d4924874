"""One exit-code enum (``acd.exitcodes``): no module keeps its own numbers, the feature packages
do not reach into the command line for them, and the README promises exactly these codes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from acd.exitcodes import ExitCode

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("acd", "ivr", "recordings")


def _sources() -> list[Path]:
    return [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]


def _assigned_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name):
                    names.add(leaf.id)
    return names


def test_no_module_defines_its_own_exit_codes() -> None:
    offenders = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        own = sorted(n for n in _assigned_names(tree) if n.startswith("EXIT_"))
        if own:
            offenders.append(f"{path.relative_to(ROOT)}: {own}")
    assert offenders == []


def test_feature_packages_do_not_import_the_command_line() -> None:
    offenders = []
    for package in ("ivr", "recordings"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("acd.cli"):
                    offenders.append(f"{path.relative_to(ROOT)} imports {node.module}")
    assert offenders == []


def test_the_readme_promises_the_enum() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    paragraph = readme.split("Exit codes (`acd/exitcodes.py`):", 1)[1].split("\n\n", 1)[0]
    promised = {int(code) for code in re.findall(r"(?<![\d.])(\d{1,3}) ", paragraph)}
    assert promised == {int(code) for code in ExitCode}

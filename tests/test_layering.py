"""The layering, as code: purity of the cores, the direction of imports, the feature boundary.

Every import is scanned, function-level ones included (``ast.walk``), relative ones resolved.

- **Purity**: the engine and the protocol cores (and the daemon's pure modules) import no
  asyncio, sockets, threads, logging or clock, and never call ``datetime.now()`` and the like:
  time is a parameter.
- **Direction**: ``acd.engine`` <- ``acd.daemon`` <- ``acd.http`` <- ``acd.app`` <- ``acd.cli``;
  a layer never imports one to its right, and the shared packages (settings, storage, events,
  asterisk, reports, sim, kpi, logging) import none of those five but the engine.
- **Features**: ``ivr`` and ``recordings`` import only the kernel's public modules; the kernel
  reaches them only from the composition layer ``acd.cli``.
The checker is tested on synthetic modules too, so each rule can fail.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FEATURES = ("ivr", "recordings")

PURE = (
    "acd.engine",
    "acd.asterisk.ami",
    "acd.asterisk.agi",
    "acd.asterisk.errors",
    "acd.asterisk.devices",
    "acd.asterisk.queue_log",
    "acd.asterisk.cdr_csv",
    "acd.kpi",
    "acd.reports.fallback_calls",
    # the daemon's own pure parts: the call model and the waiting and call-back decisions
    "acd.daemon.call_steps",
    "acd.daemon.call_state",
    "acd.daemon.call_events",
    "acd.daemon.wait_policy",
    "acd.daemon.callback_policy",
)
IMPURE_IMPORTS = (
    "asyncio",
    "socket",
    "selectors",
    "ssl",
    "threading",
    "logging",
    "structlog",
    "acd.logging",
    "time",
)
CLOCK_CALLS = frozenset({"now", "utcnow", "today"})  # on datetime / date

LAYERS = {"acd.engine": 0, "acd.daemon": 1, "acd.http": 2, "acd.app": 3, "acd.cli": 4}
# What the cores may use of the rest of ``acd``: nothing but themselves.
CORE_OWN = {
    "acd.engine": ("acd.engine", "acd.asterisk.devices"),
    "acd.asterisk.ami": ("acd.asterisk.ami", "acd.asterisk.errors"),
    "acd.asterisk.agi": ("acd.asterisk.agi", "acd.asterisk.errors"),
    "acd.kpi": (),
}
PUBLIC_TO_FEATURES = (
    "acd.asterisk.agi",
    "acd.asterisk.aio.agi_session",
    "acd.logging",
    "acd.settings",
    "acd.storage",
    "acd.engine.model",
    "acd.identity.principal",
    "acd.daemon.ivr_port",
    "acd.daemon.sound_names",
    "acd.http.deps",
    "acd.exitcodes",
)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module (for ``from x import y``: x, and x.y as ``also``)
    also: str | None
    line: int


def under(name: str, prefixes: tuple[str, ...] | list[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path) -> Iterator[Import]:
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, alias.name, None, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield Import(name, base, f"{base}.{alias.name}", node.lineno)


def clock_calls(path: Path) -> list[int]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        if node.func.attr in CLOCK_CALLS and owner_name in ("datetime", "date"):
            found.append(node.lineno)
    return found


def modules(root: Path, packages: tuple[str, ...]) -> list[Path]:
    return sorted(p for package in packages for p in (root / package).rglob("*.py"))


def layer_of(name: str) -> int | None:
    for prefix, rank in LAYERS.items():
        if under(name, [prefix]):
            return rank
    return 0 if under(name, ["acd"]) else None  # shared packages sit with the engine


def violations(root: Path) -> list[str]:
    """Every broken rule under ``root`` (a tree holding ``acd``, ``ivr``, ``recordings``)."""
    found: list[str] = []
    for path in modules(root, ("acd", *FEATURES)):
        where = str(path.relative_to(root))
        name = module_name(path, root)
        pure = under(name, list(PURE))
        if pure:
            found += [f"{where}:{line}: calls the clock" for line in clock_calls(path)]
        for imp in imports_of(path, root):
            target = imp.target
            at = f"{where}:{imp.line}"
            if pure and under(target, list(IMPURE_IMPORTS)):
                found.append(f"{at}: pure core imports {target}")
            own = next((v for k, v in CORE_OWN.items() if under(name, [k])), None)
            if own is not None and under(target, ["acd"]) and not under(target, list(own)):
                found.append(f"{at}: core imports {target} (only {', '.join(own) or 'itself'})")
            mine, theirs = layer_of(name), layer_of(target)
            if under(name, ["acd"]) and mine is not None and theirs is not None and theirs > mine:
                found.append(f"{at}: {name} imports {target}, a layer above it")
            if under(name, ["acd"]) and not under(name, ["acd.cli"]) and under(target, FEATURES):
                found.append(f"{at}: the kernel imports the feature package {target}")
            feature = next((f for f in FEATURES if under(name, [f])), None)
            if feature is not None:
                if under(target, [f for f in FEATURES if f != feature]):
                    found.append(f"{at}: {feature} imports another feature, {target}")
                public = under(target, PUBLIC_TO_FEATURES) or (
                    imp.also is not None and under(imp.also, PUBLIC_TO_FEATURES)
                )
                if under(target, ["acd"]) and not public:
                    found.append(f"{at}: {feature} imports {target}, not a public kernel module")
    return found


def test_the_code_base_keeps_its_layering() -> None:
    assert violations(ROOT) == []


def test_config_and_dialplan_are_never_imported() -> None:
    for path in modules(ROOT, ("acd", *FEATURES)):
        targets = {imp.target.split(".")[0] for imp in imports_of(path, ROOT)}
        assert not targets & {"config", "dialplan"}, path


SYNTHETIC = {
    "acd/__init__.py": "",
    "acd/engine/__init__.py": "",
    "acd/engine/routing.py": (
        "from datetime import datetime\n"
        "def route():\n"
        "    import asyncio\n"  # function-level imports count too
        "    from acd.logging import get_logger\n"
        "    return datetime.now()\n"
    ),
    "acd/engine/floor.py": "from acd.settings import names\nfrom . import routing\n",
    "acd/daemon/__init__.py": "",
    "acd/daemon/call_flow.py": "from acd.http import deps\n",
    "acd/daemon/agent.py": "import recordings.catalogue\n",
    "acd/storage/__init__.py": "",
    "acd/storage/writer.py": "from ..daemon import outputs\n",
    "acd/cli/__init__.py": "",
    "acd/cli/features.py": "import recordings\n",
    "ivr/__init__.py": "",
    "ivr/menu.py": "from acd.http.routes_floor import Ctx\nimport recordings\n",
    "recordings/__init__.py": "",
    "recordings/routes.py": "from acd.http import deps\nfrom acd.daemon.ivr_port import Features\n",
}


@pytest.fixture
def synthetic(tmp_path: Path) -> Path:
    for name, text in SYNTHETIC.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_the_checker_flags_each_kind_of_violation(synthetic: Path) -> None:
    found = "\n".join(violations(synthetic))
    expected = [
        "acd/engine/routing.py:5: calls the clock",
        "acd/engine/routing.py:3: pure core imports asyncio",
        "acd/engine/routing.py:4: pure core imports acd.logging",
        "acd/engine/floor.py:1: core imports acd.settings",
        "acd/daemon/call_flow.py:1: acd.daemon.call_flow imports acd.http, a layer above it",
        "acd/daemon/agent.py:1: the kernel imports the feature package recordings.catalogue",
        "acd/storage/writer.py:1: acd.storage.writer imports acd.daemon, a layer above it",
        "ivr/menu.py:1: ivr imports acd.http.routes_floor, not a public kernel module",
        "ivr/menu.py:2: ivr imports another feature, recordings",
    ]
    for line in expected:
        assert line in found
    # what is allowed stays quiet: the composition layer, public modules, own-core imports
    assert "acd/cli/features.py" not in found
    assert "recordings/routes.py" not in found
    assert "acd/engine/floor.py:2" not in found

"""The README's install step substitutes exactly the placeholders the rendered Asterisk files
carry, file by file, and copies the others untouched (a plain envsubst blanks ${CHANNEL},
${UNIQUEID}, ${AGISTATUS} and the dialplan's channel variables)."""

from __future__ import annotations

import re
from pathlib import Path

from acd.settings import names

ROOT = Path(__file__).resolve().parents[1]
# Channel variables the dialplan itself reads and sets (acd.settings.names) are Asterisk's to
# expand at run time; every other ${HOTLINE_...} in a rendered file is an install placeholder.
CHANNEL_VARIABLES = {v for k, v in vars(names).items() if k.startswith("VAR_")}
PLACEHOLDER = re.compile(r"\$\{(HOTLINE_[A-Z0-9_]+)\}")


def _install_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### 2. Install the Asterisk side", 1)[1].split("### 3.", 1)[0]
    return section.split("```sh", 1)[1].split("```", 1)[0].replace("\\\n", " ")


def test_each_file_gets_exactly_its_placeholders() -> None:
    block = _install_block()
    substituted: dict[str, set[str]] = {}
    for line in block.splitlines():
        found = re.search(r"envsubst '([^']*)'\s*<\s*dialplan/(\S+)", line)
        if found:
            substituted[found.group(2)] = set(re.findall(r"\$\{(\w+)\}", found.group(1)))
    carried = {
        path.name: set(PLACEHOLDER.findall(path.read_text(encoding="utf-8"))) - CHANNEL_VARIABLES
        for path in sorted((ROOT / "dialplan").glob("*.conf"))
    }
    assert substituted == {name: names for name, names in carried.items() if names}
    copied = re.search(r"^cp (.*) /etc/asterisk/$", block, re.MULTILINE)
    assert copied is not None
    untouched = {Path(p).name for p in copied.group(1).split()}
    assert untouched == {name for name, names in carried.items() if not names}
    assert "${CHANNEL}" in (ROOT / "dialplan" / "extensions.conf").read_text(encoding="utf-8")
